"""The input of a model: ``Input(shape=(features,))`` as the first entry of a ``Sequential``."""

from __future__ import annotations

from typing import Any

from .._validation import feature_width
from .base import Layer

__all__ = ["Input", "InputLayer", "first_layer_width"]


class InputLayer(Layer):
    """Declares the width of a model's inputs; it has no weights and computes nothing.

    As in Keras, ``Sequential([Input(shape=(2,)), Dense(4), ...])`` builds the
    model at once (weights are created as layers are added), and the input is
    not one of ``model.layers`` nor a row of ``model.summary()``: it is
    ``model.input_layer``. It must come first, and only once. Saving a model
    keeps it.

    Args:
        shape: ``(features,)``; layers here take flat feature vectors.
        batch_shape: ``(batch, features)`` instead of ``shape`` (the batch size
            may be None; it does not constrain the model).
        name: layer name.

    Output shape:
        ``(batch, features)``.
    """

    def __init__(
        self,
        shape: tuple[int] | None = None,
        batch_shape: tuple[int | None, int] | None = None,
        name: str | None = None,
    ) -> None:
        if (shape is None) == (batch_shape is None):
            raise ValueError(
                "InputLayer needs exactly one of shape=(features,) or batch_shape=(batch, "
                f"features); received shape={shape!r}, batch_shape={batch_shape!r}"
            )
        if shape is not None:
            width = feature_width(shape, "shape")
        else:
            width = feature_width(batch_shape, "batch_shape", batch=True)
        super().__init__(name=name)
        self.width = width
        self.input_dim = self.output_dim = width
        self.built = True

    @property
    def shape(self) -> tuple[int]:
        """The shape of one sample, ``(features,)``."""
        return (self.width,)

    def compute_output_dim(self, input_dim: int) -> int:
        """The declared width (an input layer has no input of its own)."""
        return self.width

    def build(self, input_dim: int, rng: Any, dtype: Any) -> int:
        """Nothing to create: an input layer is built from the start; returns its width."""
        return self.width

    def get_config(self) -> dict[str, Any]:
        """``{"name", "shape"}``; ``InputLayer(**config)`` rebuilds it."""
        return {"name": self.name, "shape": [self.width]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> InputLayer:
        """Rebuild an input layer from ``get_config()``'s output."""
        if not isinstance(config, dict):
            raise TypeError(f"InputLayer config must be a dict, received {config!r}")
        return cls(shape=config.get("shape"), name=config.get("name"))


def Input(
    shape: tuple[int] | None = None,
    batch_shape: tuple[int | None, int] | None = None,
    name: str | None = None,
) -> InputLayer:
    """The input of a model, as Keras' ``keras.Input``: ``Input(shape=(2,))``.

    Returns an ``InputLayer`` (this package has no symbolic tensors): add it
    first to a ``Sequential`` to fix the input width, exactly as
    ``Dense(..., input_dim=2)`` or ``Dense(..., input_shape=(2,))`` would.

    Args:
        shape: ``(features,)``.
        batch_shape: ``(batch, features)`` instead of ``shape``.
        name: layer name.
    """
    return InputLayer(shape=shape, batch_shape=batch_shape, name=name)


def first_layer_width(layer: Layer, input_width: int | None) -> int | None:
    """The input width of a model once ``layer`` is its first layer.

    ``input_width`` is the width an ``Input`` set (None without one); the layer
    may declare its own (``Dense(..., input_dim=2)``), which must then agree.
    """
    declared = layer.declared_input_dim
    if declared is not None and input_width not in (None, declared):
        raise ValueError(
            f"Layer '{layer.name}' declares an input width of {declared}, but the model's "
            f"Input has width {input_width}"
        )
    return input_width if declared is None else declared
