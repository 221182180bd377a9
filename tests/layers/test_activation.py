"""Activation: configuration, validation, its Jacobian for every activation."""

from __future__ import annotations

import numpy as np
import pytest

from layer_checks import check_layer_map
from vgp_native.activations import ACTIVATIONS
from vgp_native.layers import Activation, deserialize, serialize


def test_invalid_activation_name() -> None:
    with pytest.raises(ValueError, match="Unknown activation"):
        Activation("nope")


def test_config_round_trip_and_alias() -> None:
    layer = Activation("silu")
    assert layer.activation == "swish" and layer.activation_name() == "swish"
    again = deserialize(serialize(layer))
    assert again.get_config() == layer.get_config()
    assert again.native_spec() == {"kind": "activation", "act": ACTIVATIONS["swish"]}
    assert not again.has_kernel() and not again.weights


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_jacobian_is_the_derivative_of_the_native_map(name: str) -> None:
    rng = np.random.default_rng(1)
    # Entries kept at least 0.05 away from 0, where relu-family units have their kink.
    x = rng.uniform(0.05, 2.0, size=(5, 4)) * rng.choice([-1.0, 1.0], size=(5, 4))
    check_layer_map(Activation(name), 4, x)
