"""The two-part verdict on synthetic records: which part reports what, persistence,
events, the depth criterion and the width-aware dead limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vgp_native import flow
from vgp_native.datasets import make_moons
from vgp_native.flow.history import FIELDS, HIST_BINS, FlowHistory, RowInfo
from vgp_native.flow.thresholds import DepthContext, Thresholds, dead_limit
from vgp_native.flow.verdicts import judge
from vgp_native.initializers import VarianceScaling
from vgp_native.layers import Dense
from vgp_native.models import Sequential

F = {name: i for i, name in enumerate(FIELDS)}


def _rows(act: str = "relu", width: int = 32, hidden: int = 4) -> list[RowInfo]:
    he = {"class_name": "HeNormal", "config": {"seed": None}}
    rows = [
        RowInfo(f"dense_{k}", act, 2 if k == 0 else width, width, False, (0.0, 4.0), he)
        for k in range(hidden)
    ]
    return [*rows, RowInfo("output", "sigmoid", width, 1, False, (0.0, 1.0), he)]


def history(records: int = 21, act: str = "relu", width: int = 32, hidden: int = 4) -> FlowHistory:
    """A healthy run: probe plus ``records - 1`` epochs, every ratio 1, nothing dead."""
    rows = _rows(act, width, hidden)
    stats = np.zeros((records, len(rows), len(FIELDS)))
    stats[:, :, F["grad_norm"]] = 0.1
    stats[:, :, F["signal_norm"]] = 0.1
    stats[:, :, F["weight_norm"]] = 1.0
    stats[:, :, F["update_norm"]] = 1e-3
    stats[:, :, F["act_std"]] = 0.5
    return FlowHistory(
        rows=rows,
        stats=stats,
        hist=np.zeros((records, len(rows), HIST_BINS)),
        update_ratio=np.full((records, len(rows)), 1e-3),
        epoch=np.arange(records),
        batch=np.full(records, -1),
        loss=np.linspace(0.7, 0.1, records),
        logs=[{"loss": v} for v in np.linspace(0.7, 0.1, records)[1:]],
        optimizer={"class_name": "Adam", "learning_rate": 1e-3},
        loss_name="binary_crossentropy",
        sample_y=np.r_[np.zeros(10), np.ones(10)],
        structure={"batchnorm": False, "residual": False, "dropout": False},
    )


def report(h: FlowHistory, **thresholds: float) -> flow.GradientFlowReport:
    return flow.GradientFlowReport.from_history(h, **thresholds)


def vanish(h: FlowHistory, records: slice | list[int]) -> None:
    """Make the first layer's kernel gradient 1e-5 of the last's in ``records``."""
    h.stats[records, 0, F["grad_norm"]] = 1e-6


def test_healthy_run_is_healthy_in_both_parts() -> None:
    r = report(history())
    assert (r.verdict, r.initial_verdict, r.training_verdict) == ("healthy",) * 3
    assert r.events == [] and r.initial_reason == r.training_reason == ""
    assert [f.kind for f in r.finding_details] == ["healthy"]


def test_initial_part_is_the_probe_alone() -> None:
    h = history()
    vanish(h, [0])
    r = report(h)
    assert (r.initial_verdict, r.training_verdict, r.verdict) == (
        "vanishing",
        "healthy",
        "vanishing",
    )
    assert r.initial_reason == "grad 1e-5 at dense_0"
    assert r.record == 0 and r.grad_ratio == pytest.approx(1e-5)


@pytest.mark.parametrize(("n_bad", "persists"), [(5, True), (4, False)])
def test_training_part_needs_half_of_the_last_ten(n_bad: int, persists: bool) -> None:
    h = history()
    vanish(h, list(range(21 - n_bad, 21)))
    vanish(h, [2, 3])  # early, outside the window: never the training verdict
    r = report(h)
    assert r.initial_verdict == "healthy"
    assert r.training_verdict == ("vanishing" if persists else "healthy")
    if persists:
        assert r.events == [] and r.record == 20 and r.verdict == "vanishing"
    else:
        # Seen, not persistent: an event with its epochs and layers, a fact in the findings.
        assert r.verdict == "healthy"
        assert r.events == [
            {
                "verdict": "vanishing",
                "first_epoch": 2,
                "last_epoch": 20,
                "records": 2 + n_bad,
                "layers": ["dense_0"],
            }
        ]
        assert any(f.startswith("[events]") and "vanishing in 6 records" in f for f in r.findings)
        assert r.to_dict()["events"] == r.events


def test_short_runs_judge_all_their_training_records() -> None:
    h = history(records=4)  # probe + 3 epochs: the window is those 3
    vanish(h, [2, 3])
    assert report(h).training_verdict == "vanishing"
    vanish(h, [2])
    h.stats[3, 0, F["grad_norm"]] = 0.1
    assert report(h).training_verdict == "healthy"  # 1 of 3


def test_a_run_that_ends_non_finite_is_non_finite_in_training() -> None:
    h = history()
    h.stats[20, 1, F["grad_norm"]] = math.nan
    r = report(h)
    assert r.training_verdict == "non-finite" and r.verdict == "non-finite"
    assert r.training_reason == "NaN/Inf at dense_1"


def test_single_layer_in_the_middle_does_not_make_a_vanishing_network() -> None:
    """The README's seed=7 case: one middle layer below 1e-3 of the last, the first
    layer's gradient and the signal fine: not vanishing."""
    h = history()
    h.stats[:, 2, F["grad_norm"]] = 5.6e-5
    r = report(h)
    assert r.verdict == "healthy"
    assert r.layers[2]["verdict"] == "healthy"


def test_dead_limit_grows_with_the_binomial_spread() -> None:
    t = Thresholds()
    assert dead_limit(10, t) == pytest.approx(0.5 + 3 * math.sqrt(0.25 / 10))
    assert dead_limit(10, t) >= 0.97 and dead_limit(32, t) == pytest.approx(0.765, abs=1e-3)
    assert dead_limit(64, t) == pytest.approx(0.6875)
    for width, off, verdict in ((32, 0.75, "healthy"), (32, 0.78, "dead"), (10, 0.9, "healthy")):
        h = history(width=width)
        h.stats[:, 1, F["dead"]] = off
        assert report(h).verdict == verdict, (width, off)


def test_only_units_that_cannot_recover_are_dead() -> None:
    """elu units below zero still pass e^x of the gradient: never "dead"."""
    h = history(act="elu")
    h.stats[:, 1, F["dead"]] = 1.0
    assert report(h).verdict == "healthy"


def test_saturation_needs_nine_in_ten_outputs() -> None:
    for value, verdict in ((0.85, "healthy"), (0.95, "saturated")):
        h = history(act="tanh")
        h.stats[:, 1, F["saturated"]] = value
        h.logs = [{"loss": 0.69} for _ in h.logs]  # not learned: a blocked layer matters
        h.sample_y = np.r_[np.zeros(10), np.ones(10)]
        assert report(h).verdict == verdict


def test_unit_conditions_of_a_network_that_has_learned_are_events() -> None:
    """Saturated units in a network whose loss fell below half of chance are the
    confident features of a fitted network: reported as an event, not the verdict."""
    h = history(act="tanh")
    h.stats[1:, 1, F["saturated"]] = 0.98
    h.logs = [{"loss": 0.05} for _ in h.logs]
    r = report(h)
    assert r.training_verdict == "healthy"
    assert [e["verdict"] for e in r.events] == ["saturated"]
    h.logs = [{"loss": 0.6} for _ in h.logs]
    assert report(h).training_verdict == "saturated"


def _judge_depth(signal_ratio: float, hidden: int, ctx: DepthContext) -> str:
    rows = _rows(hidden=hidden)
    grad = np.full((1, len(rows)), 0.1)
    signal = np.full((1, len(rows)), 0.1)
    signal[0, :hidden] = 0.1 * signal_ratio ** (1 - np.arange(hidden) / (hidden - 1))
    fields = {"grad_norm": grad, "signal_norm": signal, "weight_norm": np.ones_like(grad)}

    def field(name: str) -> np.ndarray:
        return fields.get(name, np.zeros_like(grad))

    v = judge(field, np.zeros_like(grad), rows, Thresholds(), initial=np.array([True]), depth=ctx)
    return str(v.record[0])


def test_depth_criterion_from_the_measured_factor() -> None:
    """Without a mean-field prediction: hidden - 1 > 6 xi_f, i.e. a decay beyond e^3."""
    ctx = DepthContext(applies=True)
    assert _judge_depth(0.06, 16, ctx) == "healthy"
    assert _judge_depth(0.04, 16, ctx) == "vanishing"
    assert _judge_depth(25.0, 30, ctx) == "exploding"
    assert _judge_depth(25.0, 30, DepthContext(applies=False)) == "healthy"  # batch norm


def test_depth_criterion_follows_mean_field_where_it_applies() -> None:
    """tanh at sigma_w^2 = 4: chi1 = 1.36, 6 xi = 19.4 layers. 30 hidden layers are
    beyond it, and a signal growing 16x (inside 1e-3..1e3) is named exploding; the same
    growth within the trainable depth, or against the theory's direction, is not."""
    mf = flow.theory.mean_field("tanh", 4.0)
    ctx = DepthContext(applies=True, chi1=mf["chi1"], depth_scale=mf["depth_scale"])
    assert mf["trainable_depth"] == pytest.approx(19.4, abs=0.1)
    assert _judge_depth(16.0, 30, ctx) == "exploding"
    assert _judge_depth(16.0, 16, ctx) == "healthy"
    assert _judge_depth(2.0, 30, ctx) == "healthy"  # less than an e-fold: the numbers disagree
    assert _judge_depth(0.01, 30, ctx) == "healthy"


def test_tanh_sigma_w2_4_at_depth_30_is_exploding_at_initialization() -> None:
    """The case the old 1e-3..1e3 band missed: first/last ratios near 200 at init."""
    x, y = make_moons(n_samples=300, noise=0.1, random_state=0)
    model = Sequential(seed=0)
    init = VarianceScaling(scale=4.0, mode="fan_in", distribution="untruncated_normal")
    model.add(Dense(32, activation="tanh", input_dim=2, kernel_initializer=init))
    for _ in range(29):
        model.add(Dense(32, activation="tanh", kernel_initializer=init))
    model.add(Dense(1, activation="sigmoid", kernel_initializer=init))
    model.compile(loss="binary_crossentropy", optimizer="adam")
    r = flow.analyze(model, x, y)
    assert 1.0 < r.signal_ratio < 1e3 and r.grad_ratio < 1e3  # inside the old band
    assert r.verdict == "exploding"
    text = next(f for f in r.findings if f.startswith("[exploding]"))
    assert "chi1 = 1.36" in text and "30 hidden layers" in text
