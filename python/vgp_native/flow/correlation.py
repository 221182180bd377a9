"""Shattered gradients: how the input gradient of a deep network varies along its input.

Balduzzi et al. (2017, "The shattered gradients problem: If resnets are the
answer, then what is the question?", ICML) feed a network with one input and
one output the points of a 1-D grid ``x_1 < x_2 < ... < x_n`` and look at the
gradient ``g_i = dy/dx (x_i)`` at fixed weights. In a shallow relu network
``g`` is piecewise constant and changes little from one grid point to the
next (like brown noise); in a deep plain network it jumps at every point
(like white noise): the gradients are *shattered*, so a gradient step
computed at one input says little about its neighbours. Their measure is the
autocorrelation function of the sequence ``g`` (their Fig. 3, Sec. 2), which
for white noise is 0 at every lag > 0 and for brown noise stays near 1. They
show it falls like ``2^-L`` with the depth ``L`` of a plain relu network
(Theorem 1) and only like ``L^-1/2`` in residual networks with batch
normalization (Theorem 3).

The autocorrelation at lag ``k`` is the sample autocorrelation of a series
(Box & Jenkins)::

    r_k = sum_{i=1}^{n-k} (g_i - gbar) (g_{i+k} - gbar) / sum_{i=1}^{n} (g_i - gbar)^2,

``gbar`` the mean of ``g``; ``r_0 = 1`` and ``|r_k| <= 1``. It is undefined
(NaN) when ``g`` is constant along the grid (a linear network).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_int
from .jacobian import input_output_jacobian

__all__ = ["autocorrelation", "gradient_correlation"]


def autocorrelation(g: Any, max_lag: int = 1) -> np.ndarray:
    """Sample autocorrelation ``r_0 .. r_max_lag`` of a series (module docstring).

    Args:
        g: the series, 1-D, finite, at least ``max_lag + 2`` values.
        max_lag: the largest lag (>= 0).

    Returns:
        ``(max_lag + 1,)`` float64 array; all NaN when ``g`` is constant.

    Example: ``g = [1, 2, 3, 4]`` has mean 2.5 and deviations
    ``[-1.5, -0.5, 0.5, 1.5]`` whose squares sum to 5; the lag-1 products
    ``0.75 - 0.25 + 0.75`` sum to 1.25, so ``r_1 = 0.25``.
    """
    max_lag = check_int(max_lag, "max_lag", minimum=0)
    arr = np.asarray(g)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"g must be a numeric array, received dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise ValueError(f"g must be 1-D, received shape {arr.shape}")
    if arr.size < max_lag + 2:
        raise ValueError(
            f"g needs at least max_lag + 2 = {max_lag + 2} values, received {arr.size}"
        )
    if not np.isfinite(arr).all():
        raise ValueError("g must be finite (it holds NaN or Inf)")
    dev = arr - arr.mean()
    denom = float(dev @ dev)
    # Constant up to rounding (spread below 1e-12 of the largest value): undefined.
    if denom <= arr.size * (1e-12 * float(np.max(np.abs(arr)))) ** 2:
        return np.full(max_lag + 1, math.nan)
    n = arr.size
    return np.correlate(dev, dev, mode="full")[n - 1 : n + max_lag] / denom


def _grid(X: Any) -> np.ndarray:
    """``X`` as an increasing, evenly spaced 1-D float64 grid."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"X must be a numeric array, received dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"X must be a 1-D grid of shape (n,) or (n, 1), received {arr.shape}")
    if arr.size < 3:
        raise ValueError(f"X must hold at least 3 grid points, received {arr.size}")
    if not np.isfinite(arr).all():
        raise ValueError("X must be finite (it holds NaN or Inf)")
    steps = np.diff(arr)
    if not (steps > 0).all():
        raise ValueError("X must be strictly increasing (a grid along the input)")
    # 1e-3: loose enough for a float32 grid's rounding, tight enough to mean even.
    if np.ptp(steps) > 1e-3 * steps.mean():
        raise ValueError(
            "X must be evenly spaced: lags count grid steps, received steps from "
            f"{steps.min():.3g} to {steps.max():.3g}"
        )
    return arr


def gradient_correlation(model: Any, X: Any, max_lag: int = 1) -> dict[str, Any]:
    """Input gradient of a scalar network along a 1-D grid and its autocorrelation.

    ``g_i = dy/dx`` at each grid point ``x_i`` at the model's current weights,
    in inference mode (dropout off, batch normalization with its moving
    statistics, so ``y`` is a function of each input alone), from the native
    backward pass (``flow.input_output_jacobian``, one call for the whole
    grid). Then ``r_k`` as in the module docstring (Balduzzi et al. 2017):
    near 1 for a smooth gradient, near 0 for a shattered one.

    Args:
        model: a compiled ``Sequential`` with one input and one output unit.
        X: the grid, ``(n,)`` or ``(n, 1)``, strictly increasing and evenly
            spaced, ``n >= max_lag + 2``.
        max_lag: the largest lag of the autocorrelation returned (>= 1).

    Returns:
        ``{"x": (n,), "gradient": (n,), "autocorrelation": r_1, "acf": (max_lag + 1,)}``
        (float64 arrays; ``acf[k] = r_k``; NaN where the gradient is constant).

    Raises:
        ValueError: the model is not compiled, does not map 1 input to 1 output,
            or ``X`` is not such a grid.
    """
    max_lag = check_int(max_lag, "max_lag", minimum=1)
    if not getattr(model, "compiled", False):
        raise ValueError(
            "gradient_correlation needs a compiled model; call model.compile(...) first"
        )
    x = _grid(X)
    if x.size < max_lag + 2:
        raise ValueError(f"X needs at least max_lag + 2 = {max_lag + 2} points, received {x.size}")
    if model.input_dim not in (None, 1):
        raise ValueError(f"the model must take 1 input feature, it takes {model.input_dim}")
    jac = input_output_jacobian(model, x[:, None])
    if jac.shape[1:] != (1, 1):
        raise ValueError(
            f"the model must have one output unit, it has {jac.shape[1]} (a scalar y is "
            "needed for dy/dx)"
        )
    g = jac[:, 0, 0]
    acf = autocorrelation(g, max_lag) if np.isfinite(g).all() else np.full(max_lag + 1, math.nan)
    return {"x": x, "gradient": g, "autocorrelation": float(acf[1]), "acf": acf}
