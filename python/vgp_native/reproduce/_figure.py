"""Figures of the reproductions: plain matplotlib ``Figure`` objects, not pyplot's.

A ``Figure`` made here is not registered with pyplot, so running many presets
never piles up open figures, and it works on any backend (it saves through
Agg). The colours are the package's colour-blind-safe palette.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..plots import PALETTE

__all__ = ["PALETTE", "panels", "seeds_from"]


def panels(ncols: int, width: float = 4.6, height: float = 3.6, nrows: int = 1) -> Any:
    """A new ``Figure`` with ``nrows x ncols`` axes (a flat list), laid out without overlaps."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    return fig, axes


def seeds_from(seed: int, count: int) -> list[int]:
    """``count`` independent model seeds derived from ``seed`` (``np.random.SeedSequence``)."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(count)]
