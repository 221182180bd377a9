"""Kernel regularizers (Keras' L2) and learning rates changed during fit.

The gradient of the penalty is checked with the other whole-model gradients
(finite differences and PyTorch, tests/test_models_gradients.py); here: the
loss the history and evaluate report, the configuration and files, bad
arguments, thread invariance, and a learning rate set from a callback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import vgp_native as vn
from vgp_native import _core
from vgp_native.callbacks import Callback
from vgp_native.layers import Dense
from vgp_native.models import Sequential, load_model
from vgp_native.optimizers import SGD
from vgp_native.regularizers import L2


def _model(reg, seed: int = 0, optimizer=None) -> Sequential:
    model = Sequential(seed=seed, dtype="float64")
    model.add(Dense(6, "tanh", input_dim=3, kernel_regularizer=reg))
    model.add(Dense(1, "sigmoid", kernel_regularizer=reg))
    model.compile(loss="binary_crossentropy", optimizer=optimizer or SGD(learning_rate=0.0))
    return model


def _data(n: int = 50):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(n, 3))
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.float64)


def _squares(model: Sequential) -> float:
    return sum(float(np.sum(layer.kernel**2)) for layer in model.layers)


@pytest.mark.parametrize("per_sample", [False, True])
def test_history_and_evaluate_report_the_penalty(per_sample):
    x, y = _data(50)  # batches of 16: 16, 16, 16 and a last one of 2
    plain = _model(None).evaluate(x, y, batch_size=16, verbose=0)
    model = _model(L2(0.2, per_sample=per_sample))
    squares = _squares(model)
    # Keras: the penalty joins each batch's mean loss; epoch losses weigh
    # batches by their rows. Per sample, it is divided by the rows first.
    expected = plain + (0.2 * squares * 4 / 50 if per_sample else 0.2 * squares)
    assert model.evaluate(x, y, batch_size=16, verbose=0) == pytest.approx(expected, rel=1e-12)
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)  # lr 0
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-12)
    assert L2(0.2)(model.layers[0].kernel) == pytest.approx(
        0.2 * np.sum(model.layers[0].kernel ** 2)
    )


def test_penalty_shrinks_the_kernels():
    x, y = _data(200)
    norms = {}
    for l2 in (0.0, 0.05):
        model = _model(L2(l2), optimizer="adam")
        model.fit(x, y, epochs=60, batch_size=32, verbose=0)
        norms[l2] = _squares(model)
    assert norms[0.05] < 0.5 * norms[0.0]


def test_config_and_file_round_trip(tmp_path: Path):
    model = _model(L2(0.125, per_sample=True))
    cfg = model.layers[0].get_config()["kernel_regularizer"]
    assert cfg == {"class_name": "L2", "config": {"l2": 0.125, "per_sample": True}}
    assert Dense.from_config(model.layers[0].get_config()).kernel_regularizer.l2 == 0.125
    path = tmp_path / "model.npz"
    model.save(path)
    back = load_model(path)
    assert repr(back.layers[1].kernel_regularizer) == "L2(l2=0.125, per_sample=True)"
    x, y = _data(20)
    loss, grads = model.compute_gradients(x, y)
    loss_back, grads_back = back.compute_gradients(x, y)
    assert loss_back == loss
    for a, b in zip(grads, grads_back, strict=True):
        np.testing.assert_array_equal(a, b)
    assert _model(None).layers[0].get_config()["kernel_regularizer"] is None


def test_names_and_bad_arguments():
    assert vn.regularizers.get("l2").l2 == 0.01  # Keras' default
    assert vn.regularizers.get(None) is None
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        L2(-0.1)
    with pytest.raises(TypeError, match="per_sample must be a bool"):
        L2(0.1, per_sample="yes")
    with pytest.raises(ValueError, match="Unknown regularizer: 'l1'"):
        Dense(3, kernel_regularizer="l1")
    with pytest.raises(TypeError, match="regularizer must be None, a name"):
        Dense(3, kernel_regularizer=0.1)
    with pytest.raises(ValueError, match="Malformed regularizer config"):
        vn.regularizers.deserialize({"class_name": "L2", "config": {"l3": 1}})


def test_training_with_a_penalty_is_thread_invariant(assert_thread_invariant):
    x, y = _data(300)

    def run():
        model = Sequential(seed=3)
        model.add(Dense(64, "relu", input_dim=3, kernel_regularizer=L2(1e-3)))
        model.add(Dense(1, "sigmoid", kernel_regularizer=L2(1e-3, per_sample=True)))
        model.compile(loss="binary_crossentropy", optimizer="adam")
        model.fit(x, y, epochs=3, batch_size=64, verbose=0)
        return model.get_weights()

    assert_thread_invariant(run)


class _HalveAt(Callback):
    """Halves the learning rate when epoch ``at`` begins (a schedule)."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            self.model.optimizer.learning_rate = self.model.optimizer.learning_rate / 2


def test_learning_rate_set_during_fit_keeps_the_optimizer_state():
    x, y = _data(64)

    def sgd_model() -> Sequential:
        return _model(None, seed=1, optimizer=SGD(learning_rate=0.5, momentum=0.9))

    scheduled = sgd_model()
    scheduled.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0, callbacks=[_HalveAt(1)])
    # The same run in two fits, the rate changed in between: the momentum carries over.
    split = sgd_model()
    split.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    split.optimizer.learning_rate = 0.25
    split.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(scheduled.get_weights(), split.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    constant = sgd_model()
    constant.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert not np.array_equal(constant.get_weights()[0], scheduled.get_weights()[0])
    # A fresh compile (new optimizer state) after the first epoch ends elsewhere.
    reset = sgd_model()
    reset.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    reset.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=0.25, momentum=0.9))
    reset.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert not np.array_equal(reset.get_weights()[0], scheduled.get_weights()[0])
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        scheduled.optimizer.learning_rate = -1.0


class _HalveAtBatch(Callback):
    """As ``_HalveAt`` from a batch hook, so that fit takes the per-batch path."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at
        self.epoch = -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == self.at and batch == 0:
            self.model.optimizer.learning_rate = self.model.optimizer.learning_rate / 2


def test_learning_rate_set_from_a_batch_hook_matches_the_epoch_path():
    x, y = _data(64)
    runs = []
    for schedule in (_HalveAt(1), _HalveAtBatch(1)):
        model = _model(None, seed=2, optimizer=SGD(learning_rate=0.5, momentum=0.9))
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[schedule])
        assert model.optimizer.learning_rate == 0.25
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_native_network_checks_l2_and_learning_rate():
    with pytest.raises(ValueError, match="l2 must be finite and >= 0"):
        _core.Network64([{"kind": "dense", "units": 1, "l2": -0.5}], 2)
    with pytest.raises(ValueError, match="l2 must be finite and >= 0"):
        _core.Network32([{"kind": "dense", "units": 1, "l2": float("nan")}], 2)
    net = _core.Network64([{"kind": "dense", "units": 1, "l2": 0.5}], 2)
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="set_learning_rate: learning_rate must be finite"):
            net.set_learning_rate(bad)
    net.set_learning_rate(0.0)
