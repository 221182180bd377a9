"""The model layout behind gradient-flow records: rows, containers, initializers.

The native statistics have one row per layer that owns a kernel; the layout
maps each row to its layer name, activation, shape, container (residual
block), initializers and whether a normalization follows it, and says which
kinds of layers the model holds (the mean-field theory applies to plain
stacks only). Everything is read from the layers' own traits.
"""

from __future__ import annotations

from typing import Any

from .. import activations, initializers
from .history import RowInfo

__all__ = ["Layout", "model_structure", "row_infos"]

#: The layer kinds (native kinds) whose presence the reports note.
STRUCTURE_KINDS = ("batchnorm", "residual", "dropout")


def _containers(layers: list[Any]) -> list[list[Any]]:
    """``layers`` and every residual block's inner layer list, recursively."""
    out = [layers]
    for layer in layers:
        if layer.sublayers():
            out.extend(_containers(layer.sublayers()))
    return out


def model_structure(model: Any) -> dict[str, bool]:
    """Whether the model holds batch normalization, residual or dropout layers."""
    return _structure(model.layers)


def _structure(layers: list[Any]) -> dict[str, bool]:
    kinds = {layer.native_kind for c in _containers(layers) for layer in c}
    return {kind: kind in kinds for kind in STRUCTURE_KINDS}


def _normalized_kernels(layers: list[Any]) -> set[int]:
    """ids of kernel layers followed by a normalizing layer before the next kernel."""
    out: set[int] = set()
    for container in _containers(layers):
        for i, layer in enumerate(container):
            if not layer.has_kernel():
                continue
            for nxt in container[i + 1 :]:
                if nxt.has_kernel() or nxt.sublayers():
                    break
                if nxt.normalizes:
                    out.add(id(layer))
    return out


def _serialized(initializer: Any) -> dict[str, Any] | None:
    try:
        return initializers.serialize(initializer)
    except TypeError:
        return None


def row_infos(model: Any) -> list[RowInfo]:
    """``RowInfo`` for each statistics row of a compiled model."""
    return Layout(model).row_infos()


class Layout:
    """The model's layers and statistics rows, as a FlowHistory describes them.

    Taken by reference (the layer list, each row and its initializers), which
    costs next to nothing when training begins; the descriptions are derived
    from them when the history is built. A built layer's configuration does
    not change, so they read as they would have at the start.
    """

    def __init__(self, model: Any) -> None:
        self.layers = model.layers
        self.rows = [
            (r, r.layer.kernel_initializer, r.layer.bias_initializer if r.layer.use_bias else None)
            for r in model.flow_rows
        ]

    def name(self, row: int) -> str:
        return self.rows[row][0].name

    def structure(self) -> dict[str, bool]:
        return _structure(self.layers)

    def row_infos(self) -> list[RowInfo]:
        normalized = _normalized_kernels(self.layers)
        return [
            RowInfo(
                name=r.name,
                activation=r.activation,
                fan_in=r.fan_in,
                fan_out=r.fan_out,
                in_residual=r.in_residual,
                hist_range=activations.REGISTRY[r.activation].hist_range,
                kernel_initializer=_serialized(kernel_init),
                bias_initializer=None if bias_init is None else _serialized(bias_init),
                normalized=id(r.layer) in normalized,
            )
            for r, kernel_init, bias_init in self.rows
        ]
