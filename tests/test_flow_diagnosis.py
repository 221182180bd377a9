"""Findings over training runs: optimizer, plateau, degradation, NaN location."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest

from flow_nets import seed_moons, seed_network
from vgp_native import flow
from vgp_native.callbacks import Callback, GradientFlow, TerminateOnNaN
from vgp_native.datasets import make_moons
from vgp_native.initializers import RandomNormal
from vgp_native.layers import Activation, BatchNormalization, Dense, Residual
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD


@pytest.fixture(scope="module")
def moons() -> tuple[np.ndarray, np.ndarray]:
    return seed_moons()


def plain(
    depth: int,
    activation: str,
    init: object,
    optimizer: object,
    width: int = 10,
    seed: int = 0,
    residual: bool = False,
) -> Sequential:
    kind = "residual" if residual else "plain"
    return seed_network(seed, kind, activation, init, depth, width, optimizer)


def run(model: Sequential, x, y, epochs: int, **fit) -> flow.GradientFlowReport:
    gf = GradientFlow()
    model.fit(x, y, epochs=epochs, verbose=0, callbacks=[gf], **{"batch_size": 32, **fit})
    return gf.report()


def finding(report: flow.GradientFlowReport, kind: str) -> flow.Finding:
    found = [f for f in report.finding_details if f.kind == kind]
    assert found, f"no {kind} finding in {report.findings}"
    return found[0]


@pytest.fixture(scope="module")
def seed_runs(moons) -> dict[str, flow.GradientFlowReport]:
    """The seed network trained for 100 epochs with Adam and with SGD, and a relu one."""
    return {
        "adam": run(plain(8, "sigmoid", "glorot_uniform", "adam"), *moons, 100),
        "sgd": run(plain(8, "sigmoid", "glorot_uniform", "sgd"), *moons, 100),
        "relu_adam": run(plain(8, "relu", "he_normal", "adam"), *moons, 100),
        "relu_sgd": run(plain(8, "relu", "he_normal", "sgd"), *moons, 100),
    }


def test_adam_keeps_the_first_layer_moving(seed_runs) -> None:
    adam, relu = seed_runs["adam"], seed_runs["relu_adam"]
    train = adam.history.epoch > 0
    first = np.median(adam.history.update_ratio[train, 0])
    # Adam rescales the 1e-6-relative gradient into full-size steps: the sigmoid
    # first layer moves more than the relu one and more than its own last layer.
    assert first > adam.thresholds.frozen_update
    assert first > np.median(relu.history.update_ratio[train, 0])
    assert first > np.median(adam.history.update_ratio[train, -1])
    text = str(finding(adam, "optimizer"))
    assert "With Adam" in text and "keep moving" in text and "frozen" not in text
    assert "do not shrink with the gradient" in text
    # The loss stayed at chance in every epoch, so the gradient it follows carried nothing.
    assert "carries almost nothing of the loss" in text and "in every epoch" in text


def test_sgd_freezes_the_first_layer(seed_runs) -> None:
    sgd, relu = seed_runs["sgd"], seed_runs["relu_sgd"]
    train = sgd.history.epoch > 0
    first = np.median(sgd.history.update_ratio[train, 0])
    assert first < sgd.thresholds.frozen_update
    assert np.median(relu.history.update_ratio[train, 0]) > 100 * first
    text = str(finding(sgd, "optimizer"))
    assert "With SGD" in text and "is frozen" in text
    # No optimizer finding without a vanishing gradient.
    assert "optimizer" not in [f.kind for f in relu.finding_details]


def test_seed_symptom_plateau_at_chance(seed_runs) -> None:
    """A flat loss at chance is the seed's symptom; a loss that still falls, however
    slowly, is not a plateau ("more epochs will not help" would be false)."""
    sgd, adam = seed_runs["sgd"], seed_runs["adam"]
    assert sgd.chance == adam.chance == pytest.approx(math.log(2), abs=2e-3)
    text = str(finding(sgd, "plateau"))
    assert "chance level" in text and "seed document's symptom" in text
    assert "More epochs will not help" in text
    window = adam.history.epoch_losses[-11:]
    slope = np.polyfit(np.arange(11), window, 1)[0]
    noise = np.std(window - np.polyval(np.polyfit(np.arange(11), window, 1), np.arange(11)))
    assert -slope * 10 > 2 * noise  # Adam's seed loss still falls beyond its noise
    assert "plateau" not in [f.kind for f in adam.finding_details]
    assert not any("will not help" in f.lower() for f in adam.findings)
    assert "plateau" not in [f.kind for f in seed_runs["relu_adam"].finding_details]


def test_detect_plateau_and_chance_loss() -> None:
    flat = np.r_[np.linspace(1.0, 0.7, 20), np.full(11, 0.6931)]
    assert flow.detect_plateau(flat, 10, 1e-3) == pytest.approx((0.6931, 0.6931))
    assert flow.detect_plateau(np.linspace(1.0, 0.5, 30), 10, 1e-3) is None
    assert flow.detect_plateau(flat[:5], 10, 1e-3) is None  # too short
    assert flow.detect_plateau(np.r_[flat, math.nan], 10, 1.0) is None
    assert flow.chance_loss("binary_crossentropy", np.r_[np.zeros(50), np.ones(50)]) == (
        pytest.approx(math.log(2))
    )
    assert flow.chance_loss("binary_crossentropy", np.r_[np.zeros(75), np.ones(25)]) == (
        pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    )
    onehot = np.eye(4)[np.arange(40) % 4]
    assert flow.chance_loss("categorical_crossentropy", onehot) == pytest.approx(math.log(4))
    labels = (np.arange(30) % 3).astype(float)
    assert flow.chance_loss("sparse_categorical_crossentropy", labels) == pytest.approx(math.log(3))
    assert flow.chance_loss("mse", np.array([1.0, 3.0])) == pytest.approx(1.0)


def _tanh_bn(depth: int, seed: int, residual: bool = False) -> Sequential:
    """Dense-BatchNorm-tanh blocks (He init): batch norm keeps the gradients healthy."""
    model = Sequential(seed=seed)
    model.add(Dense(32, input_dim=2, kernel_initializer="he_normal"))
    model.add(BatchNormalization())
    model.add(Activation("tanh"))
    for _ in range(depth - 1):
        if residual:
            # Pre-activation block with a clean identity path (He et al. 2016b).
            block = [BatchNormalization(), Activation("tanh"), Dense(32)]
            model.add(Residual(block))
        else:
            model.add(Dense(32, kernel_initializer="he_normal"))
            model.add(BatchNormalization())
            model.add(Activation("tanh"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam")
    return model


def test_degradation_deep_plain_network_with_healthy_gradients() -> None:
    """He et al. 2016: 32 batch-normalized plain layers train worse than 3 although
    their gradients are healthy; residual blocks remove the gap."""
    x, y = make_moons(n_samples=200, noise=0.1, random_state=0)
    degraded = 0
    for seed in range(5):
        shallow = run(_tanh_bn(3, seed), x, y, 30)
        deep = run(_tanh_bn(32, seed), x, y, 30)
        found = flow.compare_depths(deep, shallow)
        if found is not None:
            degraded += 1
            assert deep.verdict == "healthy"
            assert deep.final_loss > shallow.final_loss
            assert found.kind == "degradation"
            assert "residual blocks" in found.remedy and "He et al. 2016" in found.evidence
            # Histories work as well as reports.
            assert flow.compare_depths(deep.history, shallow.history) is not None
        residual = run(_tanh_bn(32, seed, residual=True), x, y, 30)
        assert flow.compare_depths(residual, shallow) is None
    # Measured: 5 of 5 seeds degrade at this depth (losses 0.26-0.32 against 0.08-0.17).
    assert degraded >= 3
    with pytest.raises(ValueError, match="deeper"):
        flow.compare_depths(shallow, deep)


def test_vanishing_deep_network_is_not_called_degradation(moons, seed_runs) -> None:
    shallow = run(plain(2, "sigmoid", "glorot_uniform", "adam"), *moons, 100)
    assert seed_runs["adam"].final_loss > shallow.final_loss
    assert flow.compare_depths(seed_runs["adam"], shallow) is None


def exploding_model(seed: int = 0) -> Sequential:
    init = RandomNormal(stddev=3.0)
    model = Sequential(seed=seed)
    model.add(Dense(16, activation="relu", input_dim=2, kernel_initializer=init))
    for _ in range(11):
        model.add(Dense(16, activation="relu", kernel_initializer=init))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=0.01))
    return model


def first_overflow(weights: list[np.ndarray], x: np.ndarray) -> int:
    """Index of the first Dense whose float32 output overflows, by a float64 numpy forward."""
    a = x.astype(np.float64)
    for k in range(len(weights) // 2):
        z = a @ weights[2 * k].astype(np.float64) + weights[2 * k + 1]
        a = np.maximum(z, 0.0)
        if np.abs(a).max() > np.finfo(np.float32).max:
            return k
    return -1


@pytest.mark.parametrize("every", ["epoch", "batch"])
def test_nan_is_located_at_its_layer_and_epoch(every: str) -> None:
    x, y = make_moons(n_samples=200, noise=0.05, random_state=0)
    model = exploding_model()
    snapshots = [model.get_weights()]

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    gf, stop = GradientFlow(every=every), TerminateOnNaN()
    with contextlib.redirect_stdout(io.StringIO()):
        model.fit(
            x,
            y,
            epochs=20,
            batch_size=200,
            shuffle=False,
            verbose=0,
            callbacks=[Snapshot(), gf, stop],
        )
    report = gf.report()
    loc = gf.history.first_nonfinite
    assert stop.terminated_epoch is not None
    # TerminateOnNaN went back to weights whose passes are finite.
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert np.isfinite(model.evaluate(x, y, verbose=0))
    # The failing (only) batch of the last epoch ran with the weights of the end
    # of the epoch before: an independent float64 forward pass with them finds
    # the layer where float32 overflows.
    ran_with = snapshots[stop.terminated_epoch]
    assert loc["epoch"] == stop.terminated_epoch + 1
    assert loc["batch"] == 0
    assert loc["where"] == "activations"
    assert loc["row"] == first_overflow(ran_with, x)
    assert loc["name"] == model.flow_rows[loc["row"]].name
    # ... and it is where the recorded statistics first turn non-finite.
    nonfinite = ~np.isfinite(gf.history.field("act_mean"))
    first_record = int(np.flatnonzero(nonfinite.any(axis=1))[0])
    assert gf.history.epoch[first_record] == loc["epoch"]
    assert int(np.flatnonzero(nonfinite[first_record])[0]) == loc["row"]
    assert report.verdict == "non-finite"
    text = str(finding(report, "non-finite"))
    assert f"epoch {loc['epoch']}, batch 0, in the activations of layer {loc['row'] + 1}" in text
    assert "exploding" in [f.kind for f in report.finding_details]
    assert report.record_verdicts[0] == "exploding"  # the network exploded from the start


def test_exploding_finding_names_the_weight_scale() -> None:
    x, y = make_moons(n_samples=100, noise=0.05, random_state=0)
    report = flow.analyze(exploding_model(), x, y)
    assert report.verdict == "exploding"
    assert report.signal_ratio > 1e3
    text = str(finding(report, "exploding"))
    assert "sigma_w^2 = 144" in text and "clipnorm" in text
    assert "smaller initial weights at the edge of chaos" in text


def test_dead_units_are_reported_with_their_remedy() -> None:
    x, y = make_moons(n_samples=200, noise=0.05, random_state=0)
    # Width 64: the limit is 0.5 + 3 sqrt(0.25 / 64) = 69 % of the units off for a batch.
    model = plain(8, "relu", "he_normal", "adam", width=64)
    weights = model.get_weights()
    weights[7] = np.full(64, -50.0)  # 50 of the 4th layer's 64 units are off for every input
    weights[7][:14] = 1.0  # and 14 are on for most
    model.set_weights(weights)
    report = flow.analyze(model, x, y)
    dead = report.layers[3]["dead"]
    assert 50 / 64 <= dead < 1.0
    assert report.layers[3]["verdict"] == "dead" and report.verdict == "dead"
    text = str(finding(report, "dead"))
    assert f"{100 * dead:.0f}% of the 64 relu units of layer 4" in text and "leaky_relu" in text
    assert "at most 69% off" in text


def test_dead_limit_follows_the_width() -> None:
    """Near miss: 7 of 10 units off is within what a healthy narrow layer shows; all
    10 off stops the gradient below it: dead, and the finding says so."""
    x, y = make_moons(n_samples=200, noise=0.05, random_state=0)
    for on, dead, verdict in ((3, 0.7, "healthy"), (0, 1.0, "dead")):
        model = plain(8, "relu", "he_normal", "adam")
        weights = model.get_weights()
        weights[7] = np.full(10, -50.0)
        weights[7][:on] = 5.0  # on for every input
        model.set_weights(weights)
        report = flow.analyze(model, x, y)
        assert report.layers[3]["dead"] == pytest.approx(dead)
        assert report.verdict == verdict
    assert report.signal_ratio == 0.0  # nothing passes below layer 4
    text = str(finding(report, "dead"))
    assert "100% of the 10 relu units of layer 4" in text and "no gradient passes below" in text
