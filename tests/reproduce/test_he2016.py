"""he2016 quick run: the deeper plain network trains worse; what the report says of it;
the residual networks under the paper's schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _contract import check_result

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
    assert all(len(stretches) == len(preset.SCHEDULE) for stretches in deep)
    flat = [v for stretches in deep for v in stretches]
    assert all(v["verdict"] in VERDICTS for v in flat)
    assert all(v[k] in (None, *VERDICTS) for v in flat for k in ("initial", "training"))
    # Degradation is not a vanishing gradient: the report never calls it that.
    assert all(v["verdict"] != "vanishing" for v in flat)
    # At initialization batch-normalized relu layers amplify the backpropagated gradient;
    # through every stretch of the schedule the records are healthy.
    assert all(stretches[0]["initial"] == "exploding" for stretches in deep)
    assert all(preset.through_schedule(stretches) == "healthy" for stretches in deep)
    assert preset.claims(measured)[1]["holds"]
    assert preset.through_training({"verdict": "exploding", "initial": None, "training": None}) == (
        "exploding"
    )
    judged_apart = {"verdict": "exploding", "initial": "exploding", "training": "healthy"}
    assert preset.through_training(judged_apart) == "healthy"
    late = {"verdict": "dead", "initial": "healthy", "training": "dead"}
    assert preset.through_schedule([judged_apart, late, judged_apart]) == "dead"
    # compare_depths names degradation exactly when the deep report's verdict allows it.
    assert measured["degradation"] == ["degradation"] * len(deep)


def test_residual_blocks_train_the_deep_network(measured: dict[str, Any]) -> None:
    r20, r56 = losses(measured, "residual20"), losses(measured, "residual56")
    p56 = losses(measured, "plain56")
    # Far below the plain 56-layer network; both residual networks fit the training set
    # down to the points the noise puts on the wrong arm, within a fifth of each other.
    assert (r56 < 0.1 * p56).all()
    assert (r20 < 0.03).all() and (r56 < 0.03).all()
    assert abs(r56.mean() - r20.mean()) < 0.2 * r20.mean()
    assert preset.claims(measured)[2]["holds"] == (r56.mean() <= r20.mean())
    assert measured["epochs"] == 200 and len(measured["runs"]["residual56"][0]["curve"]) == 200


def test_the_contract(measured: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    result = check_result(preset, measured, tmp_path, monkeypatch)
    assert len(result["claims"]) == 3
    assert [Path(p).name for p in result["figures"]] == ["training.png"]
