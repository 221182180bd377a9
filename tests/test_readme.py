"""The README's examples print what it shows: its Python snippets run in order, in one
fresh interpreter in an empty folder, and each ```text block that follows a snippet is
that snippet's output, numbers included ("..." lines stand for lines left out); the
demo's table is what ``vgp-native demo`` prints."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import vgp_native

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PYTHON_DIR = Path(vgp_native.__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
GAP = "..."
#: Runs each snippet (the JSON list in argv[1]) in one namespace and prints, as JSON,
#: what each printed.
DRIVER = """
import contextlib, io, json, sys
namespace = {"__name__": "__main__"}
printed = []
for number, code in enumerate(json.loads(sys.argv[1])):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(code, f"README snippet {number + 1}", "exec"), namespace)
    printed.append(buffer.getvalue())
print(json.dumps(printed))
"""


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of each fenced block, in order."""
    return FENCE.findall(text)


def snippets(text: str) -> list[tuple[str, str | None]]:
    """Each ```python block with the ```text block right after it (None when the next
    block is not a ```text one)."""
    blocks = fenced_blocks(text)
    pairs = []
    for i, (language, body) in enumerate(blocks):
        if language == "python":
            after = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
            pairs.append((body, after[1] if after[0] == "text" else None))
    return pairs


def mismatch(shown: str, printed: str) -> str | None:
    """Why ``printed`` is not the output ``shown`` (None when it is).

    ``shown``'s lines appear in ``printed`` in order, each run between two ``...``
    lines as consecutive lines; without a leading (trailing) ``...`` the first (last)
    run starts (ends) ``printed``. Trailing spaces do not count.
    """
    want = [line.rstrip() for line in shown.strip("\n").splitlines()]
    got = [line.rstrip() for line in printed.strip("\n").splitlines()]
    runs: list[list[str]] = [[]]
    for line in want:
        if line.strip() == GAP:
            runs.append([])
        else:
            runs[-1].append(line)
    open_start, open_end = not runs[0], not runs[-1]
    runs = [run for run in runs if run]
    at = 0
    for index, run in enumerate(runs):
        starts = [i for i in range(at, len(got) - len(run) + 1) if got[i : i + len(run)] == run]
        if index == 0 and not open_start:
            starts = starts[:1] if starts[:1] == [0] else []
        if index == len(runs) - 1 and not open_end:
            starts = [i for i in starts if i + len(run) == len(got)]
        if not starts:
            return "not printed (in this place):\n" + "\n".join(run)
        at = starts[0] + len(run)
    return None


def test_mismatch_sees_a_changed_number_a_missing_line_and_order() -> None:
    printed = "head\nratio 3.80e-6\nrow 1\nrow 2\ntail"
    assert mismatch("head\n...\nrow 1\n...", printed) is None
    assert mismatch("head\nratio 3.80e-6\nrow 1\nrow 2\ntail", printed) is None
    assert mismatch("head\nratio 3.81e-6\n...", printed) is not None  # a number
    assert mismatch("head\nrow 1\n...", printed) is not None  # not consecutive
    assert mismatch("...\nrow 2\nrow 1\n...", printed) is not None  # order
    assert mismatch("row 1\n...", printed) is not None  # not where the output starts
    assert mismatch("...\nrow 2", printed) is not None  # not where it ends
    assert mismatch("head\n...\ntail\nmore", printed) is not None


def test_the_readme_snippets_print_what_it_shows(tmp_path: Path) -> None:
    pairs = snippets(README.read_text(encoding="utf-8"))
    assert len(pairs) >= 4 and sum(shown is not None for _, shown in pairs) >= 2
    # scikit-learn is an optional extra: its snippet runs when it is installed.
    have_sklearn = importlib.util.find_spec("sklearn") is not None
    run = [(code, shown) for code, shown in pairs if have_sklearn or "sklearn" not in code]
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", DRIVER, json.dumps([code for code, _ in run])],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    printed = json.loads(done.stdout)
    for number, ((_, shown), output) in enumerate(zip(run, printed, strict=True), 1):
        if shown is not None:
            why = mismatch(shown, output)
            assert why is None, f"README snippet {number}: {why}\n--- it printed:\n{output}"
    assert (tmp_path / "model.npz").is_file()  # the API snippet saved its model here
    if len(run) < len(pairs):
        pytest.skip("scikit-learn is not installed: its README snippet did not run")


def test_the_readme_demo_table_is_what_the_demo_prints(tmp_path: Path) -> None:
    (table,) = [
        body
        for language, body in fenced_blocks(README.read_text(encoding="utf-8"))
        if language == "text" and body.startswith("configuration")
    ]
    env = dict(os.environ, MPLBACKEND="Agg", COLUMNS="120")  # the wide layout
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "vgp_native", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    why = mismatch(f"{GAP}\n{table}{GAP}", done.stdout)
    assert why is None, f"{why}\n--- it printed:\n{done.stdout}"
