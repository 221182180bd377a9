"""The command line on a terminal: help without a command, output that fits the width
(COLUMNS honoured, 80 columns included), quiet divergence, labelled CSV data, a closed pipe."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import vgp_native
from cli_output import assert_fits, error_message, words
from vgp_native import cli
from vgp_native.cli.common import Progress, error_text, terminal_width
from vgp_native.cli.demo import DEMO_CONFIGS, demo_table, legend
from vgp_native.cli.sweep import sweep_table

PYTHON_DIR = Path(vgp_native.__file__).resolve().parents[1]
COMMANDS = ("demo", "diagnose", "sweep", "bench", "reproduce")


def _run(*args: str, columns: int | None = 80, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [sys.executable, "-m", "vgp_native", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        **kwargs,
    )


# -- help and width -------------------------------------------------------------------------


def test_no_command_prints_the_help_and_succeeds() -> None:
    proc = _run()
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout == _run("--help").stdout
    assert proc.stdout.startswith("usage: vgp-native") and all(c in proc.stdout for c in COMMANDS)


def test_no_command_in_process(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main([]) == 0
    out, err = capsys.readouterr()
    assert "usage: vgp-native" in out and "diagnose" in out and err == ""


@pytest.mark.parametrize("columns", [80, 60])
def test_every_help_fits_the_width(columns: int) -> None:
    texts = [_run("--help", columns=columns).stdout]
    texts += [_run(command, "--help", columns=columns).stdout for command in COMMANDS]
    for text in texts:
        assert text.startswith("usage:")
        assert_fits(text, columns)
    # COLUMNS is honoured: a wider terminal gets longer lines.
    assert max(map(len, _run("sweep", "--help", columns=200).stdout.splitlines())) > columns


def test_width_is_columns_else_the_terminal_else_80(monkeypatch) -> None:
    probe = "from vgp_native.cli.common import terminal_width; print(terminal_width())"
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    env.pop("COLUMNS", None)
    piped = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    assert piped.stdout.strip() == "80"
    monkeypatch.setenv("COLUMNS", "132")
    assert terminal_width() == 132
    monkeypatch.setenv("COLUMNS", "12")
    assert terminal_width() == 40  # narrower than that, nothing reads well


def test_errors_wrap_to_the_width_as_one_message(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    long_path = "/data/" + "x" * 70 + ".csv"
    text = error_text("vgp-native diagnose", f"--dataset: {long_path}: no such file here")
    lines = text.splitlines()
    assert lines[0] == "vgp-native diagnose: error: --dataset:"
    assert lines[1] == f"  {long_path}:"  # a word is never split, even when longer
    assert all(len(line) <= 50 for line in lines if line != lines[1])
    assert words(text) == f"vgp-native diagnose: error: --dataset: {long_path}: no such file here"


def test_a_long_usage_error_through_the_command_fits_80_columns(tmp_path: Path) -> None:
    missing = tmp_path / ("a_rather_long_folder_name_" * 2) / "data.csv"
    proc = _run("sweep", "--datasets", f"moons,{missing}")
    assert proc.returncode == 2
    assert f"{missing}: no such file" in error_message(proc.stderr, 80)


def _fake_runs() -> list[SimpleNamespace]:
    verdicts = ("non-finite", "vanishing", "exploding", "saturated", "healthy", "dead")
    runs = []
    for i, (label, _, _) in enumerate(DEMO_CONFIGS):
        result = {
            "final_loss": 0.6899 / (i + 1),
            "accuracy": 0.51 + i / 40,
            "val_accuracy": 0.46 + i / 40,
            "weight_change": 1.97 / (i + 1),
            "grad_ratio": 3.7e-6 * 10**i,
            "initial_verdict": verdicts[i % len(verdicts)],
            "training_verdict": verdicts[(i + 1) % len(verdicts)],
        }
        runs.append(SimpleNamespace(label=label, result=result))
    return runs


def test_demo_table_is_wide_on_a_wide_terminal_and_fits_a_narrow_one() -> None:
    runs = _fake_runs()
    _, unlimited, shown = demo_table(runs)
    assert "ΔW1" in shown and unlimited.splitlines()[0].split()[4] == "ΔW1"
    wide_width = max(map(len, unlimited.splitlines()))
    assert wide_width > 80  # the case the narrow layout exists for
    rows, wide, wide_shown = demo_table(runs, wide_width)
    assert wide == unlimited and wide_shown == shown
    _, narrow, narrow_shown = demo_table(runs, 80)
    assert "ΔW1" not in narrow_shown and narrow_shown[-2:] == ["at init", "in training"]
    assert_fits(narrow, 80)
    # The narrow table keeps every row and both verdicts of each run, in order.
    for line, run in zip(narrow.splitlines()[2:], runs, strict=True):
        assert line.startswith(run.label)
        verdicts = line.split()[-2:]
        assert verdicts == [run.result["initial_verdict"], run.result["training_verdict"]]
    _, narrower, narrower_shown = demo_table(runs, 74)
    assert "train" not in narrower_shown and "test" in narrower_shown
    assert_fits(narrower, 74)
    _, records, every = demo_table(runs, 60)
    assert every == shown and records.splitlines()[0] == runs[0].label
    assert words(records.splitlines()[1]).startswith("loss 0.6899, train 0.51, test 0.46, ΔW1")
    assert_fits(records, 60)
    assert "Left out" not in legend(shown)
    left_out = legend(narrow_shown).split("Left out to fit the terminal: ")[1]
    assert "ΔW1" in left_out and "(in results.csv" in left_out
    assert all(len(row) == 8 for row in rows)  # every column is kept for the files


def test_sweep_table_leaves_out_columns_until_it_fits() -> None:
    keys = ["depth", "activation", "init", "norm"]
    summary = [
        {
            "depth": 16,
            "activation": "sigmoid",
            "init": "random_normal(stddev=0.05)",
            "norm": "batchnorm",
            "seeds": 3,
            "final_loss": 0.693,
            "accuracy": 0.51,
            "val_accuracy": 0.46,
            "val_accuracy_std": 0.01,
            "grad_ratio": 3.5e-9,
            "trainable_depth": 2.08,
            "initial_verdict": "non-finite",
            "initial_verdict_count": 3,
            "training_verdict": "exploding",
            "training_verdict_count": 2,
        }
    ]
    wide = sweep_table(summary, keys, 200)
    assert wide.splitlines()[0].split()[4:7] == ["seeds", "loss", "train"]
    assert "Left out" not in wide
    # Short names first, then the optional columns in their order: train acc, loss, 6ξ
    # (81 columns keep the seed count), then seeds (80 columns: the verdicts' counts,
    # 3/3, still give it).
    roomy = sweep_table(summary, keys[:2], 81)
    assert_fits(roomy, 81)
    assert "Left out to fit the terminal: loss, train acc, 6ξ (in results.csv)." in roomy
    assert roomy.splitlines()[0].split()[2:6] == ["seeds", "test", "g", "ratio"]  # short names
    narrow = sweep_table(summary, keys[:2], 80)
    assert_fits(narrow, 80)
    assert narrow.splitlines()[0].split()[:5] == [*keys[:2], "test", "g", "ratio"]
    assert narrow.splitlines()[2].split()[-4:] == ["non-finite", "(3/3)", "exploding", "(2/3)"]
    assert "Left out to fit the terminal: seeds, loss, train acc, 6ξ (in results.csv)." in narrow
    # Four keys, one of them long: no choice of columns fits 80, so each configuration
    # becomes a record that keeps every value.
    records = sweep_table(summary, keys, 80)
    assert_fits(records, 80)
    assert records.splitlines()[0] == (
        "depth=16, activation=sigmoid, init=random_normal(stddev=0.05), norm=batchnorm"
    )
    assert words(records.splitlines()[1]).startswith("seeds 3, loss 0.693, train acc 0.51,")
    assert words(records).endswith("6ξ 2.08, at init non-finite (3/3), in training exploding (2/3)")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_fits_the_terminal(monkeypatch) -> None:
    note = "depth=16, activation=sigmoid, init=glorot_uniform, seed 2: test acc 0.46, vanishing"
    monkeypatch.setenv("COLUMNS", "60")
    tty = _Terminal()
    bar = Progress(3, stream=tty)
    for done in (1, 2, 3):
        bar.update(done, note)
    bar.close()
    redrawn = tty.getvalue().rstrip("\n").split("\r")[1:]
    assert len(redrawn) == 3 and all(len(line) == 59 for line in redrawn)
    assert redrawn[-1].startswith("[") and " 3/3 100%" in redrawn[-1]
    log = io.StringIO()
    bar = Progress(3, stream=log)
    bar.update(2, note)
    assert_fits(log.getvalue(), 60)
    assert words(log.getvalue()).endswith(note) and log.getvalue().count("\n") >= 2


# -- divergence, labels, pipes -------------------------------------------------------------------


def test_a_diverging_run_prints_no_warning_and_reports_it(tmp_path: Path) -> None:
    # Adam at 1e30 turns the weights NaN; SGD at 1e30 leaves float32 kernels near 1e29.
    nan = _run("diagnose", "--lr", "1e30", "--activation", "relu", "--depth", "3",
               "--epochs", "3", "--out", str(tmp_path / "adam"))  # fmt: skip
    assert nan.returncode == 0 and nan.stderr == "", nan.stderr
    assert "[non-finite] NaN/Inf first appeared in epoch 1" in words(nan.stdout)
    assert "final loss nan" in nan.stdout
    huge = _run("diagnose", "--lr", "1e30", "--optimizer", "sgd", "--activation", "tanh",
                "--depth", "4", "--epochs", "3", "--out", str(tmp_path / "sgd"))  # fmt: skip
    assert huge.returncode == 0 and huge.stderr == "", huge.stderr
    assert "[learning-rate]" in huge.stdout and "too large" in words(huge.stdout)
    # The seed's network under Adam at 1e6 (Keras' name for the flag).
    seed = _run("diagnose", "--learning-rate", "1e6", "--epochs", "10",
                "--out", str(tmp_path / "seed"))  # fmt: skip
    assert seed.returncode == 0 and seed.stderr == "", seed.stderr
    findings = words(seed.stdout.split("Findings:")[1])
    assert "[learning-rate] One step changed" in findings
    assert "the learning rate (1e6) is too large" in findings
    assert_fits(nan.stdout + huge.stdout + seed.stdout)


def _pets(path: Path) -> Path:
    rows = [f"{i % 7 * 0.3:.2f},{i % 5 * 0.1:.2f},{'dog' if i % 3 else 'cat'}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n")  # no header, names as labels, a .txt suffix
    return path


def test_text_labels_in_a_csv_of_any_suffix_are_mapped_and_reported(tmp_path: Path) -> None:
    data = _pets(tmp_path / "pets.txt")
    out = tmp_path / "diag"
    proc = _run("diagnose", "--dataset", str(data), "--depth", "2", "--epochs", "2",
                "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "32 training, 8 test samples, 2 classes" in words(proc.stdout)
    assert f"classes: 0 = cat, 1 = dog (the labels in {data})" in words(proc.stdout)
    assert json.loads((out / "result.json").read_text())["classes"] == ["cat", "dog"]
    sweep_out = tmp_path / "sweep"
    swept = _run("sweep", "--datasets", f"moons,{data}", "--depths", "2", "--epochs", "2",
                 "--jobs", "1", "--out", str(sweep_out))  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    assert f"{data}: classes 0 = cat, 1 = dog" in words(swept.stderr)
    payload = json.loads((sweep_out / "results.json").read_text())
    assert payload["classes"] == {"moons": [0, 1], str(data): ["cat", "dog"]}


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(PYTHON_DIR))
    proc = subprocess.Popen(
        [sys.executable, "-m", "vgp_native", "diagnose", "--epochs", "2", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # the reader is gone before the first line, as with `| head -0`
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and b"Traceback" not in err, err.decode()
