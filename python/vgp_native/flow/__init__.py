from __future__ import annotations

from . import theory

__all__ = ["theory"]
