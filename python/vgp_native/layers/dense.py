"""Fully connected layer."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .. import activations, initializers, regularizers
from .._validation import check_int, feature_width
from .base import Layer, activation_jacobian, chain, register


@register
class Dense(Layer):
    """Densely connected layer: ``y = act(x @ kernel + bias)``.

    The kernel has Keras' layout ``(in_features, out_features)``. The activation
    is fused into the native matrix product's epilogue. With the default
    ``glorot_uniform`` initializer (Glorot & Bengio 2010) the kernel's variance
    is ``2 / (fan_in + fan_out)``, which keeps the variance of linear layers
    roughly constant across depth; for ReLU-family activations ``he_normal``
    (He et al. 2015, variance ``2 / fan_in``) compensates for the half of the
    units that are off.

    Args:
        units: output width (>= 1).
        activation: activation name (see ``vgp_native.activations``) or None for linear.
        use_bias: whether to add a bias vector.
        kernel_initializer: initializer name or object for the kernel.
        bias_initializer: initializer name or object for the bias.
        kernel_regularizer: None, "l2" or a ``vgp_native.regularizers`` object; its
            penalty (``L2``: ``l2 * sum(kernel ** 2)``) joins the loss and its
            gradient the kernel's, inside the native training step.
        input_dim: input width, for the first layer of a model.
        name: layer name.
        input_shape: ``(input_dim,)``, Keras' other way to give the input width
            (``Dense(4, input_shape=(2,))``); it must agree with ``input_dim``
            when both are given.

    Input shape:
        ``(batch, in_features)``.

    Output shape:
        ``(batch, units)``.
    """

    weight_names: ClassVar[tuple[str, ...]] = ("kernel", "bias")
    native_kind: ClassVar[str] = "dense"

    def __init__(
        self,
        units: int,
        activation: str | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        input_dim: int | None = None,
        name: str | None = None,
        input_shape: tuple[int] | None = None,
    ) -> None:
        self.units = check_int(units, "units", minimum=1)
        self.activation = activations.get(activation)
        if not isinstance(use_bias, (bool, np.bool_)):
            raise TypeError(f"use_bias must be a bool, received {use_bias!r}")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        super().__init__(name=name)
        self.declared_input_dim = check_int(input_dim, "input_dim", minimum=1, allow_none=True)
        if input_shape is not None:
            width = feature_width(input_shape, "input_shape")
            if input_dim is not None and width != self.declared_input_dim:
                raise ValueError(
                    f"input_shape={tuple(input_shape)!r} and input_dim={input_dim!r} disagree; "
                    "give one of them"
                )
            self.declared_input_dim = width

    def compute_output_dim(self, input_dim: int) -> int:
        """``units``, whatever the input width."""
        return self.units

    def weight_shapes(self, input_dim: int) -> list[tuple[int, ...]]:
        """``[(input_dim, units), (units,)]``, without the bias when ``use_bias=False``."""
        shapes: list[tuple[int, ...]] = [(input_dim, self.units)]
        return [*shapes, (self.units,)] if self.use_bias else shapes

    def _create_weights(
        self, input_dim: int, rng: np.random.Generator, dtype: np.dtype
    ) -> list[np.ndarray]:
        kernel = self.kernel_initializer((input_dim, self.units), rng, dtype)
        weights = [np.ascontiguousarray(kernel, dtype=dtype)]
        if self.use_bias:
            bias = self.bias_initializer((self.units,), rng, dtype)
            weights.append(np.ascontiguousarray(bias, dtype=dtype))
        return weights

    def all_weight_names(self) -> list[str]:
        """``["kernel", "bias"]``, or ``["kernel"]`` without a bias."""
        return ["kernel", "bias"] if self.use_bias else ["kernel"]

    def native_spec(self) -> dict[str, Any]:
        """``{"kind": "dense", "units", "act", "use_bias"}`` and the regularizer's fields."""
        spec = {
            "kind": "dense",
            "units": self.units,
            "act": activations.code(self.activation),
            "use_bias": self.use_bias,
        }
        if self.kernel_regularizer is not None:
            spec.update(self.kernel_regularizer.native_spec())
        return spec

    def activation_name(self) -> str | None:
        """The fused activation's name (``linear`` when none was given)."""
        return self.activation

    def has_kernel(self) -> bool:
        """True: a Dense layer is a row of the gradient-flow statistics."""
        return True

    def jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``diag(phi'(z)) W^T`` per sample, ``z = x W + b``."""
        w = np.asarray(self.kernel, dtype=np.float64)
        z = x @ w
        if self.use_bias:
            z += np.asarray(self.bias, dtype=np.float64)
        y, d = activation_jacobian(z, self.activation)
        return y, chain(d, np.broadcast_to(w.T, (x.shape[0], *w.T.shape)))

    @property
    def kernel(self) -> np.ndarray:
        """The kernel ``(in_features, units)`` (a live view once compiled)."""
        return self._weights[0]

    @property
    def bias(self) -> np.ndarray | None:
        """The bias ``(units,)`` (a live view once compiled), or None without one."""
        return self._weights[1] if self.use_bias else None

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (initializers serialized); ``from_config`` rebuilds it."""
        return {
            "name": self.name,
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "input_dim": self.declared_input_dim,
        }
