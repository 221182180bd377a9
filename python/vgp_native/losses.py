"""Losses (Keras names), computed natively with the output activation fused.

=================================  ==============================================
binary_crossentropy                ``-(t log p + (1 - t) log(1 - p))``, mean over outputs
mse / mean_squared_error           ``(y - t)^2``, mean over outputs
categorical_crossentropy           ``-sum_j t_j log p_j`` (one-hot or soft targets)
sparse_categorical_crossentropy    ``-log p_label`` (integer labels)
=================================  ==============================================

Each is averaged over the batch. When the output layer's activation is sigmoid
(binary cross-entropy) or softmax (categorical), the native code works from the
logits ``z``: the loss is ``max(z, 0) - z t + log1p(e^-|z|)`` and its gradient
``sigmoid(z) - t``, exact even when the output unit saturates at logits of
several hundred, where ``p`` rounds to 1 and the textbook formula divides by zero.
Otherwise outputs are probabilities clipped to ``[1e-7, 1 - 1e-7]`` as Keras does.
"""

from __future__ import annotations

from typing import Any

from . import _core

#: ``name -> native code`` of each loss (``_core.LOSS_CODES``, the C++ table).
LOSSES: dict[str, int] = {name: int(code) for name, code in _core.LOSS_CODES.items()}
_ALIASES = {
    "mean_squared_error": "mse",
    "MeanSquaredError": "mse",
    "BinaryCrossentropy": "binary_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
}


def get(identifier: Any) -> str:
    """Canonical loss name for ``identifier``."""
    if not isinstance(identifier, str):
        raise TypeError(f"loss must be a string name, received {identifier!r}")
    name = _ALIASES.get(identifier, identifier)
    if name not in LOSSES:
        raise ValueError(
            f"Unknown loss: {identifier!r}. Expected one of: "
            f"{', '.join(LOSSES)} (or mean_squared_error)"
        )
    return name


#: ``name -> native code`` of each metric (``_core.METRIC_CODES``; code 0 is no metric).
METRICS: dict[str, int] = {name: int(code) for name, code in _core.METRIC_CODES.items()}


def resolve_metric(identifier: Any, loss: str, output_dim: int) -> str:
    """The accuracy variant meant by ``identifier``, as Keras resolves "accuracy".

    "accuracy" (or "acc") is binary accuracy for a one-unit output, sparse
    categorical accuracy with the sparse loss, and categorical accuracy otherwise.
    """
    if not isinstance(identifier, str):
        raise TypeError(f"metrics must be names, received {identifier!r}")
    if identifier in ("accuracy", "acc"):
        if output_dim == 1:
            return "binary_accuracy"
        if loss == "sparse_categorical_crossentropy":
            return "sparse_categorical_accuracy"
        return "categorical_accuracy"
    if identifier in METRICS:
        return identifier
    raise ValueError(
        f"Unknown metric: {identifier!r}. Expected 'accuracy' or one of: {', '.join(METRICS)}"
    )


def check_metrics(metrics: Any, loss: str) -> list[str]:
    """``compile``'s ``metrics``: None or a list of at most one accuracy name."""
    if metrics is None:
        return []
    if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
        raise TypeError(f"metrics must be a list of names, received {metrics!r}")
    if len(metrics) > 1:
        raise ValueError(f"At most one metric (an accuracy) is supported, received {metrics}")
    for m in metrics:
        resolve_metric(m, loss, 1)
    return list(metrics)
