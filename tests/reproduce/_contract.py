"""Checks shared by the preset tests: a preset's output against the ``reproduce`` contract."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from matplotlib.figure import Figure

from vgp_native import reproduce


def check_result(
    module: ModuleType, measured: dict[str, Any], tmp_path: Path, monkeypatch: Any
) -> dict[str, Any]:
    """Run ``module`` through ``reproduce.run`` on numbers measured once, with and without
    ``out``; check the returned dict and the files against the contract; return the result."""
    monkeypatch.setattr(module, "measure", lambda quick, seed: measured)
    bare = reproduce.run(module.NAME, quick=True, seed=0)
    assert list(bare) == list(reproduce.RESULT_KEYS)
    assert bare["figures"] and all(isinstance(f, Figure) for f in bare["figures"])

    result = reproduce.run(module.NAME, quick=True, out=tmp_path, seed=0)
    assert list(result) == list(reproduce.RESULT_KEYS)
    assert result["name"] == module.NAME and result["paper"] == module.PAPER
    assert isinstance(result["seconds"], float) and result["seconds"] >= 0
    for claim in result["claims"]:
        assert list(claim) == list(reproduce.CLAIM_KEYS)
        assert isinstance(claim["holds"], bool)
    folder = tmp_path / module.NAME
    assert [Path(p).parent for p in result["figures"]] == [folder] * len(result["figures"])
    for path in result["figures"]:
        assert Path(path).suffix == ".png"
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((folder / "result.json").read_text())
    assert set(reproduce.RESULT_KEYS) <= set(saved)
    assert saved["claims"] == result["claims"]
    assert saved["figures"] == [Path(p).name for p in result["figures"]]
    readme = (folder / "README.md").read_text()
    assert module.PAPER in readme and module.SUMMARY in readme
    notes = getattr(module, "NOTES", "").strip()
    if notes:  # under the claim table
        assert readme.index(notes) > readme.index("| 1 |")
    assert readme.count("\n| ") == len(result["claims"]) + 1
    return result
