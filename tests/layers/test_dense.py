"""Dense: Keras weight layout, configuration, validation, its Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

from layer_checks import check_layer_map
from vgp_native.layers import Dense, deserialize, serialize
from vgp_native.models import Sequential


def test_dense_weights_have_keras_layout() -> None:
    model = Sequential(seed=0)
    model.add(Dense(5, input_dim=3))
    model.add(Dense(2, use_bias=False))
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 5), (5,), (5, 2)]


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (lambda: Dense(0), ValueError, "units must be >= 1"),
        (lambda: Dense(2.5), TypeError, "units must be an integer"),
        (lambda: Dense(3, activation="sigmoidd"), ValueError, "Unknown activation"),
        (lambda: Dense(3, kernel_initializer="nope"), ValueError, "nope"),
    ],
)
def test_invalid_hyper_parameters(factory, error, match) -> None:
    with pytest.raises(error, match=match):
        factory()


def test_config_round_trip() -> None:
    layer = Dense(4, activation="elu", use_bias=False, kernel_initializer="he_normal", input_dim=3)
    again = deserialize(serialize(layer))
    assert isinstance(again, Dense) and again.get_config() == layer.get_config()
    assert again.native_spec() == layer.native_spec() and again.has_kernel()


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "softmax", None])
def test_jacobian_is_the_derivative_of_the_native_map(activation) -> None:
    x = np.random.default_rng(0).normal(size=(6, 3)) + 0.01  # relu: off the kink
    check_layer_map(Dense(4, activation=activation), 3, x)
