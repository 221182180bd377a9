"""The seed document's experiment, trained for real.

A deep sigmoid network on make_moons barely moves from chance (its first
layer's gradient has vanished), while the same network with ReLU and He
initialization fits the data; under plain SGD the sigmoid network's first
layer is frozen.
"""

from __future__ import annotations

import numpy as np
import pytest

from vgp_native.datasets import make_moons, train_test_split
from vgp_native.layers import Dense
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD


@pytest.fixture(scope="module")
def moons():
    x, y = make_moons(n_samples=250, noise=0.05, random_state=42)
    return train_test_split(x, y, test_size=0.2, random_state=42)


def seed_network(activation: str, init: str, seed: int, optimizer="adam") -> Sequential:
    model = Sequential(seed=seed)
    model.add(Dense(10, activation=activation, input_dim=2, kernel_initializer=init))
    for _ in range(7):
        model.add(Dense(10, activation=activation, kernel_initializer=init))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model


def test_seed_keras_code_runs_with_only_imports_changed(capsys) -> None:
    # The seed's code, verbatim but for the imports.
    from vgp_native.datasets import make_moons, train_test_split
    from vgp_native.layers import Dense
    from vgp_native.models import Sequential

    X, y = make_moons(n_samples=250, noise=0.05, random_state=42)
    model = Sequential()
    model.add(Dense(10, activation="sigmoid", input_dim=2))
    model.add(Dense(10, activation="sigmoid"))
    model.add(Dense(10, activation="sigmoid"))
    model.add(Dense(10, activation="sigmoid"))
    model.add(Dense(10, activation="sigmoid"))
    model.add(Dense(10, activation="sigmoid"))
    model.add(Dense(10, activation="sigmoid"))
    model.add(Dense(10, activation="sigmoid"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.get_weights()[0]
    old_weights = model.get_weights()[0]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.20, random_state=42)  # noqa: RUF059
    model.fit(X_train, y_train, epochs=100)
    new_weights = model.get_weights()[0]
    out = capsys.readouterr().out
    assert out.count("Epoch ") == 100 and "Epoch 100/100" in out
    assert "7/7 " in out  # 200 training samples in batches of 32
    assert old_weights.shape == new_weights.shape == (2, 10)
    assert not np.array_equal(old_weights, new_weights)


@pytest.mark.slow
def test_deep_sigmoid_stalls_while_relu_he_trains(moons) -> None:
    x_train, x_test, y_train, y_test = moons
    sigmoid_losses, relu_losses, relu_acc = [], [], []
    for seed in range(5):
        m = seed_network("sigmoid", "glorot_uniform", seed)
        sigmoid_losses.append(m.fit(x_train, y_train, epochs=100, verbose=0).history["loss"][-1])
        r = seed_network("relu", "he_normal", seed)
        relu_losses.append(r.fit(x_train, y_train, epochs=100, verbose=0).history["loss"][-1])
        relu_acc.append(r.evaluate(x_test, y_test, verbose=0)[1])
    # ln 2 = 0.693 is chance; a plain-numpy reference ends at 0.65 +- 0.07.
    assert np.mean(sigmoid_losses) > 0.45
    assert np.mean(relu_losses) < 0.05
    assert min(relu_acc) >= 0.95


def test_under_sgd_the_sigmoid_first_layer_is_frozen(moons) -> None:
    x_train, _, y_train, _ = moons
    moved = {}
    for act, init in (("sigmoid", "glorot_uniform"), ("relu", "he_normal")):
        m = seed_network(act, init, 0, optimizer=SGD(learning_rate=0.01))
        before = m.get_weights()[0]
        m.fit(x_train, y_train, epochs=100, verbose=0)
        moved[act] = np.mean(np.abs(m.get_weights()[0] - before))
    # References: about 1e-7 against 1e-2 mean |dW|.
    assert moved["sigmoid"] * 1000 < moved["relu"]
    assert moved["relu"] > 1e-3
