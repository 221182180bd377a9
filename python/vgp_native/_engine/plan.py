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
from typing import Any

import numpy as np

from .. import activations
from ..layers import Dense, Layer


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
        children = layer.sublayers()
        if children:
            specs[i]["children"] = plan(children, f"{prefix}{layer.name}/", rows, True)
        if not layer.has_kernel():
            continue
        row = len(rows)
        specs[i]["kernel_row"] = row
        # The probe is the output of the last kernel-less layer that follows.
        j = i
        act = layer.activation_name() or "linear"
        while j + 1 < len(layers):
            nxt = layers[j + 1]
            if nxt.has_kernel() or nxt.sublayers():
                break
            j += 1
            if nxt.activation_name() is not None:
                act = nxt.activation_name()
        lo, hi = activations.REGISTRY[act].hist_range
        specs[j].update(probe_row=row, probe_act=activations.code(act), hist_lo=lo, hist_hi=hi)
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


@dataclass(frozen=True)
class NetworkPlan:
    """Everything the native network of a layer list is built from.

    Attributes:
        specs: the layer specs (never mutated once planned).
        rows: the gradient-flow statistics rows.
        input_dim: the input width.
        dtype: float32 or float64.
    """

    specs: list[dict[str, Any]]
    rows: list[FlowRow]
    input_dim: int
    dtype: np.dtype


def plan_network(layers: list[Layer], input_dim: int, dtype: Any) -> NetworkPlan:
    """The ``NetworkPlan`` of a built layer list."""
    rows: list[FlowRow] = []
    specs = plan(layers, "", rows, False)
    return NetworkPlan(specs, rows, int(input_dim), np.dtype(dtype))
