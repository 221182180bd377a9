"""Checked wrappers of the dense kernels (cpp/ops/dense): ``y = act(x · w + b)`` and its gradients.

Public through :mod:`vgp_native.ops`; see there for the conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .. import activations as _activations
from .._validation import common_dtype as _dtype_of
from .._validation import float_array, float_vector


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
