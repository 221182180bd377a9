"""pennington2017: Jacobian spectra of tanh-orthogonal, tanh-Gaussian, relu-orthogonal (quick)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _contract import check_result

from vgp_native.reproduce import pennington2017 as p17

ORTH, GAUSS, RELU = (label for label, *_ in p17.CONFIGS)


@pytest.fixture(scope="module")
def measured():
    return p17.measure(quick=True, seed=0)


def test_spread_measures_on_known_spectra() -> None:
    flat = p17.spread(np.ones(10))
    assert flat["log_std"] == 0.0 and flat["rel_var"] == 0.0 and flat["near_one"] == 1.0
    # s^2 in {1, 3}: mean 2, variance 1, relative variance 1/4.
    two = p17.spread(np.sqrt(np.array([1.0, 3.0])))
    assert two["rel_var"] == pytest.approx(0.25)
    assert two["log_std"] == pytest.approx(np.log(3.0) / 4)
    assert p17.spread(np.array([0.0, 0.05, 1.0, 1.0]))["near_zero"] == 0.5


def test_jacobians_are_square_and_critical(measured) -> None:
    n = measured["n"]
    for label, *_ in p17.CONFIGS:
        for sv, s in zip(measured["sv"][label], measured["spread"][label], strict=True):
            assert sv.shape == (p17.SAMPLES * n,)
            # Critical initialization: the mean squared singular value stays near 1.
            assert 0.5 < s["mean_sq"] < 2.0


def test_tanh_orthogonal_concentrates_near_one(measured) -> None:
    for s in measured["spread"][ORTH]:
        assert s["near_one"] >= p17.CONCENTRATED
        assert s["log_std"] < 0.5 and s["unresolved"] == 0.0


def test_gaussian_spreads_more_and_more_with_depth(measured) -> None:
    for o, g in zip(measured["spread"][ORTH], measured["spread"][GAUSS], strict=True):
        assert g["log_std"] > 5 * o["log_std"] and g["rel_var"] > 10 * o["rel_var"]
    rel_var = [g["rel_var"] for g in measured["spread"][GAUSS]]
    assert np.all(np.diff(rel_var) > 0)


def test_relu_puts_mass_near_zero(measured) -> None:
    for depth, s in zip(measured["depths"], measured["spread"][RELU], strict=True):
        if depth >= 32:
            assert s["near_zero"] >= p17.ZERO_MASS
    assert all(s["near_zero"] < 0.01 for s in measured["spread"][ORTH])


def test_every_claim_holds_and_the_contract(measured, tmp_path, monkeypatch) -> None:
    claims = p17.claims(measured)
    assert [c["holds"] for c in claims] == [True] * 4
    result = check_result(p17, measured, tmp_path, monkeypatch)
    assert [Path(p).name for p in result["figures"]] == ["spectra.png", "spread.png"]
