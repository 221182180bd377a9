"""The reproduce framework: registry, run, files, the terminal table, the index page."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from vgp_native import reproduce
from vgp_native.reproduce import _report

PRESETS = [
    "glorot2010",
    "he2015",
    "ioffe2015",
    "saxe2014",
    "schoenholz2017",
    "pennington2017",
    "he2016",
    "balduzzi2017",
]


def _fake(name: str, holds: bool = True) -> types.ModuleType:
    """A preset with two claims (the second one holding or not) and one small figure."""
    module = types.ModuleType(name)
    module.NAME = name
    module.PAPER = f"A. Author and B. Author (2000), The paper of {name}, Venue 2000"
    module.SUMMARY = f"What {name} reruns, in one sentence."

    def run(quick: bool, seed: int):
        fig = Figure(figsize=(2, 1.5))
        fig.subplots().plot([0, 1], [seed, 1 + int(quick)])
        claims = [
            {
                "claim": "A first claim.",
                "paper_value": "1/3 (eq. 15)",
                "measured": "0.33 | x < 1",
                "holds": True,
            },
            {
                "claim": "A second, much longer claim whose sentence needs wrapping " * 3,
                "paper_value": "about 0.8 (Sec. 4.2.2)",
                "measured": "x" * 45,
                "holds": holds,
            },
        ]
        return claims, [("curve", fig)]

    module.run = run
    return module


@pytest.fixture
def fakes(monkeypatch):
    registry = {"fake_a": _fake("fake_a"), "fake_b": _fake("fake_b", holds=False)}
    monkeypatch.setattr(reproduce, "_REGISTRY", registry)
    return registry


def test_names_in_the_contract_order() -> None:
    assert reproduce.names() == PRESETS
    for name in PRESETS:
        module = reproduce.preset(name)
        assert module.NAME == name and module.PAPER and module.SUMMARY
        assert callable(module.run)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown reproduction 'nope'; known: "):
        reproduce.run("nope")
    with pytest.raises(TypeError, match="name must be a string"):
        reproduce.run(3)
    with pytest.raises(TypeError, match="quick must be True or False"):
        reproduce.run("he2015", quick="yes")
    with pytest.raises(ValueError, match="seed must be >= 0"):
        reproduce.run("he2015", seed=-1)


def test_run_returns_figures_without_out(fakes) -> None:
    result = reproduce.run("fake_a", quick=True, seed=2)
    assert list(result) == list(reproduce.RESULT_KEYS)
    assert result["name"] == "fake_a" and result["paper"] == fakes["fake_a"].PAPER
    assert [c["holds"] for c in result["claims"]] == [True, True]
    assert len(result["figures"]) == 1 and isinstance(result["figures"][0], Figure)
    assert isinstance(result["seconds"], float) and result["seconds"] >= 0


def test_run_writes_json_figures_and_readme(fakes, tmp_path) -> None:
    result = reproduce.run("fake_b", out=tmp_path, seed=1)
    folder = tmp_path / "fake_b"
    assert result["figures"] == [str(folder / "curve.png")]
    assert (folder / "curve.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((folder / "result.json").read_text())
    assert saved == {
        "name": "fake_b",
        "paper": fakes["fake_b"].PAPER,
        "summary": fakes["fake_b"].SUMMARY,
        "quick": False,
        "seed": 1,
        "claims": result["claims"],
        "figures": ["curve.png"],
        "seconds": round(result["seconds"], 3),
    }
    readme = (folder / "README.md").read_text()
    assert "1 of 2 claims hold" in readme
    assert "| 2 | A second" in readme and "| **no** |" in readme
    assert "| 0.33 \\| x < 1 |" in readme  # a pipe inside a cell is escaped
    assert "![curve](curve.png)" in readme
    # Nothing half-written is left behind.
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "curve.png", "result.json"]


def test_run_all_writes_an_index_linking_every_figure(fakes, tmp_path) -> None:
    results = reproduce.run_all(quick=True, out=tmp_path)
    assert [r["name"] for r in results] == ["fake_a", "fake_b"]
    page = (tmp_path / "index.html").read_text()
    for name in ("fake_a", "fake_b"):
        assert f'<img src="{name}/curve.png"' in page and f'href="{name}/result.json"' in page
    assert "3 of 4 claims hold." in page
    assert "0.33 | x &lt; 1" in page  # the claims are escaped as HTML


def test_run_all_without_out_writes_nothing(fakes, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    results = reproduce.run_all(quick=True)
    assert all(isinstance(f, Figure) for r in results for f in r["figures"])
    assert list(tmp_path.iterdir()) == []


def test_terminal_table_fits_80_columns(fakes) -> None:
    result = reproduce.run("fake_b", quick=True)
    text = reproduce.format_result(result)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "1 of 2 claims hold" in text
    assert any(line.lstrip().startswith("2  NO") for line in lines)
    # Every word of the long cells survives the wrapping.
    flat = " ".join(text.split())
    assert "x" * 18 in flat and "needs wrapping" in flat


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ([], "non-empty list"),
        ([{"claim": "c", "paper_value": "p", "measured": "m"}], "must have the keys"),
        ([{"claim": "c", "measured": "m", "paper_value": "p", "holds": True}], "in this order"),
        ([{"claim": "c", "paper_value": "p", "measured": "m", "holds": 1}], "must be a bool"),
        ([{"claim": "", "paper_value": "p", "measured": "m", "holds": True}], "non-empty text"),
    ],
)
def test_a_preset_breaking_the_contract_is_named(claims, words) -> None:
    with pytest.raises(TypeError, match=words):
        _report.check_claims("broken", claims, [])


def test_figure_stems_must_be_distinct_names() -> None:
    claims = [{"claim": "c", "paper_value": "p", "measured": "m", "holds": True}]
    with pytest.raises(TypeError, match="figure stems"):
        _report.check_claims("broken", claims, [("a", None), ("a", None)])
    with pytest.raises(TypeError, match="figure stems"):
        _report.check_claims("broken", claims, [("../up", None)])


def test_figures_saved_through_pyplot_are_closed(tmp_path) -> None:
    import matplotlib.pyplot as plt

    fig = plt.figure()
    _report.write_result(
        tmp_path,
        {"name": "p", "paper": "P", "claims": [], "seconds": 0.0},
        [("f", fig)],
        summary="S",
        quick=True,
        seed=0,
    )
    assert not plt.fignum_exists(fig.number)
    assert Path(tmp_path / "f.png").exists()
