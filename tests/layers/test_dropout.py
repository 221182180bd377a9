"""Dropout: validation, configuration, traits and its (inference) Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

from layer_checks import check_layer_map
from vgp_native.layers import Dropout, deserialize, serialize


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (lambda: Dropout(1.0), ValueError, "rate must be < 1"),
        (lambda: Dropout(-0.1), ValueError, "rate must be >= 0"),
    ],
)
def test_invalid_hyper_parameters(factory, error, match) -> None:
    with pytest.raises(error, match=match):
        factory()


def test_config_round_trip_and_traits() -> None:
    layer = Dropout(0.25)
    again = deserialize(serialize(layer))
    assert again.get_config() == layer.get_config()
    assert again.native_spec() == {"kind": "dropout", "rate": 0.25}
    assert again.stochastic and not Dropout(0.0).stochastic


def test_jacobian_is_the_identity_at_inference() -> None:
    x = np.random.default_rng(3).normal(size=(4, 5))
    layer = Dropout(0.5)
    check_layer_map(layer, 5, x)
    y, jac = layer.jacobian(x)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(jac, np.broadcast_to(np.eye(5), (4, 5, 5)))
