"""ioffe2015 quick run: batch normalization on the digits and on the seed network."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _contract import check_result

from vgp_native.reproduce import ioffe2015 as preset


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    pytest.importorskip("sklearn")
    return preset.measure(quick=True, seed=0)


def test_batchnorm_reaches_higher_test_accuracy(measured: dict[str, Any]) -> None:
    plain, bn = measured["plain"]["val_accuracy"], measured["bn"]["val_accuracy"]
    assert plain.size == bn.size == measured["epochs"] == 60
    assert bn[-1] > plain[-1]
    assert np.mean(bn > plain) >= 0.8
    assert preset.claims(measured)[0]["holds"]


def test_sigmoid_input_percentiles(measured: dict[str, Any]) -> None:
    for key in ("plain", "bn"):
        rec = measured[key]["percentiles"]
        assert rec.shape == (measured["epochs"] + 1, 3, preset.WIDTH)
        assert (rec[:, 0] <= rec[:, 1]).all() and (rec[:, 1] <= rec[:, 2]).all()
    assert measured["bn"]["drift"] < 0.5 * measured["plain"]["drift"]
    assert preset.claims(measured)[1]["holds"]


def test_drift_is_the_largest_percentile_range() -> None:
    # Two records, 3 percentiles, 2 units: unit 0 moves its median by 2, unit 1 nothing.
    rec = np.array([[[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]], [[0.5, 1.0], [3.0, 2.0], [2.0, 3.0]]])
    np.testing.assert_allclose(preset.drift(rec), [2.0, 0.0])


def test_seed_network_trains_with_batchnorm(measured: dict[str, Any]) -> None:
    seed, seed_bn = measured["seed"], measured["seed_bn"]
    assert seed["train_accuracy"] <= 0.6
    assert seed["loss"][-1] >= 0.95 * preset.CHANCE
    assert seed_bn["train_accuracy"] >= 0.9
    assert seed_bn["loss"][-1] <= 0.5 * preset.CHANCE
    assert preset.claims(measured)[2]["holds"]


def test_the_contract(measured: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    result = check_result(preset, measured, tmp_path, monkeypatch)
    assert len(result["claims"]) == 3
    assert [Path(p).name for p in result["figures"]] == ["figure1.png", "seed_network.png"]


def test_without_scikit_learn_it_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_sklearn(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("sklearn"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        preset.run(quick=True, seed=0)
