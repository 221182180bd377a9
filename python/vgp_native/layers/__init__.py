"""Layers: Dense, Activation, BatchNormalization, Residual, Dropout, and Input (Keras names)."""

from __future__ import annotations

from .._public import public_dir
from .activation import Activation
from .base import Layer, deserialize, serialize
from .batchnorm import BatchNormalization
from .dense import Dense
from .dropout import Dropout
from .input import Input, InputLayer
from .residual import Residual

__all__ = [
    "Activation",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Input",
    "InputLayer",
    "Layer",
    "Residual",
    "deserialize",
    "serialize",
]
__dir__ = public_dir(__name__, __all__)
