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

Two estimators, two questions (``over``):

- ``over="grid"`` (their Figs. 1-2): one network, its gradient along the grid
  as a series, and the sample autocorrelation of that series at lag ``k``
  (Box & Jenkins)::

      r_k = sum_{i=1}^{n-k} (g_i - gbar) (g_{i+k} - gbar) / sum_{i=1}^{n} (g_i - gbar)^2,

  ``gbar`` the mean of ``g``; ``r_0 = 1`` and ``|r_k| <= 1``. It is undefined
  (NaN) when ``g`` is constant along the grid (a linear network).
- ``over="weights"`` (their Theorems 1-3): many networks, independent
  initializations of one architecture, and the covariance *over the random
  weights* of the gradients at two inputs, ``C(i, j) = E_W[g_i g_j]``, with
  its correlation ``R(i, j) = C(i, j) / sqrt(C(i, i) C(j, j))``. Theorem 1:
  a plain relu network of ``L`` He-initialized layers whose units are each
  co-active on a quarter of the pairs of inputs has ``C(i, i) = 1`` and
  ``C(i, j) = 2^-L``; Theorem 3: with batch normalization and residual
  blocks scaled by ``beta`` the variance grows like ``beta^2 (L - 1) + 1``
  and the correlation falls like ``1 / (beta sqrt(L))``. The gradients' mean
  over the weights is 0 (flipping the sign of the output layer flips every
  ``g_i``), so ``C`` is the mean of ``g_i g_j`` over the networks, not
  centred. A neighbour on a fine grid shares most of its active units with
  ``x_i``, so ``R(i, i + 1)`` stays near 1 over more layers than the
  typical pair: the theorems' quantity is the mean of ``R(i, j)`` over all
  pairs ``i != j``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_int
from .jacobian import input_output_jacobian

__all__ = ["autocorrelation", "correlation_over_weights", "gradient_correlation"]


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


def correlation_over_weights(G: Any, max_lag: int = 1) -> dict[str, Any]:
    """Covariance and correlation over random weights of gradients on a grid.

    ``G[m, i]`` is the gradient of network ``m`` at grid point ``x_i``, the
    networks independent draws of one architecture's weights. With ``M``
    networks (Balduzzi et al. 2017, Sec. 3; module docstring)::

        C(i, j) = (1 / M) sum_m G[m, i] G[m, j]          (the mean over weights is 0)
        R(i, j) = C(i, j) / sqrt(C(i, i) C(j, j))
        r_k     = mean_i R(i, i + k)                       (lag k in grid steps)
        rbar    = mean_{i != j} R(i, j)                    (the typical pair)

    Args:
        G: ``(M, n)`` gradients, ``M >= 2`` networks, ``n >= max(max_lag + 1, 2)`` points.
        max_lag: the largest lag of ``acf`` (>= 0).

    Returns:
        ``{"covariance": C (n, n), "correlation": R (n, n), "acf": (max_lag + 1,),
        "autocorrelation": r_1 (NaN when max_lag is 0), "mean_correlation": rbar,
        "variance": mean_i C(i, i)}`` (float64). A point where every network's
        gradient is 0 has no correlation (NaN in ``R``) and the means skip it;
        a non-finite gradient makes everything NaN.

    Example: two networks with gradients ``[1, 1, 0]`` and ``[1, -1, 2]`` give
    ``C = [[1, 0, 1], [0, 1, -1], [1, -1, 2]]``, so ``R(0, 1) = 0``,
    ``R(0, 2) = 1 / sqrt(2)``, ``R(1, 2) = -1 / sqrt(2)`` and ``rbar = 0``.
    """
    max_lag = check_int(max_lag, "max_lag", minimum=0)
    arr = np.asarray(G)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"G must be a numeric array, received dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ValueError(f"G must have shape (networks >= 2, points), received {arr.shape}")
    m, n = arr.shape
    if n < max(max_lag + 1, 2):
        raise ValueError(
            f"G needs at least max(max_lag + 1, 2) = {max(max_lag + 1, 2)} points, received {n}"
        )
    if not np.isfinite(arr).all():
        nan = np.full((n, n), math.nan)
        return {
            "covariance": nan,
            "correlation": nan.copy(),
            "acf": np.full(max_lag + 1, math.nan),
            "autocorrelation": math.nan,
            "mean_correlation": math.nan,
            "variance": math.nan,
        }
    cov = arr.T @ arr / m
    var = np.diag(cov).copy()
    scale = np.sqrt(np.outer(var, var))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(scale > 0, cov / np.where(scale > 0, scale, 1.0), math.nan)
    acf = np.array([_nanmean(np.diagonal(corr, k)) for k in range(max_lag + 1)])
    pairs = corr[~np.eye(n, dtype=bool)]
    return {
        "covariance": cov,
        "correlation": corr,
        "acf": acf,
        "autocorrelation": float(acf[1]) if max_lag >= 1 else math.nan,
        "mean_correlation": _nanmean(pairs),
        "variance": float(var.mean()),
    }


def _nanmean(values: np.ndarray) -> float:
    """Mean of the finite values; NaN when there are none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def _gradients(model: Any, x: np.ndarray, name: str, units: str) -> np.ndarray:
    """``dy_k/dx`` of a compiled 1-input ``model`` at each grid point, ``(outputs, n)``
    float64; ``units`` "one" requires a single output unit, "any" takes any number."""
    if not getattr(model, "compiled", False):
        raise ValueError(
            f"gradient_correlation needs a compiled model{name}; call model.compile(...) first"
        )
    if model.input_dim not in (None, 1):
        raise ValueError(f"the model{name} must take 1 input feature, it takes {model.input_dim}")
    jac = input_output_jacobian(model, x[:, None])
    if units == "one" and jac.shape[1] != 1:
        raise ValueError(
            f"the model{name} must have one output unit, it has {jac.shape[1]} (a scalar y "
            "is needed for dy/dx; over='weights' takes several)"
        )
    return jac[:, :, 0].T


def gradient_correlation(
    model: Any, X: Any, max_lag: int = 1, over: str = "grid"
) -> dict[str, Any]:
    """Input gradient of scalar networks along a 1-D grid and its correlation.

    ``g_i = dy/dx`` at each grid point ``x_i`` at the current weights, in
    inference mode (dropout off, batch normalization with its moving
    statistics, so ``y`` is a function of each input alone), from the native
    backward pass (``flow.input_output_jacobian``, one call for the whole
    grid). Then, as in the module docstring (Balduzzi et al. 2017):

    - ``over="grid"``: ``model`` is one network; ``r_k`` is the sample
      autocorrelation of its gradient along the grid (their Figs. 1-2): near 1
      for a smooth gradient, near 0 for a shattered one.
    - ``over="weights"``: ``model`` is a sequence of networks, independent
      initializations of one architecture; the correlation over their random
      weights between the gradients at two grid points (their Theorems 1-3),
      ``correlation_over_weights``. A network with ``K`` output units counts as
      ``K`` scalar networks that share their hidden layers: each unit is a fresh
      draw of the output layer's weights (its own kernel column), so the ``K``
      units average the estimate over the output layer at the cost of one
      backward pass of ``K`` rows per grid point.

    Args:
        model: a compiled ``Sequential`` with one input and one output unit
            (``over="grid"``), or a list or tuple of at least 2 compiled
            one-input ``Sequential`` models with any number of output units
            (``over="weights"``).
        X: the grid, ``(n,)`` or ``(n, 1)``, strictly increasing and evenly
            spaced, ``n >= max_lag + 2``.
        max_lag: the largest lag of the autocorrelation returned (>= 1).
        over: "grid" or "weights" (above).

    Returns:
        ``over="grid"``: ``{"x": (n,), "gradient": (n,), "autocorrelation": r_1,
        "acf": (max_lag + 1,)}`` (``acf[k] = r_k``; NaN where the gradient is
        constant). ``over="weights"``: ``{"x": (n,), "gradient": (draws, n)}`` (one row
        per output unit of each model, model by model) and the
        keys of ``correlation_over_weights`` (``acf[k]`` the mean correlation at
        lag ``k``, ``mean_correlation`` the mean over all pairs). float64 arrays.

    Raises:
        ValueError: a model is not compiled, does not take 1 input or (``over="grid"``)
            has more than 1 output,
            ``X`` is not such a grid, or ``over`` is not "grid" or "weights".
        TypeError: ``model`` is a sequence with ``over="grid"`` or a single model
            with ``over="weights"``.
    """
    max_lag = check_int(max_lag, "max_lag", minimum=1)
    if over not in ("grid", "weights"):
        raise ValueError(f"over must be 'grid' or 'weights', received {over!r}")
    many = isinstance(model, (list, tuple))
    if over == "grid" and many:
        raise TypeError(
            "over='grid' takes one model; pass over='weights' for the correlation over the "
            f"weights of a sequence of {len(model)} models"
        )
    if over == "weights" and (not many or len(model) < 2):
        raise TypeError(
            "over='weights' takes a list or tuple of at least 2 models (independent "
            f"initializations), received {type(model).__name__}"
            + (f" of length {len(model)}" if many else "")
        )
    x = _grid(X)
    if x.size < max_lag + 2:
        raise ValueError(f"X needs at least max_lag + 2 = {max_lag + 2} points, received {x.size}")
    if over == "weights":
        grads = np.concatenate(
            [_gradients(m, x, f" model[{k}]", "any") for k, m in enumerate(model)]
        )
        return {"x": x, "gradient": grads, **correlation_over_weights(grads, max_lag)}
    g = _gradients(model, x, "", "one")[0]
    acf = autocorrelation(g, max_lag) if np.isfinite(g).all() else np.full(max_lag + 1, math.nan)
    return {"x": x, "gradient": g, "autocorrelation": float(acf[1]), "acf": acf}
