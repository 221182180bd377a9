"""he2015: relu signals under Xavier and He init, and training for the same budget (quick run)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from _contract import check_result

from vgp_native.reproduce import he2015


@pytest.fixture(scope="module")
def measured():
    return he2015.measure(quick=True, seed=0)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_xavier_signal_shrinks_by_one_over_sqrt2_per_layer(measured, direction) -> None:
    f = he2015.factors(measured)
    per_layer = f[f"{direction}_xavier_per_layer"]
    assert np.all(np.abs(per_layer * math.sqrt(2.0) - 1.0) <= he2015.XAVIER_TOL)
    # 2^-14.5 over the 29 steps, within a factor 4 either way.
    assert np.all(np.abs(np.log2(f[f"{direction}_xavier_total"]) + 14.5) <= 2.0)
    # Layer by layer the signal falls (forward: away from layer 1; backward: toward it).
    sig = measured[direction]["xavier"][0]
    steps = np.diff(sig) if direction == "forward" else -np.diff(sig)
    assert np.mean(steps < 0) > 0.9


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_he_signal_holds_within_3x(measured, direction) -> None:
    total = he2015.factors(measured)[f"{direction}_he_total"]
    assert np.all((total >= 1 / 3) & (total <= 3))
    assert np.all(measured[direction]["he"] > 1 / 3)


def test_he_trains_and_xavier_stalls(measured) -> None:
    he_end, xavier_end = measured["loss"]["he"][:, -1], measured["loss"]["xavier"][:, -1]
    assert np.all(he_end < 0.5 * xavier_end)
    assert np.all(xavier_end > 0.9 * math.log(2.0))
    assert np.all(he_end < 0.6 * measured["initial_loss"]["he"])


def test_every_claim_holds_and_the_contract(measured, tmp_path, monkeypatch) -> None:
    claims = he2015.claims(measured)
    assert len(claims) == 6
    assert [c["holds"] for c in claims] == [True] * 6
    result = check_result(he2015, measured, tmp_path, monkeypatch)
    assert [Path(p).name for p in result["figures"]] == ["signals.png", "training.png"]
