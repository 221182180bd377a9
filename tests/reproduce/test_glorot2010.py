"""glorot2010: gradient variance and Jacobians at initialization, saturation in training (quick)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _contract import check_result

from vgp_native.reproduce import glorot2010


@pytest.fixture(scope="module")
def measured():
    return glorot2010.measure(quick=True, seed=0)


def test_shapes_data() -> None:
    X, y = glorot2010.make_shapes(900, seed=3)
    assert X.shape == (900, 256) and set(np.unique(X)) == {0.0, 1.0}
    assert set(np.unique(y)) == set(range(9))
    X2, y2 = glorot2010.make_shapes(900, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    # Two shapes cover more pixels than one, on average.
    assert X[y >= 3].sum(axis=1).mean() > 1.2 * X[y < 3].sum(axis=1).mean()


def test_standard_init_shrinks_gradient_variance_by_a_third(measured) -> None:
    factors = measured["factors"]["standard"]
    assert factors.shape == (4,)
    assert np.all(np.abs(3.0 * factors - 1.0) <= glorot2010.FACTOR_TOL)
    # Over the four steps: about 3^-4 = 0.012.
    assert 0.5 / 81 < measured["variance"]["standard"][0] < 2.0 / 81


def test_normalized_init_keeps_gradient_variance(measured) -> None:
    assert np.all(np.abs(measured["factors"]["normalized"] - 1.0) <= glorot2010.FACTOR_TOL)


def test_jacobian_singular_values_near_the_papers(measured) -> None:
    standard = np.mean(measured["singular"]["standard"])
    normalized = np.mean(measured["singular"]["normalized"])
    assert normalized > standard
    # The paper: about 0.5 and 0.8; the quarter-circle law gives 8/(3 pi) sigma:
    # 0.49 for sigma^2 = 1/3, 0.85 for sigma^2 = 1 (tanh' slightly below 1).
    assert abs(standard - 0.5) < 0.1 and abs(normalized - 0.8) < 0.1


def test_top_sigmoid_layer_saturates_early(measured) -> None:
    sat = glorot2010.saturation(measured)
    assert sat["first_epoch"] is not None
    assert sat["first_epoch"] <= measured["epochs"] / 2
    assert sat["final_top"] < glorot2010.SATURATED
    # The first hidden layer stays near 0.5 throughout.
    assert np.all(np.abs(measured["act_mean"][:, 0] - 0.5) < 0.05)


def test_claims_follow_the_numbers_and_the_contract(measured, tmp_path, monkeypatch) -> None:
    claims = glorot2010.claims(measured)
    assert [c["holds"] for c in claims[:4]] == [True] * 4
    # Fig. 2's "lower layers stay near 0.5" is reported as measured, holding or not.
    sat = glorot2010.saturation(measured)
    far = np.maximum(np.abs(sat["lower_min"] - 0.5), np.abs(sat["lower_max"] - 0.5))
    assert claims[4]["holds"] == bool(np.all(far <= glorot2010.NEAR_HALF))
    result = check_result(glorot2010, measured, tmp_path, monkeypatch)
    assert [Path(p).name for p in result["figures"]] == ["gradients.png", "saturation.png"]
