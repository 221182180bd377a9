"""Checked wrappers of the layer kernels: dense, activation, batch norm, residual, dropout.

Public through :mod:`vgp_native.ops`; see there for the conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from . import activations as _activations
from ._validation import (
    check_float,
    check_int,
    float_array,
    float_like,
    float_vector,
    numeric_array,
)
from ._validation import common_dtype as _dtype_of


def _kernel_and_input(x: Any, w: Any, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """``x`` as ``(batch, in_features)`` and ``w`` as ``(in_features, out_features)``."""
    x = float_array(x, "x", dtype, ndim=2)
    w = float_array(w, "w", dtype, ndim=2)
    if w.shape[0] != x.shape[1]:
        raise ValueError(
            f"w must have shape (in_features, out_features) with in_features = x.shape[1] = "
            f"{x.shape[1]}, received {w.shape}"
        )
    return x, w


def dense_forward(
    x: Any,
    w: Any,
    b: Any = None,
    activation: str | None = None,
    return_preactivation: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Fully connected layer ``y = act(z)``, ``z = x · w + b`` (Keras kernel layout).

    The bias and an elementwise activation run in the GEMM epilogue on each
    tile while it is in cache; softmax, a row operation, runs afterwards.

    Args:
        x: inputs, ``(batch, in_features)``.
        w: kernel, ``(in_features, out_features)``.
        b: optional bias, ``(out_features,)``.
        activation: activation name (:mod:`vgp_native.activations`); default linear.
        return_preactivation: also return ``z``.

    Returns:
        ``y`` of shape ``(batch, out_features)``, or ``(z, y)``.
    """
    dtype = _dtype_of(x, w, b)
    x, w = _kernel_and_input(x, w, dtype)
    if b is not None:
        b = float_vector(b, "b", dtype, w.shape[1], "out_features = w.shape[1]")
    act = _activations.code(activation)
    z = np.empty((x.shape[0], w.shape[1]), dtype=dtype)
    y = z if act == 0 else np.empty_like(z)
    _core.dense_forward(x, w, b, z, y, act)
    return (z, y) if return_preactivation else y


def dense_backward(
    x: Any, w: Any, dz: Any, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of a dense layer from ``dz = ∂L/∂z`` at its pre-activation.

    ``dw = xᵀ · dz``, ``db = Σ_rows dz`` (in double, in a fixed order),
    ``dx = dz · wᵀ``.

    Args:
        x: the layer's input, ``(batch, in_features)``.
        w: kernel, ``(in_features, out_features)``.
        dz: gradient at the pre-activation, ``(batch, out_features)``.
        need_dx: compute ``dx``; ``None`` is returned in its place otherwise.

    Returns:
        ``(dx, dw, db)``.
    """
    dtype = _dtype_of(x, w, dz)
    x, w = _kernel_and_input(x, w, dtype)
    dz = float_array(dz, "dz", dtype, ndim=2)
    if dz.shape != (x.shape[0], w.shape[1]):
        raise ValueError(
            f"dz must have shape (batch, out_features) = {(x.shape[0], w.shape[1])}, "
            f"received {dz.shape}"
        )
    dx = np.empty_like(x) if need_dx else None
    dw = np.empty_like(w)
    db = np.empty(w.shape[1], dtype=dtype)
    _core.dense_backward(x, w, dz, dx, dw, db)
    return dx, dw, db


def _as_rows(arr: np.ndarray) -> np.ndarray:
    """A 1-D array as one row ``(1, n)``; a 2-D array unchanged."""
    return arr.reshape(1, -1) if arr.ndim == 1 else arr


def activation_forward(x: Any, activation: str | None) -> np.ndarray:
    """``y = act(x)`` elementwise, or per row for softmax (Keras 3 definitions).

    sigmoid is computed sign-split, softplus as ``max(x, 0) + log1p(e^-|x|)``
    and softmax with the row maximum subtracted, so ``|x|`` up to 1e4 gives
    finite values. The formulas are listed in :mod:`vgp_native.activations`.

    Args:
        x: ``(batch, features)``, or ``(features,)`` for one row.
        activation: activation name.

    Returns:
        ``y``, the shape of ``x``.
    """
    x = float_array(x, "x", _dtype_of(x), ndim=(1, 2))
    act = _activations.code(activation)
    y = np.empty_like(x)
    _core.activation_forward(_as_rows(x), _as_rows(y), act)
    return y


def activation_backward(x: Any, y: Any, dy: Any, activation: str | None) -> np.ndarray:
    """``dx = dy ⊙ act'(x)``; for softmax ``dx_i = y_i (dy_i − Σ_j dy_j y_j)`` per row.

    The sigmoid's derivative ``y (1 − y)`` never exceeds 1/4: a chain of
    sigmoid layers shrinks the gradient geometrically (Glorot & Bengio 2010).

    Args:
        x: the pre-activation, ``(batch, features)`` or ``(features,)``.
        y: the output ``act(x)``, used where cheaper.
        dy: the upstream gradient ``∂L/∂y``.
        activation: activation name.

    Returns:
        ``dx``, the shape of ``x``.
    """
    dtype = _dtype_of(x, y, dy)
    x = float_array(x, "x", dtype, ndim=(1, 2))
    y = float_like(y, "y", dtype, x, "x")
    dy = float_like(dy, "dy", dtype, x, "x")
    act = _activations.code(activation)
    dx = np.empty_like(x)
    _core.activation_backward(_as_rows(x), _as_rows(y), _as_rows(dy), _as_rows(dx), act)
    return dx


# ---------------------------------------------------------------- batch norm


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


# ------------------------------------------------------------------ residual


def _sum_pair(kernel: Any, a: Any, b: Any, a_name: str, b_name: str) -> np.ndarray:
    dtype = _dtype_of(a, b)
    a = float_array(a, a_name, dtype)
    b = float_like(b, b_name, dtype, a, a_name)
    out = np.empty_like(a)
    kernel(a, b, out)
    return out


def residual_add_forward(x: Any, fx: Any) -> np.ndarray:
    """Skip connection ``y = x + f(x)`` (He et al. 2016).

    Args:
        x: the block's input.
        fx: the inner layers' output, the shape of ``x``.

    Returns:
        ``y = x + fx``.
    """
    return _sum_pair(_core.residual_add_forward, x, fx, "x", "fx")


def residual_add_backward(d_skip: Any, d_inner: Any) -> np.ndarray:
    """Input gradient of a residual block: ``dx = d_skip + d_inner``.

    The identity path passes the upstream gradient through unchanged, so ``dx``
    never vanishes however small the inner layers' Jacobian becomes (He et al. 2016).

    Args:
        d_skip: gradient reaching ``x`` through the skip path.
        d_inner: gradient reaching ``x`` through the inner layers, the same shape.

    Returns:
        ``dx``.
    """
    return _sum_pair(_core.residual_add_backward, d_skip, d_inner, "d_skip", "d_inner")


# ------------------------------------------------------------------- dropout


def _rate(rate: Any) -> float:
    return check_float(rate, "rate", minimum=0.0, maximum=1.0, max_inclusive=False)


def dropout_forward(x: Any, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverted dropout (Srivastava et al. 2014): ``y = keep · x / (1 − rate)``.

    ``keep ~ Bernoulli(1 − rate)`` is a pure function of ``(seed, element
    index)``: the same seed gives the same mask for any thread count.

    Args:
        x: inputs, any shape.
        rate: fraction of elements dropped, in [0, 1).
        seed: non-negative integer below 2**64.

    Returns:
        ``(y, mask)`` with ``mask`` a boolean array (True = kept).
    """
    x = float_array(x, "x", _dtype_of(x))
    rate = _rate(rate)
    seed = check_int(seed, "seed", minimum=0)
    if seed >= 2**64:
        raise ValueError(f"seed must be < 2**64, received {seed}")
    y = np.empty_like(x)
    mask = np.empty(x.shape, dtype=np.uint8)
    _core.dropout_forward(x, y, mask, rate, seed)
    return y, mask.view(np.bool_)


def dropout_backward(dy: Any, mask: Any, rate: float) -> np.ndarray:
    """Gradient of inverted dropout: ``dx = mask · dy / (1 − rate)``.

    Args:
        dy: upstream gradient.
        mask: the mask from :func:`dropout_forward` (nonzero = kept), the shape of ``dy``.
        rate: the rate used forward, in [0, 1).

    Returns:
        ``dx``.
    """
    dy = float_array(dy, "dy", _dtype_of(dy))
    mask = numeric_array(mask, "mask")
    if mask.shape != dy.shape:
        raise ValueError(
            f"mask must have shape {dy.shape} (the shape of dy), received {mask.shape}"
        )
    keep = np.ascontiguousarray(mask != 0, dtype=np.uint8)
    dx = np.empty_like(dy)
    _core.dropout_backward(dy, keep, dx, _rate(rate))
    return dx
