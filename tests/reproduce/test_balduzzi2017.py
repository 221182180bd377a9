"""balduzzi2017 quick run: shattered gradients along the grid (Fig. 1) and the theorems'
correlation over random weights (Theorems 1 and 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _contract import check_result

from vgp_native.reproduce import balduzzi2017 as preset


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return preset.measure(quick=True, seed=0)


def at(m: dict[str, Any], kind: str, key: str, depth: int) -> float:
    return m[kind][key][m[kind]["depths"].index(depth)]


def test_plain_networks_shatter_residual_ones_do_not(measured: dict[str, Any]) -> None:
    floor = measured["floor"]
    assert floor == pytest.approx(0.125)
    assert at(measured, "plain", "r1", 1) > 0.9  # Fig. 1 (a): smooth
    assert abs(at(measured, "plain", "r1", 24)) < floor  # Fig. 1 (b): white noise
    assert at(measured, "residual", "r1", 50) > 0.5  # Fig. 1 (c): still correlated
    claims = preset.claims(measured)
    assert claims[0]["holds"] and claims[3]["holds"]


def test_theorem_1_rate_in_plain_networks(measured: dict[str, Any]) -> None:
    """The correlation over weights, mean over pairs, falls by about 1/2 per layer."""
    fit = measured["plain_fit"]
    assert 0.5 / np.sqrt(2) <= fit["factor"] <= 0.5 * np.sqrt(2)
    assert fit["points"] >= 4 and fit["depths"][0] == 1
    rbar = np.asarray(measured["plain"]["rbar"])
    assert 0.3 < rbar[0] < 0.8  # one layer: 2^-1 in Theorem 1
    # Below 2/n from 6 layers on: nothing left to fit.
    deep = np.asarray(measured["plain"]["depths"]) >= 6
    assert (np.abs(rbar[deep]) < measured["rbar_floor"]).all()
    assert preset.claims(measured)[1]["holds"]


def test_theorem_3_rate_in_residual_networks(measured: dict[str, Any]) -> None:
    """Sublinear, but about 1/L rather than Theorem 3's 1/sqrt(L); the variance grows
    faster than Theorem 3's L."""
    alpha = measured["residual_fit"]["alpha"]
    assert 0.6 < alpha <= 1.0
    assert preset.claims(measured)[2]["holds"] == (0.25 <= alpha <= 1.0)
    assert measured["residual_fit"]["points"] >= 4
    growth = -measured["residual_variance_fit"]["alpha"]
    assert 1.3 < growth < 2.2
    # Far slower than the plain networks' exponential fall.
    for depth in (4, 8):
        assert at(measured, "residual", "rbar", depth) > 4 * at(measured, "plain", "rbar", depth)


def test_lag_one_along_the_grid_is_not_the_theorems_quantity(measured: dict[str, Any]) -> None:
    """Neighbours on a fine grid share most active units: r_1 stays high where the typical
    pair's correlation is gone."""
    for depth in (4, 6):
        assert at(measured, "plain", "r1", depth) > 0.7
        assert at(measured, "plain", "rbar", depth) < 0.05
    acf = measured["plain"]["grid_acf"]
    assert acf.shape == (len(measured["plain"]["depths"]), preset.MAX_LAG + 1)
    np.testing.assert_allclose(acf[:, 0], 1.0)
    weights_acf = measured["residual"]["weights_acf"]
    assert (weights_acf[:, 1] > weights_acf[:, 8]).all()


def test_fits_recover_known_rates() -> None:
    depths = np.arange(1, 9)
    fit = preset.fit_exponential(depths, 0.9 * 0.5**depths, floor=1e-4)
    assert fit["factor"] == pytest.approx(0.5) and fit["amplitude"] == pytest.approx(0.9)
    assert fit["depths"] == list(range(1, 9))
    assert preset.fit_exponential(depths, 0.5**depths, floor=0.1)["depths"] == [1, 2, 3]
    power = preset.fit_power(depths, 2.0 * depths**-0.5)
    assert power["alpha"] == pytest.approx(0.5) and power["amplitude"] == pytest.approx(2.0)
    assert preset.fit_power(depths, depths**1.5)["alpha"] == pytest.approx(-1.5)
    assert np.isnan(preset.fit_power(depths, -np.ones(8))["alpha"])


def test_the_contract(measured: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    result = check_result(preset, measured, tmp_path, monkeypatch)
    assert len(result["claims"]) == 4
    names = [Path(p).name for p in result["figures"]]
    assert names == ["gradients.png", "acf.png", "decay.png"]
