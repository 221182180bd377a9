"""Layers: Dense, Activation, BatchNormalization, Residual, Dropout (Keras names)."""

from __future__ import annotations

from typing import Any

from .activation import Activation
from .base import Layer
from .batchnorm import BatchNormalization
from .dense import Dense
from .dropout import Dropout
from .residual import Residual

__all__ = [
    "Activation",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Layer",
    "Residual",
    "deserialize",
    "serialize",
]

_CLASSES: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (Dense, Activation, BatchNormalization, Residual, Dropout)
}


def serialize(layer: Layer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` for a layer."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: Any) -> Layer:
    """Rebuild a layer from ``serialize``'s output."""
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ValueError(
            f"layer config must be {{'class_name': ..., 'config': ...}}, received {config!r}"
        )
    cls = _CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(
            f"Unknown layer class {config['class_name']!r}. Expected one of: {', '.join(_CLASSES)}"
        )
    if not isinstance(config["config"], dict):
        raise ValueError(f"layer config of {config['class_name']} must be a dict")
    return cls.from_config(config["config"])
