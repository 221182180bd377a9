"""Numerical edge cases (issue 6): a network that explodes.

30 relu layers initialised with RandomNormal(stddev=3) multiply the signal by
about 3 * sqrt(16 / 2) ~ 8.5 per layer: the first loss is ~1e25 and a plain SGD
step with a large learning rate sends the weights far enough that the next
forward pass overflows. With TerminateOnNaN, fit stops cleanly at the first
non-finite step and the model keeps the last weights whose forward and
backward pass were finite; without it, GradientFlow's records say in which
epoch and layer the first non-finite value appeared. Nothing hangs: every
run here is bounded by a watchdog.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from test_reliability_threads import watchdog  # noqa: F401 (autouse: ends a hung test)
from vgp_native.callbacks import Callback, GradientFlow, TerminateOnNaN
from vgp_native.initializers import RandomNormal
from vgp_native.layers import BatchNormalization, Dense
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD


def _data(n: int = 256) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))
    y = (x[:, :1] * x[:, 1:2] > 0).astype(np.float64)
    return x, y


def _exploding(dtype: str = "float32", lr: float = 1.0, bn_at_end: bool = False) -> Sequential:
    init = RandomNormal(stddev=3.0)
    model = Sequential(seed=0, dtype=dtype)
    model.add(Dense(16, "relu", input_dim=4, kernel_initializer=init))
    for _ in range(29):
        model.add(Dense(16, "relu", kernel_initializer=init))
    if bn_at_end:
        model.add(BatchNormalization())
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=lr))
    return model


class Snapshots(Callback):
    """Weights at the start of every batch and each batch's own loss (per-batch path)."""

    def __init__(self) -> None:
        super().__init__()
        self.weights: list[list[np.ndarray]] = []
        self.losses: list[float] = []
        self._running = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self.weights.append(self.model.get_weights())

    def on_train_batch_end(self, batch, logs=None):
        # logs["loss"] is the running mean of the epoch (equal batch sizes here).
        running = logs["loss"]
        self.losses.append((batch + 1) * running - batch * self._running if batch else running)
        self._running = running


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_terminate_on_nan_keeps_the_last_finite_weights(dtype: str, capsys) -> None:
    x, y = _data()
    model = _exploding(dtype)
    first_loss = model.evaluate(x, y, verbose=0)
    assert math.isfinite(first_loss) and first_loss > 1e20  # exploding, still finite
    stop = TerminateOnNaN()
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0, callbacks=[stop])
    assert stop.terminated_epoch == len(history.epoch) - 1 < 20
    assert math.isnan(history.history["loss"][-1])
    assert "invalid loss" in capsys.readouterr().out
    kept = model.get_weights()
    assert all(np.all(np.isfinite(w)) for w in kept)
    # The kept weights still compute: the forward pass over the data is finite.
    assert math.isfinite(model.evaluate(x, y, verbose=0))
    assert np.all(np.isfinite(model.predict(x, verbose=0)))

    # The same run on the per-batch path, with a snapshot before every batch.
    # The last batch t is the one that halted. If its loss or gradients were
    # non-finite, the weights it started from came out of the previous update
    # and already overflow: the model goes back to those of batch t - 1. If
    # only its update overflowed, that update is undone: batch t's weights.
    # Either way bit for bit the epoch path's result.
    replay = _exploding(dtype)
    snaps = Snapshots()
    replay.fit(x, y, epochs=20, batch_size=32, verbose=0, callbacks=[TerminateOnNaN(), snaps])
    t = len(snaps.losses) - 1
    assert np.all(np.isfinite(snaps.losses[:t]))
    expected = (
        snaps.weights[max(t - 1, 0)] if not np.isfinite(snaps.losses[t]) else snaps.weights[t]
    )
    for a, b, c in zip(kept, replay.get_weights(), expected, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_a_halted_step_leaves_batch_norm_statistics_finite() -> None:
    # Batch norm after 30 exploding layers: the moving variance of the first
    # batch overflows float32 while the normalised output and the loss stay
    # finite. The step is refused and nothing it computed is kept.
    x, y = _data()
    model = _exploding("float32", lr=0.01, bn_at_end=True)
    before = model.get_weights()
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[TerminateOnNaN()])
    assert math.isnan(history.history["loss"][-1])
    assert len(history.epoch) == 1
    # The very first batch overflowed: nothing changed, moving statistics included.
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_update_that_overflows_is_undone() -> None:
    # Loss 1 and gradient 2 are finite, but a learning rate of 3e38 takes the
    # float32 weight past the largest float: that update is refused whole.
    model = Sequential([Dense(1, input_dim=1, kernel_initializer="ones")], seed=0)
    model.compile(loss="mse", optimizer=SGD(learning_rate=3e38))
    before = model.get_weights()
    history = model.fit(
        np.ones((4, 1)),
        np.zeros(4),
        epochs=3,
        batch_size=1,
        verbose=0,
        callbacks=[TerminateOnNaN()],
    )
    assert len(history.epoch) == 1 and math.isnan(history.history["loss"][0])
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("opt", ["adam", "rmsprop"])
def test_adaptive_optimizers_stop_on_finite_weights_that_still_compute(opt: str) -> None:
    # Adam/RMSprop on float32: the squared first gradient (~1e50) overflows
    # the second moment; whatever step fails, the model that remains computes.
    x, y = _data()
    model = _exploding("float32")
    model.compile(loss="binary_crossentropy", optimizer=opt)
    model.fit(x, y, epochs=5, batch_size=32, verbose=0, callbacks=[TerminateOnNaN()])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert math.isfinite(model.evaluate(x, y, verbose=0))


def _first_nonfinite_record(flow: GradientFlow) -> int:
    """Index of the first record in which any statistic was non-finite."""
    h = flow.history
    bad = sum(h.field(f) for f in ("grad_nonfinite", "signal_nonfinite", "act_nonfinite")) > 0
    rec = int(np.argmax(bad.any(axis=1)))
    assert bad[rec].any() and not bad[:rec].any()
    return rec


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_flow_reports_the_first_nonfinite_epoch_and_layer(dtype: str) -> None:
    x, y = _data()
    flow = GradientFlow()
    model = _exploding(dtype)
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0, callbacks=[flow])
    assert len(history.epoch) == 4  # without TerminateOnNaN training runs on
    losses = np.array(history.history["loss"])
    first_bad_epoch = int(np.argmax(~np.isfinite(losses)))
    assert not np.isfinite(losses[first_bad_epoch])
    assert np.isfinite(flow.history.loss[0])  # the probe at initialization is finite
    rec = _first_nonfinite_record(flow)
    # Record k >= 1 is the end of epoch k (Keras' "Epoch k/N").
    assert flow.history.epoch[rec] == first_bad_epoch + 1 and flow.history.batch[rec] == -1

    # Per batch: the first batch whose statistics are non-finite, and its
    # first layer with non-finite activations, checked against the layer
    # outputs of that batch's forward pass run from the weights it started
    # with. Row l is the l-th Dense layer here.
    flow_b, snaps = GradientFlow(every="batch"), Snapshots()
    replay = _exploding(dtype)
    replay.fit(x, y, epochs=4, batch_size=32, verbose=0, callbacks=[flow_b, snaps], shuffle=False)
    rec_b = _first_nonfinite_record(flow_b)
    in_epoch = int(flow_b.history.batch[rec_b])
    step = in_epoch + 8 * (int(flow_b.history.epoch[rec_b]) - 1)
    assert int(flow_b.history.epoch[rec_b]) == first_bad_epoch + 1
    probe = _exploding(dtype)
    probe.set_weights(snaps.weights[step])
    xb = np.ascontiguousarray(x[in_epoch * 32 : (in_epoch + 1) * 32], dtype=dtype)
    finite = [bool(np.all(np.isfinite(o))) for o in probe.engine.net.layer_outputs(xb, "probe")]
    act_bad = flow_b.history.field("act_nonfinite")[rec_b] > 0
    if False in finite:
        assert int(np.argmax(act_bad)) == finite.index(False)
        assert act_bad[finite.index(False) :].any() and not act_bad[: finite.index(False)].any()
    else:
        # Only the backward pass overflowed: the recorded activations are finite too.
        assert not act_bad.any()


def test_an_exploding_sweep_never_hangs() -> None:
    # Short exploding runs with every optimizer, both dtypes, with and without
    # halting: each returns (the watchdog ends a hung one with its stacks).
    x, y = _data(64)
    for dtype in ("float32", "float64"):
        for opt in ("sgd", "adam", "rmsprop"):
            for halt in (False, True):
                model = _exploding(dtype, lr=10.0)
                model.compile(loss="binary_crossentropy", optimizer=opt)
                cbs = [TerminateOnNaN()] if halt else []
                history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=cbs)
                assert 1 <= len(history.epoch) <= 3
                if halt:
                    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
                    assert len(history.epoch) == 3 or math.isnan(history.history["loss"][-1])
