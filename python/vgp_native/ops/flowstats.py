"""Checked wrappers of the gradient-flow statistics kernels (cpp/ops/flowstats).

Public through :mod:`vgp_native.ops`; see there for the conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .. import activations as _activations
from .._validation import check_float, check_int, float_array
from .._validation import common_dtype as _dtype_of


def buffer_stats(x: Any) -> dict[str, float | int]:
    """Statistics of a gradient, signal or weight buffer, in one pass.

    Returns:
        ``{"l2", "sumsq", "mean_abs", "max_abs", "nonfinite"}``: ``l2 = √Σx²``
        (NaN when any element is NaN or Inf), ``sumsq = Σx²``, mean and max of
        ``|x|`` (NaN propagates to ``max_abs``), number of NaN/Inf elements.
    """
    return _core.buffer_stats(float_array(x, "x", _dtype_of(x)))


def buffer_norm(x: Any) -> dict[str, float | int]:
    """The L2 norm of a buffer alone: ``buffer_stats`` without the magnitudes.

    Returns:
        ``{"l2", "sumsq", "nonfinite"}``, bit for bit those of ``buffer_stats``.
    """
    return _core.buffer_norm(float_array(x, "x", _dtype_of(x)))


def _histogram_range(y: np.ndarray, name: str, value: Any) -> tuple[float, float]:
    if value is not None:
        try:
            lo, hi = value
        except (TypeError, ValueError) as exc:
            raise TypeError(f"range must be a pair (lo, hi), received {value!r}") from exc
        lo = check_float(lo, "range[0]")
        hi = check_float(hi, "range[1]")
        if not lo < hi:
            raise ValueError(f"range must satisfy lo < hi, received ({lo}, {hi})")
        return lo, hi
    bounds = _activations.REGISTRY[name].output_bounds
    if bounds is not None:
        return bounds
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


def activation_stats(
    y: Any, activation: str | None, bins: int = 20, range: tuple[float, float] | None = None
) -> dict[str, Any]:
    """Statistics of a layer's activation output ``y`` for the gradient-flow report.

    ``saturated``: fraction of elements within 1e-2 of the bounds of sigmoid
    (``y < 0.01`` or ``y > 0.99``) or tanh (``|y| > 0.99``), where the
    derivative vanishes. ``dead``: fraction of units (columns) off for every
    row (relu ``y <= 0``; leaky_relu, elu, selu ``y < 0``).

    Args:
        y: ``(batch, features)`` activation output.
        activation: the activation that produced ``y``.
        bins: number of equal histogram bins, >= 1.
        range: ``(lo, hi)`` of the histogram; values outside count in the end
            bins, NaN/Inf are not counted. Default: the activation's bounds for
            sigmoid, softmax and tanh, else the finite min and max of ``y``.

    Returns:
        ``{"mean", "std", "saturated", "dead", "nonfinite", "hist", "bin_edges"}``.
    """
    y = float_array(y, "y", _dtype_of(y), ndim=2)
    name = _activations.get(activation)
    nbins = check_int(bins, "bins", minimum=1)
    lo, hi = _histogram_range(y, name, range)
    hist = np.zeros(nbins, dtype=np.int64)
    stats = _core.activation_stats(y, _activations.code(name), hist, lo, hi)
    stats["hist"] = hist
    stats["bin_edges"] = np.linspace(lo, hi, nbins + 1)
    return stats
