"""Checked wrappers of the batch-normalization kernels (cpp/ops/batchnorm), Ioffe & Szegedy 2015.

Public through :mod:`vgp_native.ops`; see there for the conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._validation import check_float, float_array, float_like, float_vector
from .._validation import common_dtype as _dtype_of


def _epsilon(epsilon: Any) -> float:
    return check_float(epsilon, "epsilon", minimum=0.0, min_inclusive=False)


def _features(x: Any, dtype: np.dtype, name: str = "x") -> np.ndarray:
    """A ``(batch, features)`` input of batch normalization."""
    return float_array(x, name, dtype, ndim=2)


def _per_feature(features: int, dtype: np.dtype, **values: Any) -> list[np.ndarray]:
    """Each keyword argument as a ``(features,)`` vector, in the order given."""
    return [
        float_vector(v, name, dtype, features, "features = x.shape[1]")
        for name, v in values.items()
    ]


def batchnorm_forward_train(
    x: Any,
    gamma: Any,
    beta: Any,
    moving_mean: Any,
    moving_variance: Any,
    epsilon: float = 1e-3,
    momentum: float = 0.99,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training-mode batch normalization (Ioffe & Szegedy 2015), Keras semantics.

    Per feature over the batch: ``μ = mean(x)``, ``σ² = mean((x − μ)²)``
    (biased), ``y = γ (x − μ) / √(σ² + ε) + β``; the moving statistics become
    ``momentum · moving + (1 − momentum) · batch``.

    Args:
        x: ``(batch, features)``.
        gamma, beta: scale and offset, ``(features,)``.
        moving_mean, moving_variance: running statistics, ``(features,)`` (not modified).
        epsilon: added to the variance, > 0.
        momentum: decay of the moving statistics, in [0, 1].

    Returns:
        ``(y, save_mean, save_invstd, new_moving_mean, new_moving_variance)``;
        ``save_*`` are the batch mean and ``1 / √(σ² + ε)`` that backward needs.
    """
    dtype = _dtype_of(x, gamma, beta, moving_mean, moving_variance)
    x = _features(x, dtype)
    f = x.shape[1]
    gamma, beta, new_mean, new_var = _per_feature(
        f, dtype, gamma=gamma, beta=beta, moving_mean=moving_mean, moving_variance=moving_variance
    )
    new_mean, new_var = new_mean.copy(), new_var.copy()
    eps = _epsilon(epsilon)
    mom = check_float(momentum, "momentum", minimum=0.0, maximum=1.0)
    y = np.empty_like(x)
    save_mean = np.empty(f, dtype=dtype)
    save_invstd = np.empty(f, dtype=dtype)
    _core.batchnorm_forward_train(
        x, gamma, beta, y, save_mean, save_invstd, new_mean, new_var, eps, mom
    )
    return y, save_mean, save_invstd, new_mean, new_var


def batchnorm_forward_infer(
    x: Any,
    gamma: Any,
    beta: Any,
    moving_mean: Any,
    moving_variance: Any,
    epsilon: float = 1e-3,
) -> np.ndarray:
    """Inference-mode batch normalization: ``y = γ (x − moving_mean) / √(moving_variance + ε) + β``.

    Args:
        x: ``(batch, features)``.
        gamma, beta, moving_mean, moving_variance: ``(features,)``.
        epsilon: added to the variance, > 0.

    Returns:
        ``y``, the shape of ``x``.
    """
    dtype = _dtype_of(x, gamma, beta, moving_mean, moving_variance)
    x = _features(x, dtype)
    f = x.shape[1]
    params = _per_feature(
        f, dtype, gamma=gamma, beta=beta, moving_mean=moving_mean, moving_variance=moving_variance
    )
    eps = _epsilon(epsilon)
    y = np.empty_like(x)
    _core.batchnorm_forward_infer(x, *params, y, eps)
    return y


def batchnorm_backward(
    x: Any, dy: Any, gamma: Any, save_mean: Any, save_invstd: Any, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of training-mode batch normalization (Ioffe & Szegedy 2015).

    With ``x̂ = (x − μ) / √(σ² + ε)`` and ``g = dy``, per feature over ``n`` rows:
    ``dβ = Σ g``, ``dγ = Σ g x̂``, ``dx = γ / √(σ² + ε) / n · (n g − dβ − x̂ dγ)``
    (the batch statistics depend on every row, hence the two correction terms).

    Args:
        x: the forward input, ``(batch, features)``.
        dy: upstream gradient, the shape of ``x``.
        gamma: scale, ``(features,)``.
        save_mean, save_invstd: the batch statistics from :func:`batchnorm_forward_train`.
        need_dx: compute ``dx``; ``None`` is returned in its place otherwise.

    Returns:
        ``(dx, dgamma, dbeta)``.
    """
    dtype = _dtype_of(x, dy, gamma, save_mean, save_invstd)
    x = _features(x, dtype)
    dy = float_like(dy, "dy", dtype, x, "x")
    f = x.shape[1]
    gamma, save_mean, save_invstd = _per_feature(
        f, dtype, gamma=gamma, save_mean=save_mean, save_invstd=save_invstd
    )
    dx = np.empty_like(x) if need_dx else None
    dgamma = np.empty(f, dtype=dtype)
    dbeta = np.empty(f, dtype=dtype)
    _core.batchnorm_backward(x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta)
    return dx, dgamma, dbeta


def batchnorm_backward_infer(
    dy: Any, gamma: Any, moving_variance: Any, epsilon: float = 1e-3
) -> np.ndarray:
    """Input gradient of inference-mode batch norm: ``dx = dy · γ / √(moving_variance + ε)``.

    Args:
        dy: upstream gradient, ``(batch, features)``.
        gamma, moving_variance: ``(features,)``.
        epsilon: added to the variance, > 0.

    Returns:
        ``dx``, the shape of ``dy``.
    """
    dtype = _dtype_of(dy, gamma, moving_variance)
    dy = _features(dy, dtype, "dy")
    f = dy.shape[1]
    gamma, moving_variance = _per_feature(f, dtype, gamma=gamma, moving_variance=moving_variance)
    dx = np.empty_like(dy)
    _core.batchnorm_backward_infer(dy, gamma, moving_variance, dx, _epsilon(epsilon))
    return dx
