"""The demo's twelve networks get the verdicts their initialization and outcome call for."""

from __future__ import annotations

import pytest

from vgp_native.cli.demo import DEMO_CONFIGS
from vgp_native.experiments import compare


@pytest.fixture(scope="module")
def demo() -> dict:
    runs = compare({label: config for label, _, config in DEMO_CONFIGS}, epochs=100, seed=0)
    return {run.label: run for run in runs}


@pytest.mark.parametrize(
    "label",
    [
        "relu + he_normal",
        "tanh + Xavier (glorot)",
        "batch normalization",
        "residual blocks",
        "30 layers: relu + he",
        "30 layers: residual",
    ],
)
def test_sound_networks_that_train_are_healthy_in_training(demo, label: str) -> None:
    run = demo[label]
    assert run.result["val_accuracy"] >= 0.85
    assert run.report.training_verdict == "healthy"
    assert run.result["training_verdict"] == "healthy"


@pytest.mark.parametrize(
    "label", ["relu + he_normal", "tanh + Xavier (glorot)", "30 layers: relu + he"]
)
def test_sound_initializations_are_healthy_at_initialization(demo, label: str) -> None:
    report = demo[label].report
    assert report.initial_verdict == "healthy" and report.verdict == "healthy"
    assert not any(f.startswith("[dead]") or f.startswith("[vanishing]") for f in report.findings)


@pytest.mark.parametrize("label", ["seed: 8 sigmoid layers", "30 layers: sigmoid"])
def test_sigmoid_stacks_vanish_at_initialization_and_in_training(demo, label: str) -> None:
    run = demo[label]
    report = run.report
    assert (report.initial_verdict, report.training_verdict) == ("vanishing", "vanishing")
    assert run.result["val_accuracy"] <= 0.6  # at chance
    assert report.initial_reason.startswith("signal ")


def test_naive_small_tanh_vanishes_at_initialization_by_its_signal(demo) -> None:
    """Its kernel-gradient ratio looks fine (about 0.75); the signal ratio is why."""
    run = demo["tanh + naive N(0, 0.05)"]
    assert run.result["grad_ratio"] > 0.1
    assert run.report.initial_verdict == "vanishing"
    assert run.report.initial_reason.startswith("signal ")
    assert run.result["signal_ratio"] < 1e-3


def test_deep_batch_norm_names_its_train_inference_disagreement(demo) -> None:
    run = demo["30 layers: batch norm"]
    modes = run.report.modes
    assert modes["train_metric"] - modes["infer_metric"] > 0.1
    text = next(f for f in run.report.findings if f.startswith("[batchnorm]"))
    assert "inference mode" in text and "training mode" in text
    assert f"{100 * modes['infer_metric']:.0f}%" in text
