"""``vgp-native reproduce``: --list, one quick run, an unknown name, ``all`` with its index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import vgp_native
from cli_output import error_message
from vgp_native import cli, reproduce

PYTHON_DIR = Path(vgp_native.__file__).resolve().parents[1]


def _vgp(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg", COLUMNS="80")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "vgp_native", "reproduce", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_list_names_every_paper() -> None:
    done = _vgp("--list")
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines() if line[:1].isalnum()]
    assert listed[: len(reproduce.names())] == reproduce.names()
    assert "Saxe" in done.stdout and max(map(len, done.stdout.splitlines())) <= 80


def test_unknown_name_is_one_error_message() -> None:
    done = _vgp("nosuchpaper", "--quick")
    assert done.returncode == 2
    assert done.stdout == ""
    message = error_message(done.stderr)  # one message, wrapped to 80 columns
    assert "unknown reproduction 'nosuchpaper'" in message and "saxe2014" in message


def test_one_quick_run_prints_the_table_and_writes_files(tmp_path) -> None:
    done = _vgp("saxe2014", "--quick", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "3 of 3 claims hold" in done.stdout
    table = done.stdout.split("figures, result.json")[0]
    assert max(len(line) for line in table.splitlines()) <= 80
    saved = json.loads((tmp_path / "saxe2014" / "result.json").read_text())
    assert saved["quick"] is True and [c["holds"] for c in saved["claims"]] == [True] * 3
    assert (tmp_path / "saxe2014" / "learning_time.png").exists()
    assert not (tmp_path / "index.html").exists()


def test_all_writes_an_index(tmp_path, monkeypatch, capsys) -> None:
    # The two fastest presets stand in for all of them.
    fast = {name: reproduce.preset(name) for name in ("saxe2014", "pennington2017")}
    monkeypatch.setattr(reproduce, "_REGISTRY", fast)
    status = cli.main(["reproduce", "all", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    assert "7 of 7 claims hold over 2 papers" in out
    page = (tmp_path / "index.html").read_text()
    for png in (
        "saxe2014/learning_time.png",
        "pennington2017/spectra.png",
        "pennington2017/spread.png",
    ):
        assert f'<a href="{png}"><img src="{png}"' in page
        assert (tmp_path / png).exists()


@pytest.mark.parametrize("args", [[], ["--list"]])
def test_no_name_lists(args, capsys) -> None:
    assert cli.main(["reproduce", *args]) == 0
    assert "pennington2017" in capsys.readouterr().out


def test_a_missing_optional_dependency(tmp_path, monkeypatch, capsys) -> None:
    def needs_sklearn(quick: bool, seed: int):
        raise ImportError("this preset needs scikit-learn: pip install scikit-learn")

    fast = reproduce.preset("saxe2014")
    missing = types.ModuleType("missing")
    missing.NAME, missing.PAPER, missing.SUMMARY = "missing", "P (2000)", "S."
    missing.run = needs_sklearn
    monkeypatch.setattr(reproduce, "_REGISTRY", {"missing": missing, "saxe2014": fast})
    # Alone: after the progress line, one error message and exit status 2.
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(["reproduce", "missing", "--out", str(tmp_path)]) == 2
    progress, rest = capsys.readouterr().err.split("\n", 1)
    assert progress == "running missing (full, seed 0) ..."
    assert error_message(rest) == (
        "vgp-native reproduce: error: missing: this preset needs scikit-learn: "
        "pip install scikit-learn"
    )
    # Within all: skipped with a note, the others run.
    assert cli.main(["reproduce", "all", "--quick", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "skipped missing: this preset needs scikit-learn" in captured.err
    assert "3 of 3 claims hold over 1 papers" in captured.out
    assert "missing" not in (tmp_path / "index.html").read_text()
