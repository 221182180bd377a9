"""From a layer list to the native executor's specs and the statistics rows.

Every layer that owns a kernel (a Dense layer, at any nesting depth) is a
row of the gradient-flow statistics. A row's probe point, where activation
statistics and the backpropagated signal are measured, is the output of the
last kernel-less layer that follows its Dense layer in the same container
(an Activation, a BatchNormalization, a Dropout): the unit whose saturation
or death is in question.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import activations
from .layers import Dense, Layer, Residual

#: Histogram range of the probed activations, by activation (default (-4, 4)).
HIST_RANGES = {
    "sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, 4.0),
    "softplus": (0.0, 4.0),
}


@dataclass(frozen=True)
class FlowRow:
    """One row of the gradient-flow statistics: a layer that owns a kernel.

    Attributes:
        name: layer name (``block/dense_3`` inside a residual block).
        layer: the Dense layer.
        activation: activation of the units probed for this row.
        fan_in, fan_out: kernel shape.
        depth: position among the rows (0 = first).
        in_residual: whether the layer sits inside a residual block.
    """

    name: str
    layer: Dense
    activation: str
    fan_in: int
    fan_out: int
    depth: int
    in_residual: bool


def plan(layers: list[Layer], prefix: str, rows: list[FlowRow], nested: bool) -> list[dict]:
    """Native specs for a container, assigning statistics rows and probe points."""
    specs = [layer.native_spec() for layer in layers]
    for i, layer in enumerate(layers):
        if isinstance(layer, Residual):
            specs[i]["children"] = plan(layer.layers, f"{prefix}{layer.name}/", rows, True)
        if not layer.has_kernel():
            continue
        row = len(rows)
        specs[i]["kernel_row"] = row
        # The probe is the output of the last kernel-less layer that follows.
        j = i
        act = layer.activation_name() or "linear"
        while j + 1 < len(layers):
            nxt = layers[j + 1]
            if nxt.has_kernel() or isinstance(nxt, Residual):
                break
            j += 1
            if nxt.activation_name() is not None:
                act = nxt.activation_name()
        lo, hi = HIST_RANGES.get(act, (-4.0, 4.0))
        specs[j].update(
            probe_row=row, probe_act=activations.ACTIVATIONS[act], hist_lo=lo, hist_hi=hi
        )
        rows.append(
            FlowRow(
                name=prefix + layer.name,
                layer=layer,
                activation=act,
                fan_in=int(layer.input_dim),
                fan_out=int(layer.units),
                depth=row,
                in_residual=nested,
            )
        )
    return specs


def all_layers(layers: list[Layer]) -> list[Layer]:
    out: list[Layer] = []
    for layer in layers:
        out.append(layer)
        out.extend(all_layers(layer.sublayers()))
    return out
