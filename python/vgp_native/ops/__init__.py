"""The native kernels as checked functions, for tests, benchmarks and analysis.

Each function accepts any numeric array-like, converts dtype and layout once
(float64 stays float64; every other numeric dtype becomes float32, the default
precision), checks ranks and shapes, allocates the outputs and calls the C++
kernel with the GIL released. Inputs are never modified. Bad arguments raise
``ValueError`` or ``TypeError`` naming the argument and what was expected.

Layout everywhere: row-major, batch first; dense kernels are
``(in_features, out_features)`` as in Keras.

The wrappers live in one module per native op family, as ``cpp/ops`` has them
(``dense``, ``activation``, ``batchnorm``, ``residual``, ``dropout``, ``loss``
with the metrics, ``optimizer`` with clipping, ``flowstats``, ``gemm``), and
are re-exported here.
"""

from __future__ import annotations

from .._public import public_dir
from .activation import activation_backward, activation_forward
from .batchnorm import (
    batchnorm_backward,
    batchnorm_backward_infer,
    batchnorm_forward_infer,
    batchnorm_forward_train,
)
from .dense import dense_backward, dense_forward
from .dropout import dropout_backward, dropout_forward
from .flowstats import activation_stats, buffer_norm, buffer_stats
from .gemm import cpu_info, gemm, gemm_kernel_name
from .loss import (
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
from .optimizer import (
    adam_update,
    clip_by_norm,
    clip_by_value,
    rmsprop_update,
    sgd_update,
)
from .residual import residual_add_backward, residual_add_forward

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
    "cpu_info",
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
__dir__ = public_dir(__name__, __all__)
