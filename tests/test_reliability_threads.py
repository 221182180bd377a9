"""Thread safety (issue 6).

The bindings release the GIL around native work and every network has its own
mutex; nothing else is shared between networks (the GEMM's packing scratch is
thread_local, the kernel choice a function-local static set once, the thread
count an atomic). So two models train truly in parallel with the results they
get one after the other, calls on one model from several threads are
serialised, and a thread reading a model's statistics while another trains it
cannot deadlock (it used to: see test_statistics_are_readable_while_training).
"""

from __future__ import annotations

import faulthandler
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from vgp_native.callbacks import GradientFlow
from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Residual
from vgp_native.models import Sequential
from vgp_native.optimizers import RMSprop

WATCHDOG_S = 300


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    # A deadlock or a hang dumps every thread's stack and ends the run instead
    # of hanging CI (also used by test_reliability_numerics).
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _data(seed: int, n: int = 600, d: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    return x, rng.integers(0, 3, size=n)


def _model_a() -> Sequential:
    # Wide enough that the GEMMs use their packed, multi-threaded path.
    m = Sequential(seed=11)
    m.add(Dense(128, "relu", input_dim=16))
    m.add(BatchNormalization())
    m.add(Residual([Dense(128, "relu"), Dropout(0.2), Dense(128)], activation="relu"))
    m.add(Dense(3, "softmax"))
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return m


def _model_b() -> Sequential:
    m = Sequential(seed=12, dtype="float64")
    m.add(Dense(96, input_dim=16))
    m.add(Activation("tanh"))
    m.add(Dense(96, "gelu"))
    m.add(Dense(3, "softmax"))
    m.compile(loss="sparse_categorical_crossentropy", optimizer=RMSprop(clipnorm=1.0))
    return m


def _train(make: Callable[[], Sequential], seed: int) -> tuple[list[np.ndarray], dict]:
    x, y = _data(seed)
    model = make()
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    return model.get_weights(), history.history


def _in_threads(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs in parallel threads, released together; re-raise any failure."""
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = jobs[i]()
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def _assert_same(a: tuple[list[np.ndarray], dict], b: tuple[list[np.ndarray], dict]) -> None:
    assert a[1] == b[1]
    for wa, wb in zip(a[0], b[0], strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_two_models_in_two_threads_match_sequential_runs() -> None:
    sequential = [_train(_model_a, 1), _train(_model_b, 2)]
    for _ in range(2):
        parallel = _in_threads([lambda: _train(_model_a, 1), lambda: _train(_model_b, 2)])
        _assert_same(parallel[0], sequential[0])
        _assert_same(parallel[1], sequential[1])


def test_same_architecture_in_four_threads() -> None:
    # Four copies of one model on different data: each matches its serial run.
    serial = [_train(_model_a, s) for s in range(4)]
    parallel = _in_threads([lambda s=s: _train(_model_a, s) for s in range(4)])
    for p, s in zip(parallel, serial, strict=True):
        _assert_same(p, s)


def test_predict_from_many_threads_on_one_model() -> None:
    x, y = _data(3, n=2000)
    model = _model_a()
    model.fit(x[:200], y[:200], epochs=1, verbose=0)
    inputs = [np.ascontiguousarray(x[i::6]) for i in range(6)]
    expected = [model.predict(xi, batch_size=64, verbose=0) for xi in inputs]
    for _ in range(3):
        got = _in_threads(
            [lambda xi=xi: model.predict(xi, batch_size=64, verbose=0) for xi in inputs]
        )
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, e)
    evals = _in_threads([lambda: model.evaluate(x, y, verbose=0) for _ in range(4)])
    assert all(e == evals[0] for e in evals)


def test_predict_while_another_thread_trains_the_same_model() -> None:
    # Calls are serialised by the network's mutex: every prediction is the
    # output of some complete set of weights (finite, right shape), and the
    # training result is the same as without the concurrent predictions.
    x, y = _data(4)
    reference = _model_a()
    reference.fit(x, y, epochs=3, batch_size=16, verbose=0)
    model = _model_a()
    done = threading.Event()
    seen: list[np.ndarray] = []

    def predict_loop() -> None:
        while not done.is_set():
            seen.append(model.predict(x[:50], verbose=0))

    def train() -> None:
        try:
            model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        finally:
            done.set()

    _in_threads([train, predict_loop])
    assert seen, "the predicting thread never ran"
    for p in seen:
        assert p.shape == (50, 3) and np.all(np.isfinite(p))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_statistics_are_readable_while_training() -> None:
    # Regression: stats()/clear_stats()/set_loss() took the network's mutex
    # while holding the GIL, and the training thread, holding the mutex,
    # re-acquires the GIL to poll for Ctrl-C: both waited forever.
    x, y = _data(5, n=3000)
    model = _model_a()
    model.predict(x[:1], verbose=0)
    net = model.engine.net
    done = threading.Event()
    reads = [0]

    def read_loop() -> None:
        while not done.is_set():
            records, losses, _ = net.stats()
            assert records.shape[0] == losses.shape[0]
            _ = net.optimizer_steps
            reads[0] += 1

    def train() -> None:
        try:
            model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[GradientFlow()])
        finally:
            done.set()

    _in_threads([train, read_loop])
    assert reads[0] > 0
