"""schoenholz2017 quick run: tanh networks train within 6 xi and fail far beyond it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _contract import check_result

from vgp_native import flow
from vgp_native.reproduce import schoenholz2017 as preset


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return preset.measure(quick=True, seed=0)


def test_trainable_depth_separates_the_grid(measured: dict[str, Any]) -> None:
    sides = preset.sides(measured)
    trained_within, within = sides["within"]
    trained_beyond, beyond = sides["beyond"]
    assert within >= 8 and beyond >= 4
    assert trained_within / within >= 0.8
    assert trained_beyond / beyond <= 0.2
    assert all(c["holds"] for c in preset.claims(measured))


def test_accuracies_and_depth_scales(measured: dict[str, Any]) -> None:
    acc = measured["accuracy"]
    assert acc.shape == (len(measured["depths"]), len(measured["sigmas"]))
    assert (acc >= 0.0).all() and (acc <= 1.0).all()
    # The shallowest networks train at every sigma_w^2; the deepest ordered one fails.
    assert (acc[0] >= preset.TRAINED).all()
    assert acc[-1, 0] < 0.7
    expected = [6 * flow.theory.mean_field("tanh", s, 0.05)["depth_scale"] for s in [1, 2, 3, 4]]
    np.testing.assert_allclose(measured["six_xi"], expected)


def test_the_contract(measured: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    result = check_result(preset, measured, tmp_path, monkeypatch)
    assert len(result["claims"]) == 2
    assert [Path(p).name for p in result["figures"]] == ["heatmap.png"]
