"""Residual (skip-connection) block (He et al. 2016)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .. import activations, initializers
from .base import (
    Layer,
    activation_jacobian,
    chain,
    deserialize,
    identity_jacobian,
    register,
    serialize,
)


@register
class Residual(Layer):
    """``y = act(x + f(x))``, with ``f`` the inner layers.

    When ``f`` changes the width, the skip path is a learned linear projection
    ``x @ P + c`` (glorot-uniform kernel, zero bias). The identity path is why
    residual networks train at depth: the backward pass gives
    ``dL/dx = dL/dy' + J_f^T dL/dy'`` (``y'`` the sum), so the gradient reaches
    the input even when ``J_f`` is tiny (He et al. 2016, "Deep Residual Learning
    for Image Recognition"; "Identity Mappings in Deep Residual Networks").

    Args:
        layers: the inner layers (at least one), applied in order; any layer kind,
            including batch normalization and nested residual blocks.
        activation: activation applied after the addition (None: linear).
        name: layer name.

    Weights:
        the inner layers' weights in order, then the projection's
        ``[kernel (in, out), bias (out,)]`` when the widths differ.
    """

    weight_names: ClassVar[tuple[str, ...]] = ("kernel", "bias")
    native_kind: ClassVar[str] = "residual"

    def __init__(
        self, layers: list[Layer], activation: str | None = None, name: str | None = None
    ) -> None:
        if not isinstance(layers, (list, tuple)):
            raise TypeError(f"layers must be a list of layers, received {type(layers).__name__}")
        if len(layers) == 0:
            raise ValueError("layers must hold at least one layer, received an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a Layer, received {type(layer).__name__}")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("layers must not contain the same layer object twice")
        self.layers = list(layers)
        self.activation = activations.get(activation)
        self.projection_initializer = initializers.get("glorot_uniform")
        super().__init__(name=name)

    @property
    def has_projection(self) -> bool:
        """Whether the skip path is a learned projection (the block changes the width)."""
        return bool(self._weights)

    def compute_output_dim(self, input_dim: int) -> int:
        """The width after the inner layers."""
        width = input_dim
        for layer in self.layers:
            width = layer.compute_output_dim(width)
        return width

    def weight_shapes(self, input_dim: int) -> list[tuple[int, ...]]:
        """The inner layers' weight shapes, then the projection's when widths differ."""
        shapes: list[tuple[int, ...]] = []
        width = input_dim
        for layer in self.layers:
            shapes.extend(layer.weight_shapes(width))
            width = layer.compute_output_dim(width)
        if width != input_dim:
            shapes.extend([(input_dim, width), (width,)])
        return shapes

    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        """Build the inner layers, then the projection if needed; returns the output width."""
        width = int(input_dim)
        for layer in self.layers:
            width = layer.build(width, rng, dtype)
        return super().build(input_dim, rng, dtype)

    def _create_weights(
        self, input_dim: int, rng: np.random.Generator, dtype: np.dtype
    ) -> list[np.ndarray]:
        out = self.compute_output_dim(input_dim)
        if out == input_dim:
            return []
        kernel = self.projection_initializer((input_dim, out), rng, dtype)
        return [np.ascontiguousarray(kernel, dtype=dtype), np.zeros(out, dtype=dtype)]

    def weight_slots(self) -> list[tuple[Layer, int]]:
        """The inner layers' weights in order, then the projection's kernel and bias."""
        slots: list[tuple[Layer, int]] = []
        for layer in self.layers:
            slots.extend(layer.weight_slots())
        slots.extend((self, i) for i in range(len(self._weights)))
        return slots

    def sublayers(self) -> list[Layer]:
        """The inner layers, in order."""
        return list(self.layers)

    def activation_name(self) -> str | None:
        """The activation applied after the sum (``linear`` when none)."""
        return self.activation

    def jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``diag(phi'(z)) (I + J_f)``, or ``diag(phi'(z)) (P^T + J_f)`` with a projection."""
        h, jac = x, np.array(identity_jacobian(x))
        for inner in self.layers:
            h, j = inner.jacobian(h)
            jac = j @ jac
        if self.has_projection:
            p, c = (np.asarray(v, dtype=np.float64) for v in self._weights)
            z = x @ p + c + h
            jac = jac + p.T[None]
        else:
            z = x + h
            jac = jac + identity_jacobian(x)
        y, d = activation_jacobian(z, self.activation)
        return y, chain(d, jac)

    def native_spec(self) -> dict[str, Any]:
        """``{"kind": "residual", "act"}``; the inner layers follow it in the native plan."""
        return {"kind": "residual", "act": activations.code(self.activation)}

    def get_config(self) -> dict[str, Any]:
        """``{"name", "layers" (serialized), "activation"}``."""
        return {
            "name": self.name,
            "layers": [serialize(layer) for layer in self.layers],
            "activation": self.activation,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Residual:
        """A new block from ``get_config()``'s output, inner layers deserialized."""
        config = dict(config)
        config["layers"] = [deserialize(c) for c in config["layers"]]
        return cls(**config)
