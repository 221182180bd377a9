"""balduzzi2017 quick run: shattered gradients in plain, not in residual, relu networks."""

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


def r1(m: dict[str, Any], kind: str, depth: int) -> float:
    return m[kind]["r1"][m[kind]["depths"].index(depth)]


def test_plain_networks_shatter_residual_ones_do_not(measured: dict[str, Any]) -> None:
    floor = measured["floor"]
    assert floor == pytest.approx(0.125)
    assert r1(measured, "plain", 1) > 0.9  # Fig. 1 (a): smooth
    assert abs(r1(measured, "plain", 24)) < floor  # Fig. 1 (b): white noise
    assert r1(measured, "residual", 50) > 0.5  # Fig. 1 (c): still correlated
    claims = preset.claims(measured)
    assert claims[0]["holds"] and claims[3]["holds"]


def test_decay_fits(measured: dict[str, Any]) -> None:
    """The fitted rates, measured: plain decays exponentially but slower than the paper's
    2^-L at lag 1 on this grid; residual decays sublinearly, slower than L^-1/2."""
    b, alpha = measured["plain_fit"]["factor"], measured["residual_fit"]["alpha"]
    assert 0.5 < b < 1.0
    assert measured["plain_fit"]["points"] >= 3
    assert 0.0 < alpha < 0.5
    claims = preset.claims(measured)
    assert claims[1]["holds"] == (0.5 / np.sqrt(2) <= b <= 0.5 * np.sqrt(2))
    assert claims[2]["holds"] == (0.25 <= alpha <= 1.0)
    # r_1 falls with depth in both kinds, faster in plain networks.
    plain, res = measured["plain"]["r1"], measured["residual"]["r1"]
    assert plain[0] > plain[3] > plain[-1]
    assert res[0] > res[-1]


def test_fits_recover_known_rates() -> None:
    depths = np.arange(1, 9)
    fit = preset.fit_exponential(depths, 0.9 * 0.5**depths, floor=1e-4)
    assert fit == pytest.approx({"factor": 0.5, "amplitude": 0.9, "points": 8})
    assert preset.fit_exponential(depths, 0.5**depths, floor=0.1)["points"] == 3
    assert preset.fit_power(depths, 2.0 * depths**-0.5) == pytest.approx(
        {"alpha": 0.5, "amplitude": 2.0}
    )


def test_the_contract(measured: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    result = check_result(preset, measured, tmp_path, monkeypatch)
    assert len(result["claims"]) == 4
    assert [Path(p).name for p in result["figures"]] == ["gradients.png", "decay.png"]
