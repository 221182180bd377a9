"""Writing files whole, for sweeps: the package's one atomic writer, re-exported.

A reader (or a resumed sweep) sees either the old file or the complete new
one, never a half-written one, even when the writer is interrupted; see
:mod:`vgp_native._atomic`.
"""

from __future__ import annotations

from .._atomic import atomic_write_text, remove_stale_temporaries

__all__ = ["atomic_write_text", "remove_stale_temporaries"]
