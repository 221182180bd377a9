"""Reports on the seed network and its remedies: verdicts, ratios, output formats."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import vgp_native.callbacks as callbacks
from flow_nets import seed_moons, seed_network
from vgp_native import flow
from vgp_native._format import num
from vgp_native.datasets import make_moons
from vgp_native.flow.table import WIDTH
from vgp_native.layers import Dense
from vgp_native.models import Sequential

# DESIGN.md's per-layer keys, in order.
DESIGN_LAYER_KEYS = (
    "name grad_norm grad_mean_abs grad_max_abs weight_norm update_ratio signal_norm act_mean "
    "act_std saturated dead nonfinite verdict"
).split()


@pytest.fixture(scope="module")
def moons() -> tuple[np.ndarray, np.ndarray]:
    return seed_moons()


@pytest.mark.parametrize("seed", range(5))
def test_seed_network_vanishes_at_initialization(moons, seed: int) -> None:
    report = flow.analyze(seed_network(seed), *moons)
    assert report.grad_ratio < 1e-3
    assert report.signal_ratio < 1e-3
    assert report.verdict == "vanishing"
    assert report.layers[0]["verdict"] == "vanishing"
    assert report.layers[-1]["verdict"] == "healthy"
    assert report.finding_details[0].kind == "vanishing"


@pytest.mark.parametrize(
    ("kind", "activation", "init"),
    [
        ("plain", "relu", "he_normal"),
        ("batchnorm", "sigmoid", "glorot_uniform"),
        ("residual", "sigmoid", "glorot_uniform"),
    ],
)
@pytest.mark.parametrize("seed", range(5))
def test_remedies_are_not_vanishing(moons, kind: str, activation: str, init: str, seed) -> None:
    report = flow.analyze(seed_network(seed, kind, activation, init), *moons)
    assert report.verdict != "vanishing"
    assert report.grad_ratio > 1e-2
    assert report.signal_ratio > 1e-2
    assert "vanishing" not in [f.kind for f in report.finding_details]


@pytest.mark.parametrize("seed", range(3))
def test_deep_relu_glorot_vanishes_by_signal_he_does_not(moons, seed: int) -> None:
    """DESIGN.md: in a 30-layer relu net with glorot init the kernel gradients look
    even while the signal falls; with he init the signal holds."""
    glorot = flow.analyze(seed_network(seed, activation="relu", depth=29, width=16), *moons)
    assert glorot.grad_ratio > 1e-2  # the kernel gradients alone look fine
    assert glorot.signal_ratio < 1e-3
    assert glorot.verdict == "vanishing"
    he = flow.analyze(
        seed_network(seed, activation="relu", init="he_normal", depth=29, width=16), *moons
    )
    assert he.signal_ratio > 1e-2
    assert he.verdict != "vanishing"


def test_thresholds_are_configurable(moons) -> None:
    model = seed_network(0)
    # The band and the mean-field depth criterion (6 xi) are both thresholds.
    assert flow.analyze(model, *moons, vanishing=1e-7).verdict == "vanishing"
    assert flow.analyze(model, *moons, vanishing=1e-7, trainable_depth=1e3).verdict == "healthy"
    strict = flow.analyze(seed_network(0, activation="relu", init="he_normal"), *moons, dead=0.05)
    assert strict.verdict == "dead"
    with pytest.raises(TypeError, match="unknown threshold"):
        flow.analyze(model, *moons, vanish=1e-3)
    with pytest.raises(ValueError, match="vanishing"):
        flow.Thresholds(vanishing=10.0, exploding=5.0)
    with pytest.raises(ValueError, match="saturated"):
        flow.Thresholds(saturated=1.5)
    assert flow.analyze(model, *moons).thresholds == flow.Thresholds()


def test_analyze_checks_its_arguments(moons) -> None:
    model = Sequential(seed=0)
    model.add(Dense(3, input_dim=2))
    with pytest.raises(ValueError, match="compile"):
        flow.analyze(model, *moons)
    model = seed_network(0)
    with pytest.raises(ValueError, match="features"):
        flow.analyze(model, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="max_samples"):
        flow.analyze(model, *moons, max_samples=0)


def test_analyze_samples_large_inputs_deterministically() -> None:
    x, y = make_moons(n_samples=5000, noise=0.1, random_state=0)
    model = seed_network(1)
    a = flow.analyze(model, x, y, max_samples=700, jacobian_samples=8)
    b = flow.analyze(model, x, y, max_samples=700, jacobian_samples=8)
    assert a.data.sample_x.shape == (700, 2)
    assert a.to_dict() == b.to_dict()
    assert a.jacobian["samples"] == 8


def test_to_dict_has_exactly_the_design_keys(moons) -> None:
    report = flow.analyze(seed_network(0), *moons)
    d = report.to_dict()
    assert list(d) == [
        "verdict",
        "initial_verdict",
        "training_verdict",
        "events",
        "layers",
        "grad_ratio",
        "signal_ratio",
        "findings",
        "jacobian",
    ]
    # A snapshot: all three verdicts are its one verdict.
    assert d["verdict"] == d["initial_verdict"] == d["training_verdict"] == "vanishing"
    assert d["events"] == []
    assert len(d["layers"]) == 9
    for row in d["layers"]:
        assert list(row) == DESIGN_LAYER_KEYS
    assert d["layers"][0]["name"] == report.rows[0].name
    assert all(isinstance(f, str) and "Remedy:" in f for f in d["findings"])
    assert {"input_output", "layers", "samples", "mode"} <= set(d["jacobian"])


def test_to_json_round_trips_and_writes_atomically(moons, tmp_path) -> None:
    report = flow.analyze(seed_network(0), *moons)
    path = tmp_path / "report.json"
    text = report.to_json(path)
    assert path.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    assert json.loads(text) == flow.json_safe(report.to_dict())
    loaded = json.loads(text)
    assert loaded["grad_ratio"] == pytest.approx(report.grad_ratio)
    assert loaded["layers"][3]["signal_norm"] == pytest.approx(report.layers[3]["signal_norm"])


def test_json_encodes_nan_and_inf_as_valid_values() -> None:
    data = {"a": math.nan, "b": [math.inf, -math.inf, np.float32(2.5)], "c": np.arange(2)}
    safe = flow.json_safe(data)
    assert safe == {"a": None, "b": ["Infinity", "-Infinity", 2.5], "c": [0, 1]}
    json.dumps(safe, allow_nan=False)


def test_print_report_is_a_readable_table(moons, capsys) -> None:
    report = flow.analyze(seed_network(0), *moons)
    print(report)
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == (
        f"Gradient flow: VANISHING (signal {num(report.signal_ratio)} at {report.rows[0].name}), "
        "at the current weights"
    )
    assert max(len(line) for line in lines) <= WIDTH
    header = next(line for line in lines if line.lstrip().startswith("# layer"))
    assert "g/last" in header and "verdict" in header
    table = lines[lines.index(header) + 1 : lines.index(header) + 10]
    assert [line.split()[1] for line in table] == [r.name for r in report.rows]
    assert table[0].split()[-1] == "vanishing"
    assert "Findings:" in lines
    assert "- [vanishing]" in text and "Remedy:" in text
    assert "mean field: sigmoid" in text
    assert f"ratio {num(report.grad_ratio)}," in lines[1]  # the package's one number format


def test_run_report_covers_every_epoch(moons) -> None:
    model = seed_network(0)
    gf = callbacks.GradientFlow()
    model.fit(*moons, epochs=5, batch_size=32, verbose=0, callbacks=[gf])
    report = gf.report()
    assert report.history is gf.history
    assert report.history.epoch.tolist() == [0, 1, 2, 3, 4, 5]
    assert report.record_verdicts.tolist() == ["vanishing"] * 6
    assert (report.record, report.epoch) == (0, 0)  # the first record with the verdict
    assert report.grad_ratio == pytest.approx(report.grad_ratios[0])
    assert "epochs 0-5 (0 = initialization)" in report.findings[0]
    assert report.initial_verdict == report.training_verdict == "vanishing"
    text = str(report)
    assert text.splitlines()[0].startswith("Gradient flow: VANISHING: at initialization vanishing")
    assert "; in training vanishing (" in " ".join(text.split())
    with pytest.raises(ValueError, match="recorded nothing"):
        callbacks.GradientFlow().report()


def test_overall_verdict_is_the_most_severe_seen(moons) -> None:
    """A healthy last epoch does not hide a vanishing start, and a report from a
    history without a model has no Jacobian but the same verdicts."""
    model = seed_network(0, depth=6)
    gf = callbacks.GradientFlow()
    model.fit(*moons, epochs=100, batch_size=32, verbose=0, callbacks=[gf])
    report = gf.report()
    verdicts = report.record_verdicts
    assert verdicts[0] == "vanishing" and verdicts[-1] != "vanishing"
    # The two parts: vanishing as initialized, recovered through training.
    assert report.initial_verdict == "vanishing" and report.training_verdict == "healthy"
    assert report.verdict == "vanishing"
    assert report.epoch == 0
    detached = flow.GradientFlowReport.from_history(gf.history)
    assert detached.jacobian == {}
    assert detached.verdict == report.verdict
    assert detached.findings == report.findings
    assert "Training recovered" in report.findings[0]
