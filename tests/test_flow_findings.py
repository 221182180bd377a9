"""Every finding kind: a case that triggers it and a near miss that must not; and the
rules that hold over many reports: no remedy the network already has, no two findings
advising opposite changes, every number a finding quotes the report's own."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from test_flow_verdicts import F, history, report, vanish
from vgp_native import flow
from vgp_native.experiments import compare
from vgp_native.flow.history import FlowHistory
from vgp_native.flow.thresholds import dead_limit

LAST = slice(11, 21)  # the last ten training records of ``history()``


def kinds(r: flow.GradientFlowReport) -> list[str]:
    return [f.kind for f in r.finding_details]


def text(r: flow.GradientFlowReport, kind: str) -> str:
    return next(str(f) for f in r.finding_details if f.kind == kind)


def with_modes(h: FlowHistory, train: float, infer: float) -> flow.GradientFlowReport:
    modes = {
        "metric": "accuracy",
        "train_loss": 0.1,
        "train_metric": train,
        "infer_loss": 0.9,
        "infer_metric": infer,
        "samples": 200,
    }
    h.structure = {**h.structure, "batchnorm": True}
    return flow.GradientFlowReport(
        h, history=h, thresholds=flow.Thresholds(), jacobian={}, modes=modes
    )


def test_learning_rate_finding_on_a_step_as_large_as_the_weights() -> None:
    h = history()
    h.update_ratio[5, 2] = 3.0
    r = report(h)
    assert "learning-rate" in kinds(r)
    t = text(r, "learning-rate")
    assert "by 3 of its norm" in t and "in epoch 5" in t and "1e-3 per step" in t
    assert "a smaller learning rate (e.g. 1e-4 instead of 0.001)" in t
    near = history()
    near.update_ratio[5, 2] = 0.5  # large but no divergence and below one step's worth
    assert "learning-rate" not in kinds(report(near))


def test_learning_rate_names_the_step_before_a_divergence() -> None:
    h = history()
    h.update_ratio[8, 1] = 0.2
    h.stats[9:, 1, F["grad_norm"]] = math.inf
    r = report(h)
    assert r.verdict == "non-finite"
    assert kinds(r)[:2] == ["non-finite", "learning-rate"]
    assert "turned non-finite in epoch 9" in text(r, "learning-rate")


def test_non_finite_finding_and_its_near_miss() -> None:
    h = history()
    h.stats[15:, 0, F["signal_norm"]] = math.nan
    h.first_nonfinite = {
        "epoch": 15,
        "batch": -1,
        "row": 0,
        "name": "dense_0",
        "where": "backpropagated signal",
    }
    r = report(h)
    assert kinds(r)[0] == "non-finite"
    assert "first appeared in epoch 15, in the backpropagated signal of layer 1 (dense_0)" in text(
        r, "non-finite"
    )
    near = history()
    near.stats[15:, 0, F["signal_norm"]] = 1e30  # huge but finite: exploding, not non-finite
    assert "non-finite" not in kinds(report(near))


def test_exploding_finding_and_its_near_miss() -> None:
    h = history()
    h.stats[0, 0, F["grad_norm"]] = 200.0  # 2000x the last layer's
    r = report(h)
    assert r.initial_verdict == "exploding" and "exploding" in kinds(r)
    assert "2000x the last's" in text(r, "exploding")
    near = history()
    near.stats[0, 0, F["grad_norm"]] = 50.0  # 500x: inside the band, no depth criterion
    assert "exploding" not in kinds(report(near))


def test_vanishing_and_optimizer_findings_and_their_near_miss() -> None:
    h = history()
    vanish(h, slice(0, 21))
    r = report(h)
    assert kinds(r)[:2] == ["vanishing", "optimizer"]
    assert "1e-5 of the last layer's" in text(r, "vanishing")
    near = history()
    near.stats[:, 0, F["grad_norm"]] = 2e-4  # 2e-3 of the last layer's: not vanishing
    assert not {"vanishing", "optimizer"} & set(kinds(report(near)))


@pytest.mark.parametrize(("update", "frozen"), [(1e-7, True), (1e-3, False)])
def test_frozen_is_said_only_of_weights_that_do_not_move(update: float, frozen: bool) -> None:
    h = history()
    vanish(h, slice(0, 21))
    h.optimizer = {"class_name": "SGD", "learning_rate": 0.01}
    h.update_ratio[:, 0] = update
    t = text(report(h), "optimizer")
    assert ("is frozen" in t) == frozen
    assert ("moves by" in t) == (not frozen)


def test_optimizer_never_blames_a_signal_that_is_exactly_zero_on_epsilon() -> None:
    h = history()
    h.stats[:, 0, F["grad_norm"]] = 0.0  # e.g. zero weights above it
    h.optimizer = {"class_name": "Adam", "learning_rate": 1e-3}
    r = report(h)
    t = text(r, "optimizer")
    assert "receives no gradient at all (exactly 0" in t and "epsilon" not in t
    assert "kernel gradient (layer 1 (dense_0)) is 0 of the last" in " ".join(r.findings)


def test_all_units_off_is_dead_not_vanishing() -> None:
    """A negative bias that keeps every unit of a layer off: the gradient below it is
    exactly zero; the verdict names the dead layer and the cause, not "vanishing"."""
    h = history()
    h.stats[:, 1, F["dead"]] = 1.0
    h.stats[:, 0, F["grad_norm"]] = 0.0
    h.stats[:, 0, F["signal_norm"]] = 0.0
    h.logs = [{"loss": 0.69} for _ in h.logs]
    for row in h.rows[:-1]:
        row.bias_initializer = {"class_name": "Constant", "config": {"value": -2.0}}
    r = report(h)
    assert (r.initial_verdict, r.training_verdict) == ("dead", "dead")
    assert r.initial_reason == "dead 100% at dense_1"
    t = text(r, "dead")
    assert "no gradient passes below this layer" in t and "the biases start at -2" in t
    assert "vanishing" not in kinds(r)


def test_carries_nothing_only_when_the_loss_stayed_at_chance() -> None:
    h = history()
    vanish(h, slice(0, 21))
    h.logs = [{"loss": 0.69} for _ in h.logs]
    assert "carries almost nothing of the loss" in text(report(h), "optimizer")
    h.logs = [{"loss": v} for v in np.linspace(0.69, 0.36, 20)]
    t = text(report(h), "optimizer")
    assert "carries almost nothing" not in t and "went from 0.69 to 0.36" in t


def test_dead_finding_names_a_negative_bias() -> None:
    h = history()
    h.stats[:, 1, F["dead"]] = 0.9
    h.logs = [{"loss": 0.69} for _ in h.logs]
    for row in h.rows[:-1]:
        row.bias_initializer = {"class_name": "Constant", "config": {"value": -1.0}}
    t = text(report(h), "dead")
    assert "90% of the 32 relu units of layer 2 (dense_1)" in t and "at most 77% off" in t
    assert "the biases start at -1" in t and "bias_initializer='zeros'" in t
    near = history()
    near.stats[:, 1, F["dead"]] = 0.7
    assert "dead" not in kinds(report(near))


def test_saturated_finding_and_its_near_miss() -> None:
    h = history(act="sigmoid")
    h.stats[:, 1, F["saturated"]] = 0.95
    h.logs = [{"loss": 0.69} for _ in h.logs]
    t = text(report(h), "saturated")
    assert "95% of the sigmoid outputs of layer 2" in t and "relu" in t
    h.stats[:, 1, F["saturated"]] = 0.85
    assert "saturated" not in kinds(report(h))


def test_batchnorm_disagreement_is_named_past_ten_points() -> None:
    t = text(with_modes(history(), 0.99, 0.57), "batchnorm")
    assert "accuracy 57%" in t and "99%" in t and "momentum=0.9" in t
    assert "batchnorm" not in kinds(with_modes(history(), 0.99, 0.91))


def test_plateau_only_when_the_loss_stopped_falling() -> None:
    h = history()
    h.logs = [{"loss": 0.6931 + 1e-5 * ((-1) ** k)} for k in range(20)]
    t = text(report(h), "plateau")
    assert "at the chance level" in t and "More epochs will not help" in t
    falling = history()  # the last ten epochs still fall steadily, 0.005 in all
    falling.logs = [{"loss": v} for v in np.r_[np.full(10, 0.69), np.linspace(0.69, 0.685, 10)]]
    assert "plateau" not in kinds(report(falling))


def test_healthy_finding_only_for_a_healthy_headline() -> None:
    assert kinds(report(history())) == ["healthy"]
    h = history()
    vanish(h, [0])
    assert "healthy" not in kinds(report(h))


def _at_chance(h: FlowHistory, level: float) -> FlowHistory:
    """The run's epoch losses flat at ``level`` (chance is ln 2 for its balanced labels)."""
    h.logs = [{"loss": level + 1e-5 * ((-1) ** k)} for k in range(20)]
    return h


def test_a_run_at_chance_gets_no_all_clear() -> None:
    # Healthy gradients in a run whose loss ends at chance: no "none needed".
    h = _at_chance(history(), 0.6931)
    vanish(h, [12, 14, 16, 18])  # four of the last ten: an event, not the verdict
    r = report(h)
    assert r.verdict == "healthy" and [e["verdict"] for e in r.events] == ["vanishing"]
    healthy, events = text(r, "healthy"), text(r, "events")
    assert "loss ends at the chance level" in healthy and "none needed" not in healthy
    assert "learned nothing, so they may be part of why" in events
    assert "none needed" not in events
    # Near miss: the same events in a run that learned (loss 0.3, well below ln 2).
    h = _at_chance(history(), 0.3)
    vanish(h, [12, 14, 16, 18])
    r = report(h)
    assert "Remedy: none needed" in text(r, "healthy")
    assert "Remedy: none needed: they did not last" in text(r, "events")


# -- rules over many reports ----------------------------------------------------------------

CONFIGS = {
    "seed": {},
    "relu he": {"activation": "relu", "init": "he_normal"},
    "relu he bn": {"activation": "relu", "init": "he_normal", "norm": "batchnorm"},
    "tanh glorot": {"activation": "tanh"},
    "tanh small": {"activation": "tanh", "init": "random_normal(stddev=0.05)"},
    "tanh large": {"activation": "tanh", "init": "random_normal(stddev=1)"},
    "sigmoid bn 30": {"depth": 30, "norm": "batchnorm"},
    "sigmoid residual": {"residual": "identity"},
    "sigmoid 30": {"depth": 30},
    "relu 30 glorot": {"depth": 30, "activation": "relu", "width": 16},
    "relu sgd huge lr": {"activation": "relu", "init": "he_normal", "optimizer": "sgd",
                         "learning_rate": 20.0},
    "relu adam lr 1": {"activation": "relu", "init": "he_normal", "learning_rate": 1.0},
}  # fmt: skip


@pytest.fixture(scope="module")
def runs() -> list:
    with np.errstate(all="ignore"):
        return compare(CONFIGS, epochs=40, seed=1)


def _has(run, key: str) -> bool:
    """Whether the run's configuration already has what remedy ``key`` advises."""
    c = run.config
    he = c["init"] in ("he_normal", "he_uniform")
    return {
        "batchnorm": c["norm"] == "batchnorm",
        "residual": c["residual"] != "none",
        "relu_he": c["activation"] == "relu" and he,
        "he": he,
        "leaky": c["activation"] in ("leaky_relu", "elu", "selu"),
        "critical_init": (c["activation"], c["init"])
        in (("relu", "he_normal"), ("tanh", "glorot_uniform")),
    }.get(key, False)


def test_no_remedy_repeats_the_configuration(runs) -> None:
    advised = 0
    for run in runs:
        for f in run.report.finding_details:
            for key in f.remedies:
                assert not _has(run, key), (run.label, f.kind, key)
                advised += 1
    assert advised >= 10


def test_no_report_advises_opposite_changes(runs) -> None:
    for run in runs:
        changes = {c for f in run.report.finding_details for c in f.changes}
        for knob, way in changes:
            assert (knob, -way) not in changes, (run.label, knob)


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")
_CONSTANTS = {0.25, 0.02, 1e-2, 1e-3, 0.5, 1e-7, 2.0, 1.0, 3.0, 0.9, 6.0}


def _candidates(r: flow.GradientFlowReport) -> np.ndarray:
    """Every number a finding may quote: the report's statistics, ratios and settings."""
    data = r.data
    values = [
        data.stats.ravel(),
        data.update_ratio.ravel(),
        100 * data.stats[:, :, [F["dead"], F["saturated"]]].ravel(),
        r.grad_ratios,
        r.signal_ratios,
        r.signal_factors,
        [100 * dead_limit(row.fan_out, r.thresholds) for row in r.rows],
        data.epoch_losses,
        [r.chance or 0.0, r.final_loss],
    ]
    values += [[float(v) for v in (r.theory or {}).values() if isinstance(v, (int, float))]]
    values += [[float(v) for v in vars(r.thresholds).values()]]
    values += [[100 * v for v in vars(r.thresholds).values() if isinstance(v, float)]]
    values += [[float(v) for v in (r.modes or {}).values() if isinstance(v, (int, float))]]
    values += [[100 * float(v) for v in (r.modes or {}).values() if isinstance(v, float)]]
    lr = float(data.optimizer.get("learning_rate", 0.0))
    values += [[lr, lr / 10]]
    # The plateau finding's limit: plateau_tol of the chance-level loss.
    values += [[r.thresholds.plateau_tol * (r.chance or 0.0)]]
    return np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in values])


def _matches(token: str, candidates: np.ndarray) -> bool:
    value = float(token)
    if value.is_integer() and abs(value) <= 120:  # epochs, counts, layer numbers
        return True
    if value in _CONSTANTS:
        return True
    digits = len(re.sub(r"e.*|[-.]|^0+", "", token.lstrip("-0.")))
    tol = 0.51 * 10 ** (math.floor(math.log10(abs(value))) - max(digits - 1, 0))
    finite = candidates[np.isfinite(candidates)]
    return bool(np.any(np.abs(finite - value) <= tol))


def test_every_number_a_finding_quotes_is_the_reports_own(runs) -> None:
    checked = 0
    for run in runs:
        r = run.report
        candidates = _candidates(r)
        for f in r.finding_details:
            evidence = re.sub(
                r"layer \d+|dense_\d+|sigma_w\^2|\bchi1\b|sqrt\(chi1\)|6 xi", " ", f.evidence
            )
            evidence = re.sub(
                r"epochs? [\d\-, and]+|section \d+\.\d+|\b(?:19|20)\d\d\b", " ", evidence
            )
            for token in _NUMBER.findall(evidence):
                assert _matches(token, candidates), (run.label, f.kind, token, f.evidence)
                checked += 1
    assert checked >= 50
