"""BatchNormalization: Keras weights and moving statistics, validation, its Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

from layer_checks import check_layer_map
from vgp_native.layers import BatchNormalization, Dense, deserialize, serialize
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD


def test_batchnorm_weights_are_gamma_beta_moving_mean_variance() -> None:
    model = Sequential([Dense(4, input_dim=3), BatchNormalization()], seed=0)
    gamma, beta, mean, var = model.get_weights()[2:]
    np.testing.assert_array_equal(gamma, np.ones(4))
    np.testing.assert_array_equal(beta, np.zeros(4))
    np.testing.assert_array_equal(mean, np.zeros(4))
    np.testing.assert_array_equal(var, np.ones(4))


def test_batchnorm_moving_statistics_follow_keras_update() -> None:
    model = Sequential([Dense(3, input_dim=2), BatchNormalization(momentum=0.9)], seed=0)
    model.compile(loss="mse", optimizer=SGD(learning_rate=0.0))
    x = np.random.default_rng(0).normal(size=(16, 2))
    z = x @ model.get_weights()[0] + model.get_weights()[1]
    model.fit(x, np.zeros((16, 3)), batch_size=16, shuffle=False, verbose=0)
    _, _, _, _, mean, var = model.get_weights()
    np.testing.assert_allclose(mean, 0.1 * z.mean(0), rtol=1e-5)
    np.testing.assert_allclose(var, 0.9 + 0.1 * z.var(0), rtol=1e-5)


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (lambda: BatchNormalization(epsilon=0), ValueError, "epsilon must be > 0"),
        (lambda: BatchNormalization(momentum=1.5), ValueError, "momentum must be <= 1"),
    ],
)
def test_invalid_hyper_parameters(factory, error, match) -> None:
    with pytest.raises(error, match=match):
        factory()


def test_config_round_trip_and_traits() -> None:
    layer = BatchNormalization(momentum=0.8, epsilon=1e-2)
    again = deserialize(serialize(layer))
    assert again.get_config() == layer.get_config()
    assert again.native_spec() == {"kind": "batchnorm", "epsilon": 1e-2, "momentum": 0.8}
    assert again.normalizes and not again.has_kernel()


def test_jacobian_uses_the_moving_statistics() -> None:
    layer = BatchNormalization(epsilon=1e-2)
    model = Sequential([layer], seed=0, dtype="float64")
    model.build(3)
    rng = np.random.default_rng(2)
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    layer.set_weights([gamma, beta, rng.normal(size=3), rng.uniform(0.5, 2.0, size=3)])
    x = rng.normal(size=(4, 3))
    _, jac = layer.jacobian(x)
    var = layer.get_weights()[3]
    # diag(gamma / sqrt(moving_variance + epsilon)) for every sample.
    np.testing.assert_allclose(
        jac, np.broadcast_to(np.diag(gamma / np.sqrt(var + 1e-2)), jac.shape)
    )
    fresh = BatchNormalization()
    check_layer_map(fresh, 3, x)
