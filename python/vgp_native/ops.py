"""The native kernels as checked functions, for tests, benchmarks and analysis.

Each function accepts any numeric array-like, converts dtype and layout once
(float64 stays float64; every other numeric dtype becomes float32, the default
precision), checks ranks and shapes, allocates the outputs and calls the C++
kernel with the GIL released. Inputs are never modified. Bad arguments raise
``ValueError`` or ``TypeError`` naming the argument and what was expected.

Layout everywhere: row-major, batch first; dense kernels are
``(in_features, out_features)`` as in Keras.

The wrappers live in :mod:`vgp_native._ops_layers` (dense, activation, batch
norm, residual, dropout), :mod:`vgp_native._ops_loss` (losses, metrics) and
:mod:`vgp_native._ops_train` (optimizer updates, clipping, gradient-flow
statistics) and are re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from . import activations as _activations
from ._ops_layers import (
    activation_backward,
    activation_forward,
    batchnorm_backward,
    batchnorm_backward_infer,
    batchnorm_forward_infer,
    batchnorm_forward_train,
    dense_backward,
    dense_forward,
    dropout_backward,
    dropout_forward,
    residual_add_backward,
    residual_add_forward,
)
from ._ops_loss import (
    binary_accuracy_sum,
    binary_crossentropy,
    categorical_accuracy_sum,
    categorical_crossentropy,
    mean_squared_error,
    sigmoid_binary_crossentropy,
    softmax_categorical_crossentropy,
    softmax_sparse_categorical_crossentropy,
    sparse_categorical_accuracy_sum,
    sparse_categorical_crossentropy,
)
from ._ops_train import (
    activation_stats,
    adam_update,
    buffer_norm,
    buffer_stats,
    clip_by_norm,
    clip_by_value,
    rmsprop_update,
    sgd_update,
)
from ._validation import common_dtype as _dtype_of
from ._validation import float_array

__all__ = [
    "activation_backward",
    "activation_forward",
    "activation_stats",
    "adam_update",
    "batchnorm_backward",
    "batchnorm_backward_infer",
    "batchnorm_forward_infer",
    "batchnorm_forward_train",
    "binary_accuracy_sum",
    "binary_crossentropy",
    "buffer_norm",
    "buffer_stats",
    "categorical_accuracy_sum",
    "categorical_crossentropy",
    "clip_by_norm",
    "clip_by_value",
    "dense_backward",
    "dense_forward",
    "dropout_backward",
    "dropout_forward",
    "gemm",
    "gemm_kernel_name",
    "mean_squared_error",
    "residual_add_backward",
    "residual_add_forward",
    "rmsprop_update",
    "sgd_update",
    "sigmoid_binary_crossentropy",
    "softmax_categorical_crossentropy",
    "softmax_sparse_categorical_crossentropy",
    "sparse_categorical_accuracy_sum",
    "sparse_categorical_crossentropy",
]


def gemm(
    a: Any,
    b: Any,
    trans_a: bool = False,
    trans_b: bool = False,
    c: Any = None,
    bias: Any = None,
    activation: str | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """General matrix product ``op(a) @ op(b) (+ c) (+ bias)``, optionally ``act(...)``.

    Args:
        a: ``(m, k)``, or ``(k, m)`` with ``trans_a``.
        b: ``(k, n)``, or ``(n, k)`` with ``trans_b``.
        trans_a, trans_b: use the transpose of ``a`` / ``b``.
        c: optional ``(m, n)`` array added to the product (not modified).
        bias: optional ``(n,)`` vector added to every row.
        activation: optional elementwise activation name applied last.

    Returns:
        The ``(m, n)`` product; with ``activation``, the pair ``(pre, post)``.
    """
    dtype = _dtype_of(a, b, c, bias)
    a = float_array(a, "a", dtype, ndim=2)
    b = float_array(b, "b", dtype, ndim=2)
    m = a.shape[1] if trans_a else a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    if c is None:
        out = np.empty((m, n), dtype=dtype)
        accumulate = False
    else:
        out = float_array(c, "c", dtype, ndim=2).copy()
        accumulate = True
    bias_arr = None if bias is None else float_array(bias, "bias", dtype, ndim=1)
    act = 0
    post = None
    if activation is not None:
        name = _activations.get(activation)
        if name == "softmax":
            raise ValueError("activation must be elementwise for gemm, received 'softmax'")
        act = _activations.ACTIVATIONS[name]
        post = np.empty((m, n), dtype=dtype)
    _core.gemm(a, b, out, bool(trans_a), bool(trans_b), accumulate, bias_arr, act, post)
    return out if post is None else (out, post)


def gemm_kernel_name(dtype: Any = "float32") -> str:
    """Name of the GEMM micro-kernel used for ``dtype`` on this CPU (avx512, avx2, scalar)."""
    from ._validation import resolve_dtype

    return _core.gemm_kernel_name(np.empty(1, dtype=resolve_dtype(dtype)))
