"""Rates of decay fitted to measurements against depth: exponential and power law.

Both fit a straight line to ``log r`` by least squares, over the points above a
floor (below it a measurement is noise, and its logarithm is undefined at 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["fit_exponential", "fit_power"]


def _fit_line(u: np.ndarray, v: np.ndarray, floor: float) -> tuple[float, float, np.ndarray]:
    """Slope and intercept of ``log v`` against ``u`` over the points with ``v > floor``,
    and the mask of those points (NaN slope and intercept with fewer than 2)."""
    keep = np.isfinite(v) & (v > floor)
    if keep.sum() < 2:
        return math.nan, math.nan, keep
    slope, icept = np.polyfit(u[keep], np.log(v[keep]), 1)
    return float(slope), float(icept), keep


def fit_exponential(depths: Any, r: Any, floor: float) -> dict[str, Any]:
    """``r = A b^L`` by least squares on ``log r`` over the depths with ``r > floor``.

    Returns:
        ``{"factor": b, "amplitude": A, "points": count, "depths": the depths used}``
        (NaN with fewer than 2).
    """
    d, v = np.asarray(depths, dtype=float), np.asarray(r, dtype=float)
    slope, icept, keep = _fit_line(d, v, floor)
    used = [int(k) for k in d[keep]]
    return {
        "factor": math.exp(slope),
        "amplitude": math.exp(icept),
        "points": len(used),
        "depths": used,
    }


def fit_power(depths: Any, r: Any, floor: float = 0.0) -> dict[str, Any]:
    """``r = A L^-alpha`` by least squares on ``log r`` against ``log L`` (``r > floor``).

    Returns:
        ``{"alpha": alpha, "amplitude": A, "points": count, "depths": the depths used}``
        (NaN with fewer than 2; ``alpha < 0`` for a growing ``r``).
    """
    d, v = np.asarray(depths, dtype=float), np.asarray(r, dtype=float)
    slope, icept, keep = _fit_line(np.log(d), v, floor)
    used = [int(k) for k in d[keep]]
    return {"alpha": -slope, "amplitude": math.exp(icept), "points": len(used), "depths": used}
