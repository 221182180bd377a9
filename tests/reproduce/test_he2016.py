"""he2016 quick run: the deeper plain network trains worse; what the report says of it;
the residual networks under the paper's schedule."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _contract import check_result

from vgp_native import flow
from vgp_native.datasets import make_spirals
from vgp_native.flow import VERDICTS
from vgp_native.reproduce import he2016 as preset


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return preset.measure(quick=True, seed=0)


def losses(m: dict[str, Any], key: str) -> np.ndarray:
    return np.array([r["loss"] for r in m["runs"][key]])


def test_deeper_plain_network_trains_worse(measured: dict[str, Any]) -> None:
    p20, p56 = losses(measured, "plain20"), losses(measured, "plain56")
    assert p20.size == 2
    assert (p56 > p20).all()
    assert preset.claims(measured)[0]["holds"]


def test_the_claim_reads_the_report(measured: dict[str, Any]) -> None:
    deep = [r["verdicts"] for r in measured["runs"]["plain56"]]
    assert all(v["verdict"] in VERDICTS for v in deep)
    assert all(v[k] in (None, *VERDICTS) for v in deep for k in ("initial", "training"))
    # Degradation is not a vanishing gradient: the report never calls it that.
    assert all(v["verdict"] != "vanishing" for v in deep)
    # Batch-normalized relu layers amplify the backpropagated gradient at initialization;
    # through training the records are healthy, and that is what the claim reads.
    assert all(v["initial"] == "exploding" and v["training"] == "healthy" for v in deep)
    assert preset.claims(measured)[1]["holds"]
    assert preset.through_training({"verdict": "exploding", "initial": None, "training": None}) == (
        "exploding"
    )
    judged_apart = {"verdict": "exploding", "initial": "exploding", "training": "healthy"}
    assert preset.through_training(judged_apart) == "healthy"
    assert measured["degradation"] == ["degradation"] * len(deep)
    # The explosion blows the first kernels up: the weight-decay term of plain-56 ends
    # thousands of times plain-20's.
    p20 = [r["penalty"] for r in measured["runs"]["plain20"]]
    p56 = [r["penalty"] for r in measured["runs"]["plain56"]]
    assert min(p56) > 1000 * max(p20)


def test_residual_blocks_train_the_deep_network(measured: dict[str, Any]) -> None:
    r20, r56 = losses(measured, "residual20"), losses(measured, "residual56")
    p56 = losses(measured, "plain56")
    # Far below the plain 56-layer network; both residual networks fit the training set
    # (error below 2 %), their losses within a factor 2 of each other.
    assert (r56 < 0.1 * p56).all()
    assert (r20 < 0.03).all() and (r56 < 0.03).all()
    for key in ("residual20", "residual56"):
        assert all(r["curve"][-preset.TAIL :].mean() < 0.02 for r in measured["runs"][key])
    assert r56.mean() < 2 * r20.mean() and r20.mean() < 2 * r56.mean()
    # "At least as well": not worse by the margin at which compare_depths names degradation.
    margin = flow.Thresholds().degradation_margin * math.log(2.0)
    assert abs(r56.mean() - r20.mean()) < margin
    assert preset.claims(measured)[2]["holds"]
    assert measured["epochs"] == 200
    assert all(len(r["curve"]) == 200 for r in measured["runs"]["residual56"])


def test_schedule_and_weight_decay_term() -> None:
    x, y = make_spirals(preset.POINTS, noise=0.1, turns=1.5, random_state=0)
    model = preset.build(preset.SHALLOW, residual=False, seed=0)
    schedule = preset.Schedule(16)
    np.testing.assert_allclose(schedule.rates, [0.1] * 8 + [0.01] * 4 + [0.001] * 4)
    model.fit(x, y, batch_size=preset.BATCH, epochs=16, verbose=0, callbacks=[schedule])
    assert model.optimizer.learning_rate == pytest.approx(0.001)
    # The term of every batch of the last TAIL epochs, at the weights it saw.
    batches = preset.POINTS // preset.BATCH
    assert [len(p) for p in schedule.penalties] == [batches] * preset.TAIL
    kernels = [w for w in model.get_weights() if w.ndim == 2]
    assert len(kernels) == preset.SHALLOW
    expected = preset.WEIGHT_DECAY / 2 * sum(float((w**2).sum()) for w in kernels)
    assert preset.penalty(model) == pytest.approx(expected, rel=1e-5)
    assert schedule.penalties[-1][-1] == pytest.approx(expected, rel=0.05)


def test_the_contract(measured: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    result = check_result(preset, measured, tmp_path, monkeypatch)
    assert len(result["claims"]) == 3
    assert [Path(p).name for p in result["figures"]] == ["training.png"]
