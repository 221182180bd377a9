"""Residual: weight order (inner, then projection), validation, configuration, Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

from layer_checks import check_layer_map
from vgp_native.layers import BatchNormalization, Dense, Dropout, Residual, deserialize, serialize
from vgp_native.models import Sequential


def test_residual_weights_inner_then_projection() -> None:
    same = Sequential([Residual([Dense(4, "relu"), Dense(4)])], seed=0)
    same.build(4)
    assert [w.shape for w in same.get_weights()] == [(4, 4), (4,), (4, 4), (4,)]
    proj = Sequential([Residual([Dense(6, "relu"), BatchNormalization()])], seed=0)
    proj.build(3)
    assert [w.shape for w in proj.get_weights()] == [(3, 6), (6,)] + [(6,)] * 4 + [(3, 6), (6,)]
    assert proj.layers[0].has_projection and not same.layers[0].has_projection


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (lambda: Residual([]), ValueError, "at least one layer"),
        (lambda: Residual([Dense(2), "relu"]), TypeError, "layers\\[1\\]"),
    ],
)
def test_invalid_hyper_parameters(factory, error, match) -> None:
    with pytest.raises(error, match=match):
        factory()


def test_config_round_trip_keeps_the_inner_layers() -> None:
    block = Residual([Dense(3, activation="tanh"), Dropout(0.1), Dense(3)], activation="relu")
    again = deserialize(serialize(block))
    assert [type(layer) for layer in again.sublayers()] == [Dense, Dropout, Dense]
    assert again.get_config()["activation"] == "relu" and serialize(again) == serialize(block)


@pytest.mark.parametrize("width", [3, 5])  # 5: the skip path is a learned projection
def test_jacobian_is_the_derivative_of_the_native_map(width: int) -> None:
    block = Residual(
        [Dense(5, activation="tanh"), BatchNormalization(), Dense(5, activation="gelu")],
        activation="softplus",
    )
    x = np.random.default_rng(4).normal(size=(6, width))
    check_layer_map(block, width, x)
    assert block.has_projection == (width != 5)
