"""The integer codes the extension exports (_core.*_CODES, LAYER_KINDS) and checks against."""

from __future__ import annotations

import numpy as np
import pytest

from vgp_native import _core, activations, losses, optimizers
from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Residual


def test_activation_codes_are_the_python_registry() -> None:
    assert _core.ACTIVATION_CODES == activations.ACTIVATIONS


def test_loss_and_metric_codes_are_the_python_tables() -> None:
    assert _core.LOSS_CODES == losses.LOSSES
    assert _core.METRIC_CODES == losses.METRICS
    # 0 stays "no metric": no metric name has it.
    assert 0 not in _core.METRIC_CODES.values()


def test_optimizer_codes_name_every_optimizer_class() -> None:
    kinds = {cls.kind for cls in (optimizers.SGD, optimizers.Adam, optimizers.RMSprop)}
    assert set(_core.OPTIMIZER_CODES) == kinds
    assert sorted(_core.OPTIMIZER_CODES.values()) == list(range(len(kinds)))


def test_layer_kinds_are_the_kinds_the_layers_build() -> None:
    layers = [
        Dense(2),
        Activation("relu"),
        BatchNormalization(),
        Dropout(0.5),
        Residual([Dense(2)]),
    ]
    assert {layer.native_spec()["kind"] for layer in layers} == set(_core.LAYER_KINDS)


@pytest.mark.parametrize("kind", _core.LAYER_KINDS)
def test_every_layer_kind_builds_a_network(kind: str) -> None:
    spec = {"kind": kind, "units": 3, "rate": 0.5, "children": [{"kind": "dense", "units": 3}]}
    net = _core.Network64([spec], 3)
    out = net.predict(np.ones((2, 3)), 2)
    assert out.shape == (2, 3) and np.all(np.isfinite(out))


def test_unknown_layer_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown layer kind 'conv'"):
        _core.Network64([{"kind": "conv"}], 3)


def _net() -> _core.Network64:
    return _core.Network64([{"kind": "dense", "units": 1}], 2)


def test_set_loss_accepts_every_exported_code_and_no_metric() -> None:
    net = _net()
    for loss in _core.LOSS_CODES.values():
        for metric in [0, *_core.METRIC_CODES.values()]:
            net.set_loss(loss, metric)


def test_set_loss_rejects_codes_outside_the_tables() -> None:
    net = _net()
    bad_loss = max(_core.LOSS_CODES.values()) + 1
    with pytest.raises(ValueError, match=f"unknown loss code {bad_loss}"):
        net.set_loss(bad_loss, 0)
    with pytest.raises(ValueError, match="unknown loss code -1"):
        net.set_loss(-1, 0)
    bad_metric = max(_core.METRIC_CODES.values()) + 1
    with pytest.raises(ValueError, match=f"unknown metric code {bad_metric}"):
        net.set_loss(0, bad_metric)


def test_set_optimizer_takes_the_exported_names() -> None:
    net = _net()
    for name in _core.OPTIMIZER_CODES:
        net.set_optimizer({"kind": name})
    with pytest.raises(ValueError, match="unknown kind 'adamw'"):
        net.set_optimizer({"kind": "adamw"})


def test_activation_code_outside_the_table_is_rejected() -> None:
    bad = max(_core.ACTIVATION_CODES.values()) + 1
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=f"received {bad}"):
        _core.activation_forward(x, np.empty_like(x), bad)
