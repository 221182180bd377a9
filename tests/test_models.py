"""Sequential: lifecycle, fit/evaluate/predict, callbacks, determinism (layers: tests/layers)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import native_threads
from vgp_native.callbacks import Callback, EarlyStopping, History, TerminateOnNaN
from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Residual
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD, Adam, RMSprop


def _xor_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float64)
    return x, y


def _mlp(seed: int = 0, act: str = "tanh", depth: int = 3, **compile_kw) -> Sequential:
    model = Sequential(seed=seed)
    model.add(Dense(8, activation=act, input_dim=2))
    for _ in range(depth - 1):
        model.add(Dense(8, activation=act))
    model.add(Dense(1, activation="sigmoid"))
    compile_kw.setdefault("optimizer", "adam")
    model.compile(loss="binary_crossentropy", metrics=["accuracy"], **compile_kw)
    return model


# -- compile / weights ------------------------------------------------------------------------


def test_recompile_keeps_weights_and_resets_optimizer() -> None:
    x, y = _xor_data()
    model = _mlp()
    model.fit(x, y, epochs=2, verbose=0)
    trained = model.get_weights()
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    for a, b in zip(trained, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert model.engine.net.optimizer_steps == 0
    # A fresh Adam from the same weights takes the same first step as a new model would.
    twin = _mlp()
    twin.set_weights(trained)
    model.fit(x, y, epochs=1, shuffle=False, verbose=0)
    twin.fit(x, y, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_get_weights_returns_copies_and_set_weights_writes_through() -> None:
    model = _mlp()
    w = model.get_weights()
    w[0][...] = 0.0
    assert np.any(model.get_weights()[0] != 0.0)
    w[0][0, 0] = 3.5
    model.set_weights(w)
    assert model.get_weights()[0][0, 0] == np.float32(3.5)
    assert model.layers[0].kernel[0, 0] == np.float32(3.5)
    out = model.predict(np.ones((1, 2)), verbose=0)
    assert out.shape == (1, 1)


@pytest.mark.parametrize(
    ("weights", "error", "match"),
    [
        ("not a list", TypeError, "list of arrays"),
        ([np.zeros((2, 8))], ValueError, "expects 8 weight arrays"),
        (None, TypeError, "list of arrays"),
    ],
)
def test_set_weights_rejects_bad_lists(weights, error, match) -> None:
    with pytest.raises(error, match=match):
        _mlp().set_weights(weights)


def test_set_weights_rejects_wrong_shape_without_writing() -> None:
    model = _mlp()
    before = model.get_weights()
    bad = model.get_weights()
    bad[0] = np.ones((3, 8))
    bad[1] = np.full(8, 7.0)
    with pytest.raises(ValueError, match=r"weight 0 .*\(2, 8\), received \(3, 8\)"):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_weights_rejects_strings() -> None:
    model = _mlp()
    bad = model.get_weights()
    bad[1] = np.array(["a"] * 8)
    with pytest.raises(TypeError, match="weights\\[1\\]"):
        model.set_weights(bad)


def test_float64_model_keeps_float64() -> None:
    model = Sequential([Dense(3, "tanh", input_dim=2), Dense(1)], dtype="float64", seed=1)
    model.compile(loss="mse", optimizer="sgd")
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(np.ones((4, 2)), verbose=0).dtype == np.float64


# -- fit / evaluate / predict -------------------------------------------------------------------


def test_fit_returns_history_with_keras_keys() -> None:
    x, y = _xor_data()
    model = _mlp()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_split=0.25)
    assert isinstance(history, History)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert model.history is history


def test_fit_loss_equals_mean_of_batch_losses() -> None:
    x, y = _xor_data(50)
    model = _mlp(optimizer=SGD(learning_rate=0.0))
    history = model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    # With learning rate 0, the epoch loss is the sample-weighted mean over batches,
    # i.e. the full-data loss.
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-6)


def test_evaluate_matches_numpy_bce_and_accuracy() -> None:
    x, y = _xor_data(64)
    model = _mlp()
    p = model.predict(x, verbose=0)[:, 0].astype(np.float64)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    acc = np.mean((p > 0.5) == y)
    loss, accuracy = model.evaluate(x, y, batch_size=10, verbose=0)
    assert loss == pytest.approx(bce, rel=1e-4)
    assert accuracy == pytest.approx(acc)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {
        "loss": pytest.approx(loss),
        "accuracy": pytest.approx(accuracy),
    }


def test_predict_is_batched_consistently() -> None:
    x, _ = _xor_data(70)
    model = _mlp()
    a = model.predict(x, batch_size=7, verbose=0)
    b = model.predict(x, batch_size=70, verbose=0)
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_predict_before_compile_like_keras() -> None:
    model = Sequential([Dense(3, "relu", input_dim=2), Dense(2)], seed=0)
    out = model.predict([[1.0, 2.0]], verbose=0)
    w = model.get_weights()
    expected = np.maximum(np.array([[1.0, 2.0]]) @ w[0] + w[1], 0) @ w[2] + w[3]
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_input_width_inferred_from_data_at_first_fit() -> None:
    x, y = _xor_data()
    model = Sequential(seed=0)
    model.add(Dense(4, "tanh"))
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam")
    assert model.get_weights() == []
    model.fit(x, y, epochs=1, verbose=0)
    assert model.get_weights()[0].shape == (2, 4)


def test_targets_of_shape_n_accepted_for_one_unit_output() -> None:
    x, y = _xor_data()
    a, b = _mlp(), _mlp()
    a.fit(x, y, epochs=2, verbose=0, shuffle=False)
    b.fit(x, y.reshape(-1, 1), epochs=2, verbose=0, shuffle=False)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_sparse_and_one_hot_targets_train_identically() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 4))
    labels = rng.integers(0, 3, size=60)

    def model(loss):
        m = Sequential([Dense(6, "relu", input_dim=4), Dense(3, "softmax")], seed=4)
        m.compile(loss=loss, optimizer="adam", metrics=["accuracy"])
        return m

    sparse, onehot = model("sparse_categorical_crossentropy"), model("categorical_crossentropy")
    hs = sparse.fit(x, labels, epochs=3, verbose=0)
    ho = onehot.fit(x, np.eye(3)[labels], epochs=3, verbose=0)
    assert hs.history["loss"] == pytest.approx(ho.history["loss"], rel=1e-6)
    assert hs.history["accuracy"] == pytest.approx(ho.history["accuracy"])


def test_verbose_output_is_keras_like(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = _xor_data(64)
    _mlp().fit(x, y, epochs=2, batch_size=32)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2"
    assert out[1].startswith("2/2 ") and "accuracy: " in out[1] and "loss: " in out[1]
    assert out[2] == "Epoch 2/2"
    _mlp().fit(x, y, epochs=1, verbose=2)
    line = capsys.readouterr().out.splitlines()[1]
    assert line.startswith("2/2 - ") and "/step" in line


def test_summary_lists_layers_and_parameter_counts(capsys: pytest.CaptureFixture[str]) -> None:
    model = Sequential(
        [Dense(4, input_dim=3), BatchNormalization(), Residual([Dense(4, "relu")])], seed=0
    )
    model.summary()
    text = capsys.readouterr().out
    assert "(None, 4)" in text
    assert "Total params: 52" in text  # 16 + 16 + 20 (4 of them moving statistics)
    assert "Non-trainable params: 8" in text


# -- callbacks ------------------------------------------------------------------------------------


def test_early_stopping_restores_best_weights() -> None:
    x, y = _xor_data()
    model = _mlp(optimizer=Adam(learning_rate=0.05))
    stopper = EarlyStopping(monitor="loss", patience=0, min_delta=10.0, restore_best_weights=True)
    seen = []

    class Snap(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.get_weights())

    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[Snap(), stopper])
    assert len(history.epoch) == 2  # nothing improves by 10: stops after the second epoch
    for a, b in zip(model.get_weights(), seen[0], strict=True):
        np.testing.assert_array_equal(a, b)


def test_terminate_on_nan_stops_and_keeps_weights_from_before_the_blow_up(capsys) -> None:
    x, y = _xor_data()
    model = Sequential(seed=0)
    model.add(Dense(16, "relu", input_dim=2, kernel_initializer="ones"))
    for _ in range(12):
        model.add(Dense(16, "relu", kernel_initializer="ones"))
    model.add(Dense(1))
    model.compile(loss="mse", optimizer=SGD(learning_rate=10.0))
    stop = TerminateOnNaN()
    history = model.fit(x * 100, y, epochs=50, verbose=0, callbacks=[stop])
    assert stop.terminated_epoch is not None
    assert len(history.epoch) == stop.terminated_epoch + 1
    assert math.isnan(history.history["loss"][-1])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert "invalid loss" in capsys.readouterr().out


def test_batch_hooks_path_trains_identically_to_native_epochs() -> None:
    x, y = _xor_data(90)
    events = []

    class Batches(Callback):
        def on_train_batch_end(self, batch, logs=None):
            events.append((batch, logs["loss"]))

    def make():
        m = Sequential(seed=5)
        m.add(Dense(8, "relu", input_dim=2))
        m.add(Dropout(0.3))
        m.add(Dense(8, "tanh"))
        m.add(Dense(1, "sigmoid"))
        m.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
        return m

    a, b = make(), make()
    ha = a.fit(x, y, epochs=3, batch_size=16, verbose=0)
    hb = b.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[Batches()])
    assert [e[0] for e in events] == list(range(6)) * 3
    assert ha.history == hb.history
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


# -- determinism -------------------------------------------------------------------------------


def _train_residual_bn(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 24))
    y = rng.integers(0, 4, size=300)
    model = Sequential(seed=seed)
    model.add(Dense(64, input_dim=24))
    model.add(BatchNormalization())
    model.add(Activation("relu"))
    model.add(Residual([Dense(64, "relu"), Dropout(0.2), Dense(64)], activation="relu"))
    model.add(Dense(4, "softmax"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=RMSprop(clipnorm=1.0))
    model.fit(x, y, epochs=3, batch_size=50, verbose=0)
    return model.get_weights()


def test_same_seed_gives_bitwise_identical_weights() -> None:
    a, b = _train_residual_bn(7), _train_residual_bn(7)
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_array_equal(wa, wb)
    c = _train_residual_bn(8)
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a, c, strict=True))


def test_weights_do_not_depend_on_thread_count() -> None:
    with native_threads(1):
        one = _train_residual_bn(3)
    with native_threads(2):
        two = _train_residual_bn(3)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


# -- bad input ---------------------------------------------------------------------------------


def _compiled() -> Sequential:
    return _mlp()


BAD_FIT = [
    ({"x": np.ones((10, 2, 1)), "y": np.ones(10)}, ValueError, "2-D array"),
    ({"x": np.ones((10, 3)), "y": np.ones(10)}, ValueError, "3 features but model"),
    ({"x": np.ones((10, 2)), "y": np.ones(9)}, ValueError, "9 samples but x has 10"),
    ({"x": np.full((10, 2), np.nan), "y": np.ones(10)}, ValueError, "NaN or Inf"),
    ({"x": np.ones((10, 2)), "y": np.full(10, np.inf)}, ValueError, "NaN or Inf"),
    ({"x": np.ones((0, 2)), "y": np.ones(0)}, ValueError, "at least one sample"),
    ({"x": np.ones((10, 2)), "y": np.full(10, 2.0)}, ValueError, r"targets in \[0, 1\]"),
    ({"x": np.ones((10, 2)), "y": np.ones(10), "batch_size": 0}, ValueError, "batch_size"),
    ({"x": np.ones((10, 2)), "y": np.ones(10), "epochs": -1}, ValueError, "epochs"),
    ({"x": np.ones((10, 2)), "y": np.ones(10), "epochs": 1.5}, TypeError, "epochs"),
    ({"x": [["a", "b"]] * 10, "y": np.ones(10)}, TypeError, "x must hold real numbers"),
    ({"x": np.ones((10, 2), dtype=complex), "y": np.ones(10)}, TypeError, "complex"),
    ({"x": np.ones((10, 2)), "y": np.ones(10), "verbose": 3}, ValueError, "verbose"),
    ({"x": np.ones((10, 2)), "y": np.ones(10), "validation_split": 1.0}, ValueError, "split"),
    ({"x": np.ones((10, 2)), "y": np.ones(10), "callbacks": [object()]}, TypeError, "Callback"),
    ({"x": None, "y": np.ones(10)}, ValueError, "x is required"),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), BAD_FIT)
def test_fit_rejects_bad_input(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        _compiled().fit(**{"verbose": 0, **kwargs})


def test_fit_converts_ints_lists_and_views() -> None:
    x, y = _xor_data(40)
    model = _mlp()
    model.fit(x.tolist(), y.astype(int), epochs=1, verbose=0)
    model.fit(np.asfortranarray(x), y, epochs=1, verbose=0)
    model.fit(np.repeat(x, 2, axis=0)[::2], y, epochs=1, verbose=0)
    model.fit(x.astype(np.float16), y.astype(bool), epochs=1, verbose=0)


def test_fit_before_compile_is_a_clear_error() -> None:
    model = Sequential([Dense(1, input_dim=2)])
    with pytest.raises(ValueError, match="compile\\(\\) before fit"):
        model.fit(np.ones((4, 2)), np.ones(4), verbose=0)


def test_sparse_labels_are_checked() -> None:
    model = Sequential([Dense(3, "softmax", input_dim=2)], seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    with pytest.raises(ValueError, match=r"integer class labels in \[0, 3\)"):
        model.fit(np.ones((4, 2)), np.array([0, 1, 3, 1]), verbose=0)
    with pytest.raises(ValueError, match="integer class labels"):
        model.fit(np.ones((4, 2)), np.array([0, 1, 0.5, 1]), verbose=0)


def test_multiclass_targets_of_wrong_width() -> None:
    model = Sequential([Dense(3, "softmax", input_dim=2)], seed=0)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(np.ones((4, 2)), np.array([0, 1, 2, 1]), verbose=0)
    with pytest.raises(ValueError, match=r"expected \(n, 3\)"):
        model.fit(np.ones((4, 2)), np.ones((4, 2)), verbose=0)


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (lambda: SGD(learning_rate=-0.1), ValueError, "learning_rate must be >= 0"),
        (lambda: Adam(epsilon=-1e-7), ValueError, "epsilon must be > 0"),
        (lambda: Adam(beta_1=1.0), ValueError, "beta_1 must be < 1"),
        (lambda: SGD(momentum=2.0), ValueError, "momentum must be <= 1"),
        (lambda: Adam(clipnorm=1.0, clipvalue=1.0), ValueError, "Only one of clipnorm"),
        (lambda: Sequential(dtype="float16"), ValueError, "float32' or 'float64"),
        (lambda: Sequential(seed=-1), ValueError, "seed must be >= 0"),
    ],
)
def test_invalid_hyper_parameters(factory, error, match) -> None:
    with pytest.raises(error, match=match):
        factory()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"loss": "hinge", "optimizer": "adam"}, ValueError, "Unknown loss"),
        ({"loss": "mse", "optimizer": "adamw"}, ValueError, "Unknown optimizer"),
        ({"loss": "mse", "optimizer": 3}, TypeError, "optimizer must be"),
        ({"loss": None, "optimizer": "adam"}, ValueError, "needs a loss"),
        ({"loss": "mse", "metrics": ["f1"]}, ValueError, "Unknown metric"),
        ({"loss": "mse", "metrics": "accuracy"}, TypeError, "list of names"),
    ],
)
def test_compile_rejects_bad_arguments(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        Sequential([Dense(1, input_dim=2)]).compile(**kwargs)


def test_adding_a_layer_twice_is_rejected() -> None:
    layer = Dense(2, input_dim=2)
    model = Sequential([layer])
    with pytest.raises(ValueError, match="already part of this model"):
        model.add(layer)
    with pytest.raises(TypeError, match="expects a Layer"):
        model.add("dense")


def test_callbacks_receive_every_event_in_order() -> None:
    # Overridden hooks, hooks set on the instance, and a subclass of a
    # subclass all fire, in list order; History (appended by fit) sees the
    # same epochs.
    x, y = _xor_data()
    events: list[tuple[str, str, int | None]] = []

    class Recorder(Callback):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def on_train_begin(self, logs=None) -> None:
            events.append((self.name, "train_begin", None))

        def on_epoch_end(self, epoch, logs=None) -> None:
            assert logs is not None and "loss" in logs
            events.append((self.name, "epoch_end", epoch))

    class Later(Recorder):
        def on_epoch_begin(self, epoch, logs=None) -> None:
            events.append((self.name, "epoch_begin", epoch))

    plain = Callback()
    plain.on_epoch_end = lambda epoch, logs=None: events.append(("lambda", "epoch_end", epoch))
    model = _mlp()
    history = model.fit(
        x, y, epochs=2, batch_size=64, verbose=0, callbacks=[Recorder("a"), plain, Later("b")]
    )
    assert events == [
        ("a", "train_begin", None),
        ("b", "train_begin", None),
        ("b", "epoch_begin", 0),
        ("a", "epoch_end", 0),
        ("lambda", "epoch_end", 0),
        ("b", "epoch_end", 0),
        ("b", "epoch_begin", 1),
        ("a", "epoch_end", 1),
        ("lambda", "epoch_end", 1),
        ("b", "epoch_end", 1),
    ]
    assert history.epoch == [0, 1]
