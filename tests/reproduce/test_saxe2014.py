"""saxe2014: epochs to a loss threshold against depth, orthogonal vs scaled Gaussian (quick)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from _contract import check_result

from vgp_native.reproduce import saxe2014


@pytest.fixture(scope="module")
def measured():
    return saxe2014.measure(quick=True, seed=0)


def test_crossing_interpolates_log_loss() -> None:
    # Between epoch 2 (0.1) and 3 (0.01), ln(0.05) lies ln 2 / ln 10 = 0.301 of the way.
    got = saxe2014._crossing([1.0, 0.5, 0.1, 0.01], 0.05)
    assert got == pytest.approx(2.0 + math.log(2.0) / math.log(10.0))
    assert saxe2014._crossing([1.0, 0.5, 0.2], 0.05) is None
    assert saxe2014._crossing([0.01, 0.005], 0.05) == 0.0


def test_orthogonal_is_nearly_flat_in_depth(measured) -> None:
    assert all(e is not None for e in measured["epochs"]["orthogonal"])
    assert measured["depths"][0] == 2 and measured["depths"][-1] >= 32
    assert saxe2014.exponent(measured, "orthogonal") < saxe2014.FLAT
    epochs = np.array(measured["epochs"]["orthogonal"])
    assert epochs.max() < 5 * epochs.min()


def test_gaussian_grows_with_depth(measured) -> None:
    assert saxe2014.exponent(measured, "gaussian") >= saxe2014.GROWS
    gauss = measured["epochs"]["gaussian"]
    # The deepest Gaussian network does not reach the threshold within the budget.
    assert gauss[-1] is None
    orth = measured["epochs"]["orthogonal"]
    assert orth[-1] < 0.1 * measured["budget"]


def test_every_claim_holds_and_the_contract(measured, tmp_path, monkeypatch) -> None:
    claims = saxe2014.claims(measured)
    assert [c["holds"] for c in claims] == [True] * 3
    result = check_result(saxe2014, measured, tmp_path, monkeypatch)
    assert [Path(p).name for p in result["figures"]] == ["learning_time.png"]
