"""Weight regularizers, as Keras 3 defines them (applied natively, inside the training step).

``Dense(..., kernel_regularizer=L2(l2))`` adds ``l2 * sum(W ** 2)`` to every
batch's loss and ``2 * l2 * W`` to the kernel's gradient before the optimizer
step; the loss that ``fit`` and ``evaluate`` report includes the penalty, as
Keras' does. Weight decay of this kind (Krogh & Hertz 1992, "A Simple Weight
Decay Can Improve Generalization") keeps weights small; it does not cure a
vanishing gradient, and a strong one can cause it, pulling every kernel
towards zero.

``L2(l2, per_sample=True)`` divides the penalty by the batch's row count,
``l2 * sum(W ** 2) / n_batch`` (gradient ``2 * l2 * W / n_batch``):
scikit-learn's convention for ``alpha`` (``alpha = 2 * l2``), exact on a
last, smaller batch too.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from ._validation import check_float

__all__ = ["L2", "Regularizer", "deserialize", "get", "serialize"]


class Regularizer(abc.ABC):
    """Base class: a penalty on a weight tensor, added to the loss."""

    @abc.abstractmethod
    def __call__(self, x: Any) -> float:
        """The penalty of the weights ``x``, as a float."""

    @abc.abstractmethod
    def native_spec(self) -> dict[str, Any]:
        """The layer-spec fields the native executor reads."""

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments; ``from_config`` rebuilds the regularizer."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        """The regularizer ``get_config`` describes."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L2(Regularizer):
    """The L2 penalty ``l2 * sum(W ** 2)`` (Keras' ``L2``; its default 0.01).

    Args:
        l2: the factor (>= 0).
        per_sample: divide the penalty by the batch's row count (scikit-learn's
            ``alpha / 2`` convention) instead of adding it once per batch.
    """

    def __init__(self, l2: float = 0.01, per_sample: bool = False) -> None:
        self.l2 = check_float(l2, "l2", minimum=0.0)
        if not isinstance(per_sample, (bool, np.bool_)):
            raise TypeError(f"per_sample must be a bool, received {per_sample!r}")
        self.per_sample = bool(per_sample)

    def __call__(self, x: Any) -> float:
        """The penalty of ``x`` once per batch: ``l2 * sum(x ** 2)`` (in float64)."""
        w = np.asarray(x, dtype=np.float64)
        return float(self.l2 * np.sum(w * w))

    def native_spec(self) -> dict[str, Any]:
        """What the native Dense layer reads: the factor and the per-sample flag."""
        return {"l2": float(self.l2), "l2_per_sample": self.per_sample}

    def get_config(self) -> dict[str, Any]:
        """``{"l2": ..., "per_sample": ...}``, the constructor's arguments."""
        return {"l2": self.l2, "per_sample": self.per_sample}


_CLASSES: dict[str, type[Regularizer]] = {"L2": L2}


def get(identifier: Any) -> Regularizer | None:
    """A regularizer from None, a name ("l2"), an object or a serialized dict."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.upper())
        if cls is None:
            raise ValueError(f"Unknown regularizer: {identifier!r}. Expected one of: l2")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(
        f"regularizer must be None, a name, a Regularizer or a config dict, received {identifier!r}"
    )


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    """Keras' ``{"class_name": ..., "config": {...}}`` (None stays None)."""
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config: Any) -> Regularizer:
    """Rebuild a regularizer from ``serialize``'s output."""
    if not isinstance(config, dict):
        raise ValueError(f"Malformed regularizer config: {config!r}")
    cls = _CLASSES.get(config.get("class_name", ""))
    if cls is None or not isinstance(config.get("config"), dict):
        raise ValueError(f"Malformed regularizer config: {config!r}")
    try:
        return cls.from_config(config["config"])
    except TypeError as exc:
        raise ValueError(f"Malformed regularizer config: {config!r} ({exc})") from exc
