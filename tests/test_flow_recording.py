"""GradientFlow's bookkeeping: the probe at initialization and the FlowHistory are
computed lazily, when first asked for, with the numbers an eager probe at the
start of ``fit`` gives, bit for bit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from flow_nets import seed_moons, seed_network
from vgp_native._engine import native_network, prepare_inputs, prepare_targets
from vgp_native.callbacks import Callback, GradientFlow
from vgp_native.flow import recording
from vgp_native.flow.history import FIELDS, aggregate, batch_update_ratios
from vgp_native.layers import BatchNormalization, Dense, Dropout, Residual
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD, RMSprop

NF = len(FIELDS)


def _seed() -> Sequential:
    return seed_network(seed=3)


def _mixed() -> Sequential:
    # Batch norm (moving statistics in the weights), dropout (off in the
    # probe), a residual block with a projection, SGD with momentum and clipping.
    model = Sequential(seed=5)
    model.add(Dense(12, activation="tanh", input_dim=2))
    model.add(BatchNormalization())
    model.add(Dropout(0.3))
    model.add(Residual([Dense(8, activation="relu"), Dense(6)], activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    opt = SGD(learning_rate=0.05, momentum=0.9, clipnorm=0.5)
    model.compile(loss="binary_crossentropy", optimizer=opt, metrics=["accuracy"])
    return model


def _float64() -> Sequential:
    model = Sequential(seed=7, dtype="float64")
    model.add(Dense(9, activation="elu", input_dim=2, kernel_initializer="he_normal"))
    model.add(Dense(9, activation="sigmoid"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="mse", optimizer=RMSprop(learning_rate=0.01, centered=True))
    return model


BUILDERS = {"seed": _seed, "mixed": _mixed, "float64": _float64}


def _eager_probe(
    build: Callable[[], Sequential], probe_samples: int
) -> tuple[np.ndarray, np.ndarray]:
    """What GradientFlow's probe at on_train_begin computed: probe_record at the
    initial weights, on the sample of the training data fit would take, in
    batches of fit's batch size (32)."""
    model = build()
    x, y = seed_moons()
    xa = prepare_inputs(model, x, "x")
    ya = prepare_targets(model, y, xa.shape[0], "y")
    return recording.probe_record(model, *recording.sample_rows(xa, ya, probe_samples), 32)


def _assert_probe_is(history: Any, batches: np.ndarray, losses: np.ndarray) -> None:
    assert history.epoch[0] == 0 and history.batch[0] == -1
    rec = aggregate(batches)
    np.testing.assert_array_equal(history.stats[0], rec[:, :NF])
    np.testing.assert_array_equal(history.hist[0], rec[:, NF:])
    np.testing.assert_array_equal(
        history.update_ratio[0], batch_update_ratios(batches).mean(axis=0)
    )
    assert history.loss[0] == losses.mean()


@pytest.mark.parametrize("every", ["epoch", "batch"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_lazy_probe_equals_eager_probe(name: str, every: str) -> None:
    build = BUILDERS[name]
    flow = GradientFlow(every=every, probe_samples=150)
    model = build()
    x, y = seed_moons()
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[flow])
    optimizer = {"class_name": type(model.optimizer).__name__, **model.optimizer.get_config()}
    # Whatever happens to the model afterwards does not reach the probe: other
    # weights, another optimizer and loss.
    model.set_weights([np.full_like(w, 0.5) for w in model.get_weights()])
    model.compile(loss="mse", optimizer=SGD(learning_rate=1.0))
    batches, losses = _eager_probe(build, 150)
    assert batches.shape[0] == 150 // 32  # whole batches of fit's size from the 150-row sample
    history = flow.history
    _assert_probe_is(history, batches, losses)
    assert history.optimizer == optimizer and history.loss_name == build().loss
    assert history.epoch.max() == 3


def test_fit_runs_no_probe_and_the_history_is_built_once(monkeypatch) -> None:
    calls: list[int] = []
    probe = recording.InitialState.probe

    def counted(
        self: Any, x: np.ndarray, y: np.ndarray, batch_size: int
    ) -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return probe(self, x, y, batch_size)

    monkeypatch.setattr(recording.InitialState, "probe", counted)
    flow = GradientFlow()
    model = _seed()
    model.fit(*seed_moons(), epochs=2, verbose=0, callbacks=[flow])
    assert calls == []
    history = flow.history
    assert calls == [1] and flow.history is history
    flow.report()
    assert calls == [1] and flow.history is history


class _Watch(Callback):
    """Notes ``flow.history`` at every epoch end (runs after the flow callback)."""

    def __init__(self, flow: GradientFlow) -> None:
        super().__init__()
        self.flow = flow
        self.seen: list[Any] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.seen.append(self.flow.history)


def test_history_is_the_last_ended_fit() -> None:
    flow = GradientFlow()
    watch = _Watch(flow)
    model = _seed()
    x, y = seed_moons()
    assert flow.history is None
    model.fit(x, y, epochs=2, verbose=0, callbacks=[flow, watch])
    assert watch.seen == [None, None]  # nothing before fit ends
    # During the next fit the previous one's history stays, built on request.
    model.fit(x, y, epochs=3, verbose=0, callbacks=[flow, watch])
    first = watch.seen[2]
    assert first.epoch.tolist() == [0, 1, 2]
    assert all(h is first for h in watch.seen[2:])
    assert flow.history.epoch.tolist() == [0, 1, 2, 3]
    flow.history = None  # set by hand, it stays so
    assert flow.history is None


class _ReportAt(Callback):
    def __init__(self, flow: GradientFlow, epoch: int) -> None:
        super().__init__()
        self.flow, self.epoch, self.report = flow, epoch, None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if epoch == self.epoch:
            self.report = self.flow.report()


def test_report_during_fit_covers_the_epochs_so_far() -> None:
    flow = GradientFlow()
    at = _ReportAt(flow, 1)
    _seed().fit(*seed_moons(), epochs=4, verbose=0, callbacks=[flow, at])
    assert at.report.history.epoch.tolist() == [0, 1, 2]
    assert flow.history.epoch.tolist() == [0, 1, 2, 3, 4]
    rec, loss = _eager_probe(_seed, flow.probe_samples)
    _assert_probe_is(at.report.history, rec, loss)
    _assert_probe_is(flow.history, rec, loss)


def test_report_before_fit_is_an_error() -> None:
    with pytest.raises(ValueError, match="recorded nothing yet"):
        GradientFlow().report()


def test_tracked_weights_start_at_initialization() -> None:
    flow = GradientFlow(track_weights=4)
    model = _seed()
    first_kernel = model.get_weights()[0].ravel()
    model.fit(*seed_moons(), epochs=2, verbose=0, callbacks=[flow])
    w = flow.history.weights
    assert w.shape == (3, len(model.flow_rows), 4)
    idx = np.sort(np.random.default_rng(1).choice(first_kernel.size, 4, replace=False))
    np.testing.assert_array_equal(w[0, 0], first_kernel[idx])


def test_take_stats_returns_and_clears() -> None:
    model = _seed()
    x, y = seed_moons()
    xa = prepare_inputs(model, x, "x")
    net = native_network(model, xa.shape[1])
    ya = prepare_targets(model, y, xa.shape[0], "y")
    net.train_epoch(xa, ya, None, 64, None, 2, False)
    want = net.stats()
    got = net.take_stats()
    assert want[0].shape[0] == 2  # batches 0 and 2 of 4
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(a.shape[0] == 0 for a in net.stats())
    assert all(a.shape[0] == 0 for a in net.take_stats())


def _fit_flow(every: str = "epoch", extra: list[Callback] | None = None, **kw: Any) -> GradientFlow:
    flow = GradientFlow(every=every, track_weights=3)
    model = _seed()
    cbs = [flow] if extra is None else [cb(flow) if callable(cb) else cb for cb in extra]
    model.fit(*seed_moons(), epochs=5, batch_size=48, verbose=0, callbacks=cbs, **kw)
    return flow


def _assert_same_history(a: Any, b: Any) -> None:
    for name in ("stats", "hist", "update_ratio", "epoch", "batch", "loss", "weights"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.first_nonfinite == b.first_nonfinite and a.logs == b.logs


@pytest.mark.parametrize("every", ["epoch", "batch"])
def test_records_handed_over_in_small_pieces(every: str, monkeypatch) -> None:
    # fit hands the records over every other epoch or so, the flow folds them
    # every few batches: the same history as in one piece.
    want = _fit_flow(every).history
    monkeypatch.setattr("vgp_native._engine.feed.FEED_BYTES", 7 * 9 * 34 * 8)
    monkeypatch.setattr(recording, "FLUSH_BATCHES", 3)
    _assert_same_history(_fit_flow(every).history, want)


class _Midway(Callback):
    """Asks for a report and probes the network (flow.analyze) in the middle of fit."""

    def __init__(self, flow: GradientFlow, where: str) -> None:
        super().__init__()
        self.flow, self.where, self.reports = flow, where, []

    def _poke(self) -> None:
        from vgp_native import flow as vflow

        self.reports.append(self.flow.report())
        vflow.analyze(self.model, *seed_moons())

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if self.where == "batch" and batch == 2:
            self._poke()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self.where == "epoch":
            self._poke()


@pytest.mark.parametrize("where", ["batch", "epoch"])
@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("every", ["epoch", "batch"])
def test_reports_and_probes_during_fit(every: str, first: bool, where: str) -> None:
    # A report or a probe on the same network while fit runs (before or after
    # the flow's own hooks, between batches or at an epoch's end) takes the
    # records out early: the history stays that of an undisturbed run, each
    # report covers the epochs the flow has seen end.
    want = _fit_flow(every).history
    watch: list[_Midway] = []

    def midway(flow: GradientFlow) -> _Midway:
        watch.append(_Midway(flow, where))
        return watch[-1]

    got = _fit_flow(every, [midway, lambda f: f] if first else [lambda f: f, midway])
    _assert_same_history(got.history, want)
    # The first report covers the epochs ended so far (none in the first
    # epoch's batches, or before the flow's on_epoch_end); later ones during
    # the same fit give that history again (as history does, until fit ends).
    seen = 1 if where == "epoch" and not first else 0
    assert [sorted(set(r.history.epoch.tolist())) for r in watch[0].reports] == [
        list(range(seen + 1))
    ] * 5


class _Boom(Callback):
    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if epoch == 2:
            raise RuntimeError("boom")


@pytest.mark.parametrize("first", [True, False])
def test_an_exception_keeps_the_epochs_that_ended(first: bool) -> None:
    flow = GradientFlow()
    cbs = [_Boom(), flow] if first else [flow, _Boom()]
    with pytest.raises(RuntimeError, match="boom"):
        _seed().fit(*seed_moons(), epochs=5, verbose=0, callbacks=cbs)
    assert flow.history is None  # fit did not end
    assert flow.report().history.epoch.tolist() == ([0, 1, 2] if first else [0, 1, 2, 3])
    assert _seed().engine.net.stats()[0].shape[0] == 0
