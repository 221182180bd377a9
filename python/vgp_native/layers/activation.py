"""Standalone activation layer."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .. import activations
from .base import Layer, activation_jacobian, chain, identity_jacobian, register


@register
class Activation(Layer):
    """Applies an activation function: ``y = f(x)``.

    See ``vgp_native.activations`` for the formulas. The sigmoid's derivative is
    at most 1/4, so stacking sigmoid layers shrinks gradients geometrically with
    depth; ReLU-family activations pass them unchanged where units are active.

    Args:
        activation: activation name.
        name: layer name.

    Input shape:
        ``(batch, features)``.

    Output shape:
        same as the input.
    """

    native_kind: ClassVar[str] = "activation"

    def __init__(self, activation: str, name: str | None = None) -> None:
        self.activation = activations.get(activation)
        super().__init__(name=name)

    def native_spec(self) -> dict[str, Any]:
        """``{"kind": "activation", "act": code}`` for the native executor."""
        return {"kind": "activation", "act": activations.code(self.activation)}

    def activation_name(self) -> str | None:
        """The activation's name (``relu``, ``sigmoid``, ...)."""
        return self.activation

    def jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``diag(phi'(x))`` per sample (softmax: ``diag(s) - s s^T``)."""
        y, d = activation_jacobian(x, self.activation)
        return y, chain(d, identity_jacobian(x))

    def get_config(self) -> dict[str, Any]:
        """``{"name", "activation"}``; ``Activation(**config)`` rebuilds the layer."""
        return {"name": self.name, "activation": self.activation}
