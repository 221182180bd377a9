"""he2016 quick run: the deeper plain network trains worse; what the report says of it."""

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
    assert all(v["verdict"] in VERDICTS for v in deep)
    assert all(v[k] in (None, *VERDICTS) for v in deep for k in ("initial", "training"))
    # Degradation is not a vanishing gradient: the report never calls it that.
    assert all(v["verdict"] != "vanishing" for v in deep)
    holds = preset.claims(measured)[1]["holds"]
    assert holds == all(preset.through_training(v) == "healthy" for v in deep)
    assert preset.through_training({"verdict": "exploding", "initial": None, "training": None}) == (
        "exploding"
    )
    judged_apart = {"verdict": "exploding", "initial": "exploding", "training": "healthy"}
    assert preset.through_training(judged_apart) == "healthy"
    # compare_depths names degradation exactly when the deep report's verdict allows it.
    for v, kind in zip(deep, measured["degradation"], strict=True):
        assert (kind == "degradation") <= (v["verdict"] not in ("vanishing", "exploding"))


def test_residual_blocks_train_the_deep_network(measured: dict[str, Any]) -> None:
    r20, r56 = losses(measured, "residual20"), losses(measured, "residual56")
    p56 = losses(measured, "plain56")
    # Far below the plain 56-layer network, close to the residual 20-layer one.
    assert (r56 < 0.5 * p56).all()
    assert r56.mean() < 2.0 * r20.mean()
    assert preset.claims(measured)[2]["holds"] == (r56.mean() <= r20.mean())


def test_the_contract(measured: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    result = check_result(preset, measured, tmp_path, monkeypatch)
    assert len(result["claims"]) == 3
    assert [Path(p).name for p in result["figures"]] == ["training.png"]
