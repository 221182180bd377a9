"""Many epochs per native call (``Network.train_epochs``, ``_engine.fit.fit_epochs``).

When nothing in Python acts between two epochs (no callback hook but the
History's, no validation, no statistics), ``fit`` runs the epochs of a block
of drawn orders in one native call. It must train bit for bit as one
``train_epoch`` call per epoch, record the same History, leave the generators
where the per-epoch loop leaves them, and fall back to that loop whenever
Python has something to do at an epoch's end.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
import pytest

from vgp_native import _core
from vgp_native._engine import order
from vgp_native._engine.order import DropoutSeeds, EpochOrders
from vgp_native.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    GradientFlow,
    History,
    TerminateOnNaN,
)
from vgp_native.layers import Dense, Dropout
from vgp_native.models import Sequential


class EpochEndNoop(Callback):
    """Acts at every epoch's end (doing nothing): forces the per-epoch loop."""

    def on_epoch_end(self, epoch, logs=None):
        pass


class EpochBeginNoop(Callback):
    def on_epoch_begin(self, epoch, logs=None):
        pass


class BatchNoop(Callback):
    def on_train_batch_end(self, batch, logs=None):
        pass


class CountingNet:
    """Stands in for the native network, counting the epoch entry points' calls."""

    def __init__(self, net: Any) -> None:
        self._net = net
        self.calls = {"train_epoch": 0, "train_epochs": 0, "train_batch": 0}
        self.epochs_per_call: list[int] = []  # train_epochs' epochs (rows of `out`)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._net, name)
        if name in self.calls:

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls[name] += 1
                if name == "train_epochs":
                    self.epochs_per_call.append(args[5].shape[0])
                return attr(*args, **kwargs)

            return counted
        return attr


def _data(n: int = 90, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.float64)


def _model(dtype: str = "float32", dropout: bool = False, metric: bool = True) -> Sequential:
    model = Sequential(seed=7, dtype=dtype)
    model.add(Dense(6, "tanh", input_dim=3))
    if dropout:
        model.add(Dropout(0.25))
    model.add(Dense(5, "sigmoid"))
    model.add(Dense(1, "sigmoid"))
    model.compile(
        loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"] if metric else None
    )
    return model


def _counting(model: Sequential, x: np.ndarray, y: np.ndarray) -> CountingNet:
    model.fit(x, y, epochs=0, verbose=0)  # builds the native network
    counting = CountingNet(model.engine.net)
    model.engine.net = counting
    return counting


def _generators(model: Sequential) -> tuple[Any, Any]:
    engine = model.engine
    return engine.shuffle_rng.bit_generator.state, engine.dropout_rng.bit_generator.state


def test_history_implements_the_two_hooks_a_fit_calls_itself() -> None:
    # A fit whose only callback is its History calls History.on_train_begin and
    # on_epoch_end itself (run_fit, without the CallbackList's dispatch): a hook
    # History came to implement beyond these would be skipped there. (The
    # chunked test below compares such fits with fits through the dispatch.)
    hooks = [name for name in dir(Callback) if name.startswith("on_")]
    dispatch = CallbackList([History()], None, {})
    assert [hook for hook in hooks if dispatch.overriding(hook)] == [
        "on_epoch_end",
        "on_train_begin",
    ]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("dropout", [False, True])
@pytest.mark.parametrize("metric", [True, False])
@pytest.mark.parametrize("block", [order.BLOCK_ELEMENTS, 400])
def test_chunked_epochs_train_as_one_call_per_epoch(
    monkeypatch: pytest.MonkeyPatch,
    dtype: str,
    shuffle: bool,
    dropout: bool,
    metric: bool,
    block: int,
) -> None:
    # block 400: 4 epochs of 90 rows per block, so one fit makes several
    # native calls, the last one short; two fits, the second from epoch 9.
    monkeypatch.setattr(order, "BLOCK_ELEMENTS", block)
    x, y = _data()
    chunked, per_epoch = _model(dtype, dropout, metric), _model(dtype, dropout, metric)
    counting = _counting(chunked, x, y)
    histories = {}
    for name, model, cbs in (("chunked", chunked, []), ("per_epoch", per_epoch, [EpochEndNoop()])):
        first = model.fit(x, y, epochs=9, batch_size=16, shuffle=shuffle, verbose=0, callbacks=cbs)
        second = model.fit(
            x, y, epochs=14, initial_epoch=9, batch_size=16, shuffle=shuffle, verbose=0,
            callbacks=cbs,
        )  # fmt: skip
        histories[name] = (first.epoch, first.history, second.epoch, second.history)
    assert counting.calls["train_epoch"] == 0
    # Calls: one per fit, or one per block of 4 epochs (9 = 4 + 4 + 1, 5 = 4 + 1),
    # whether the block holds orders or not.
    assert counting.calls["train_epochs"] == (3 + 2 if block == 400 else 2)
    assert histories["chunked"] == histories["per_epoch"]
    keys = ["loss", "accuracy"] if metric else ["loss"]
    assert list(histories["chunked"][1]) == keys and histories["chunked"][2] == list(range(9, 14))
    assert all(isinstance(v, float) for v in histories["chunked"][3]["loss"])
    for a, b in zip(chunked.get_weights(), per_epoch.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert _generators(chunked) == _generators(per_epoch)


@pytest.mark.parametrize(
    "callbacks",
    [
        [EpochEndNoop()],
        [EpochBeginNoop()],
        [BatchNoop()],
        [GradientFlow()],
        [TerminateOnNaN()],
        [EarlyStopping(monitor="loss", patience=100)],
    ],
    ids=["epoch_end", "epoch_begin", "batch_hook", "gradient_flow", "terminate_on_nan", "early"],
)
def test_epochs_run_one_per_call_when_python_acts_between_them(callbacks: list[Any]) -> None:
    x, y = _data()
    model = _model()
    counting = _counting(model, x, y)
    model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=callbacks)
    assert counting.calls["train_epochs"] == 0
    assert counting.calls["train_epoch"] + counting.calls["train_batch"] > 0


@pytest.mark.parametrize(
    "kwargs",
    [{"validation_split": 0.2}, {"verbose": 2}],
    ids=["validation", "verbose"],
)
def test_validation_and_progress_keep_the_per_epoch_loop(
    kwargs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = _data()
    model = _model()
    counting = _counting(model, x, y)
    model.fit(x, y, epochs=3, batch_size=16, **{"verbose": 0, **kwargs})
    assert counting.calls["train_epochs"] == 0 and counting.calls["train_epoch"] == 3


@pytest.mark.parametrize("shuffle", [True, False])
def test_epochs_per_call_stay_within_a_block(monkeypatch: pytest.MonkeyPatch, shuffle) -> None:
    # Many epochs and no orders to follow: still calls of a block's worth of
    # epochs, so the per-call buffers stay small whatever `epochs` is.
    monkeypatch.setattr(order, "BLOCK_ELEMENTS", 1000)
    x, y = _data()
    model = _model()
    counting = _counting(model, x, y)
    history = model.fit(x, y, epochs=50, batch_size=16, shuffle=shuffle, verbose=0)
    assert len(history.epoch) == 50
    assert counting.epochs_per_call == [11, 11, 11, 11, 6]  # 1000 // 90 rows a block


class InterruptingNet(CountingNet):
    """Ctrl-C during the ``at``-th ``train_epochs`` call, after ``after`` of its epochs,
    or before it starts (``after`` None), leaving ``out`` and the shuffling
    generator as the native loop does when Ctrl-C stops the epoch after
    ``after``: that epoch's order drawn, its row of ``out`` -2."""

    def __init__(self, net: Any, at: int, after: int | None) -> None:
        super().__init__(net)
        self.at, self.after = at, after

    def __getattr__(self, name: str) -> Any:
        if name != "train_epochs":
            return super().__getattr__(name)
        real = super().__getattr__(name)

        def interrupted(x, y, perms, batch_size, seeds, out, bitgen=None):
            if self.calls["train_epochs"] + 1 < self.at:
                return real(x, y, perms, batch_size, seeds, out, bitgen)
            if self.after is not None:
                m = self.after
                part = np.full((m, 3), -1.0)
                real(x, y, None, batch_size, None if seeds is None else seeds[:m], part, bitgen)
                if bitgen is not None:
                    _core.permutations(bitgen, len(x), 1)  # the stopped epoch's order
                out[:m] = part
                out[m, 2] = -2.0
            raise KeyboardInterrupt

        return interrupted


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("after", [0, 2, None], ids=["first_epoch", "third_epoch", "before"])
def test_ctrl_c_during_a_call_keeps_the_completed_epochs(
    monkeypatch: pytest.MonkeyPatch, after: int | None, shuffle: bool
) -> None:
    # Calls of 4 epochs; Ctrl-C in the second call. The History holds the
    # completed epochs, exactly as a per-epoch twin records them, and the
    # generators stand where the twin's do, after one more epoch's draws (the
    # stopped epoch's, drawn before it ran) when Ctrl-C came during the call.
    monkeypatch.setattr(order, "BLOCK_ELEMENTS", 400)
    x, y = _data()
    model = _model(dropout=True)
    model.fit(x, y, epochs=0, verbose=0)
    model.engine.net = InterruptingNet(model.engine.net, at=2, after=after)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=12, batch_size=16, shuffle=shuffle, verbose=0)
    done = 4 + (after or 0)
    assert model.history.epoch == list(range(done))
    twin = _model(dropout=True)
    twin.fit(
        x, y, epochs=done, batch_size=16, shuffle=shuffle, verbose=0, callbacks=[EpochEndNoop()]
    )
    assert twin.history.history == model.history.history
    if after is not None:
        if shuffle:
            twin.engine.shuffle_rng.permutation(len(x))
        twin.engine.dropout_rng.integers(0, 2**63, size=6, dtype=np.uint64)
    assert _generators(model) == _generators(twin)


def test_ctrl_c_between_the_draws_of_a_call_draws_nothing_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The orders taken, Ctrl-C before the seeds are: no epoch of the call ran
    # or was drawn for, both generators stand after the completed epochs.
    monkeypatch.setattr(order, "BLOCK_ELEMENTS", 400)
    x, y = _data()
    model = _model(dropout=True)
    model.fit(x, y, epochs=0, verbose=0)
    takes = {"n": 0}
    real_take = DropoutSeeds.take

    def take(self, k):
        takes["n"] += 1
        if takes["n"] == 2:
            raise KeyboardInterrupt
        return real_take(self, k)

    monkeypatch.setattr(DropoutSeeds, "take", take)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=12, batch_size=16, verbose=0)
    assert model.history.epoch == [0, 1, 2, 3]
    twin = _model(dropout=True)
    twin.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[EpochEndNoop()])
    assert _generators(model) == _generators(twin)


def test_ctrl_c_while_a_block_is_drawn_leaves_the_generator_before_it() -> None:
    drawn, reference = np.random.default_rng(3), np.random.default_rng(3)
    orders = EpochOrders(drawn, 9, 40)
    real_draw = orders._draw
    calls = {"n": 0}

    def draw(k):
        calls["n"] += 1
        block = real_draw(k)
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the block drawn, not yet kept
        return block

    orders._draw = draw
    orders.take(orders.ready())  # the whole first block
    with pytest.raises(KeyboardInterrupt):
        orders.ready()
    orders._draw = real_draw
    orders.close()
    for _ in range(40):  # the first block: all 40 epochs announced
        reference.permutation(9)
    assert drawn.bit_generator.state == reference.bit_generator.state


def test_stop_requested_before_the_first_epoch_runs_one_epoch_as_before() -> None:
    class StopAtStart(Callback):
        def on_train_begin(self, logs=None):
            self.model.stop_training = True

    x, y = _data()
    model = _model()
    counting = _counting(model, x, y)
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[StopAtStart()])
    assert history.epoch == [0] and counting.calls["train_epochs"] == 0


def test_zero_epochs_record_nothing() -> None:
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=3, initial_epoch=3, verbose=0)
    assert history.epoch == [] and history.history == {}


# -- the native entry point ------------------------------------------------------------------


def _network() -> tuple[Any, np.ndarray, np.ndarray]:
    x, y = _data(40)
    model = _model()
    model.fit(x, y, epochs=0, verbose=0)
    return model.engine.net, x.astype(np.float32), y.astype(np.float32).reshape(-1, 1)


def test_train_epochs_returns_each_epochs_means_like_train_epoch() -> None:
    net, x, y = _network()
    twin, _, _ = _network()
    rng = np.random.default_rng(1)
    perms = np.stack([rng.permutation(40) for _ in range(3)])
    seeds = np.zeros((3, 4), dtype=np.uint64)
    out = np.full((3, 3), -1.0)
    assert net.train_epochs(x, y, perms, 10, seeds, out) == 3
    for e in range(3):
        loss, metric, rows, halted = twin.train_epoch(x, y, perms[e], 10, seeds[e], 0, False)
        # The means the epoch's logs give, bit for bit.
        assert (out[e, 0], out[e, 1], halted) == (loss / rows, metric / rows, False)
        assert out[e, 2] == rows
    assert net.train_epochs(x, y, None, 10, None, np.empty((0, 3))) == 0


@pytest.mark.parametrize("generator", ["PCG64", "MT19937", "Philox"])
def test_train_epochs_draws_each_order_as_generator_permutation(generator: str) -> None:
    # bitgen: the native loop draws epoch e's order right before it, the
    # same rows as Generator.permutation, the generator left where 3 such
    # calls leave it.
    net, x, y = _network()
    twin, _, _ = _network()
    drawn = np.random.Generator(getattr(np.random, generator)(5))
    reference = np.random.Generator(getattr(np.random, generator)(5))
    out = np.full((3, 3), -1.0)
    with drawn.bit_generator.lock:
        assert net.train_epochs(x, y, None, 10, None, out, drawn.bit_generator.capsule) == 3
    for e in range(3):
        perm = reference.permutation(40)
        loss, metric, rows, _ = twin.train_epoch(x, y, perm, 10, None, 0, False)
        assert (out[e, 0], out[e, 1], out[e, 2]) == (loss / rows, metric / rows, rows)
    np.testing.assert_equal(drawn.bit_generator.state, reference.bit_generator.state)
    for a, b in zip(net.params(), twin.params(), strict=True):
        np.testing.assert_array_equal(a, b)


def _foreign_capsule() -> Any:
    """A capsule of something other than a bit generator."""
    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype = ctypes.py_object
    new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    name = ctypes.create_string_buffer(b"Other")
    _foreign_capsule.keep = name  # the name must outlive the capsule
    return new_capsule(ctypes.addressof(name), name, None)


def test_train_epochs_takes_orders_or_a_generator_not_both() -> None:
    net, x, y = _network()
    rng = np.random.default_rng(0)
    perms = np.stack([rng.permutation(40) for _ in range(2)])
    state = rng.bit_generator.state
    with pytest.raises(ValueError, match="pass perms or bitgen, not both"):
        net.train_epochs(x, y, perms, 10, None, np.zeros((2, 3)), rng.bit_generator.capsule)
    with pytest.raises(ValueError, match="numpy BitGenerator's capsule"):
        net.train_epochs(x, y, None, 10, None, np.zeros((2, 3)), _foreign_capsule())
    with pytest.raises(TypeError):
        net.train_epochs(x, y, None, 10, None, np.zeros((2, 3)), "PCG64")
    assert rng.bit_generator.state == state and net.optimizer_steps == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"out": np.zeros((2, 2))}, r"out\.shape=\(2, 3\)"),
        ({"out": np.zeros(3)}, "out with 2 dimension"),
        ({"perms": np.zeros((3, 40), dtype=np.int64)}, r"perms\.shape=\(2, 40\)"),
        ({"perms": np.full((2, 40), 40, dtype=np.int64)}, "index 40 out of range"),
        ({"perms": np.full((2, 40), -1, dtype=np.int64)}, "index -1 out of range"),
        ({"seeds": np.zeros((2, 3), dtype=np.uint64)}, r"seeds\.shape=\(2, 4\)"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"y": np.zeros((39, 1), dtype=np.float32)}, "x has 40 rows but y has 39"),
    ],
)
def test_train_epochs_rejects_bad_arguments(change: dict[str, Any], message: str) -> None:
    net, x, y = _network()
    args = {"x": x, "y": y, "perms": None, "batch_size": 10, "seeds": None}
    args["out"] = np.zeros((2, 3))
    args.update(change)
    with pytest.raises(ValueError, match=message):
        net.train_epochs(**args)
    assert net.optimizer_steps == 0  # nothing trained


def test_train_epochs_output_must_be_writeable_and_apart_from_the_data() -> None:
    net, x, y = _network()
    out = np.zeros((2, 3))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writeable"):
        net.train_epochs(x, y, None, 10, None, out)
    with pytest.raises(TypeError):
        net.train_epochs(x, y, None, 10, None, np.zeros((2, 3), dtype=np.float32))
    # out over the training data (a float64 network): refused, the data kept.
    model = _model("float64")
    xd, yd = _data(40)
    model.fit(xd, yd, epochs=0, verbose=0)
    buffer = np.zeros(40 * 3 + 6)
    data = buffer[: 40 * 3].reshape(40, 3)
    data[:] = xd
    overlapping = buffer[40 * 3 - 6 :].reshape(4, 3)
    with pytest.raises(ValueError, match="out and x must not share memory"):
        model.engine.net.train_epochs(data, yd.reshape(-1, 1), None, 10, None, overlapping)
    np.testing.assert_array_equal(data, xd)


# -- drawing ahead: take, ready, give_back ------------------------------------------------------


def test_take_hands_out_the_rows_next_would() -> None:
    drawn, reference = np.random.default_rng(9), np.random.default_rng(9)
    orders = EpochOrders(drawn, 7, 10)
    assert orders.ready() == 10
    block = orders.take(4)
    assert block.shape == (4, 7) and block.flags.c_contiguous and orders.ready() == 6
    for row in block:
        np.testing.assert_array_equal(row, reference.permutation(7))
    np.testing.assert_array_equal(orders.next(), reference.permutation(7))
    with pytest.raises(ValueError, match=r"k must be in \[1, 5\], received 6"):
        orders.take(6)
    with pytest.raises(ValueError, match=r"k must be in \[1, 5\], received 0"):
        orders.take(0)


@pytest.mark.parametrize("returned", [0, 1, 3])
def test_given_back_draws_leave_the_generator_as_if_never_handed_out(returned: int) -> None:
    drawn, reference = np.random.default_rng(4), np.random.default_rng(4)
    seeds = DropoutSeeds(drawn, 5, 12)
    seeds.take(3)
    seeds.take(4)
    seeds.give_back(returned)
    for _ in range(7 - returned):
        reference.integers(0, 2**63, size=5, dtype=np.uint64)
    seeds.close()
    assert drawn.bit_generator.state == reference.bit_generator.state
    with pytest.raises(ValueError, match=r"k must be in \[0, 0\], received 1"):
        seeds.give_back(1)
