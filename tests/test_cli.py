"""The ``vgp-native`` command line, run as a subprocess: ``python -m vgp_native`` always,
the installed ``vgp-native`` console script when there is one (CI installs the package)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import vgp_native
from cli_output import COLUMNS, assert_fits, error_message, words
from vgp_native import cli
from vgp_native.experiments import CONFIG_KEYS, RESULT_FIELDS

ROOT = Path(__file__).resolve().parents[1]
# Where the package the tests import lives (site-packages once installed, the
# source tree's python/ folder in an in-place build): subprocesses use the same.
PYTHON_DIR = Path(vgp_native.__file__).resolve().parents[1]
SWEEP_ARGS = ["sweep", "--depths", "2,4", "--activations", "sigmoid,relu", "--seeds", "3"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    env["COLUMNS"] = str(COLUMNS)
    return env


def _command(via: str) -> list[str]:
    if via == "module":
        return [sys.executable, "-m", "vgp_native"]
    script = shutil.which("vgp-native")
    if script is None:
        pytest.skip("the vgp-native console script is not installed (pip install . installs it)")
    return [script]


@pytest.fixture
def vgp():
    """Run the CLI: ``vgp(*args) -> CompletedProcess``, through the installed console
    script when there is one (CI), else ``python -m vgp_native``; ``test_entry_points_agree``
    runs both."""
    script = shutil.which("vgp-native")
    base = [script] if script else _command("module")

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*base, *args], capture_output=True, text=True, env=_env(), timeout=timeout
        )

    return run


def _one_error(proc: subprocess.CompletedProcess, *parts: str) -> None:
    """Exit status 2 and one error message (wrapped to 80 columns) holding ``parts``."""
    assert proc.returncode == 2, proc.stderr
    message = error_message(proc.stderr)
    for part in parts:
        assert part in message, message


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _without_seconds(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


# -- demo and diagnose --------------------------------------------------------------------------


def test_demo(vgp, tmp_path: Path) -> None:
    proc = vgp("demo", "--epochs", "3", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("configuration"))
    table = lines[start : lines.index("", start)]
    # 80 columns: the table leaves out ΔW1 (results.csv keeps it) and the legend says so.
    assert_fits(proc.stdout + proc.stderr)
    assert table[0].split() == [
        "configuration", "loss", "train", "test", "grad", "ratio", "at", "init", "in", "training"
    ]  # fmt: skip
    assert "Left out to fit the terminal: ΔW1 (in results.csv" in words(proc.stdout)
    assert "seed: 8 sigmoid layers" in table[2] and table[2].split()[-2:] == [
        "vanishing",
        "vanishing",
    ]
    assert "- seed: 8 sigmoid layers: at init vanishing (signal" in proc.stdout
    assert len(table) == 2 + 12 and "30 layers: residual" in table[-1]
    assert "Findings for the seed network" in proc.stdout and "[vanishing]" in proc.stdout
    assert proc.stderr.count("[") >= 12 and "[12/12] 30 layers: residual" in proc.stderr
    for name in (
        "gradient_norms.png",
        "gradient_norms_init.png",
        "gradient_norms_deep.png",
        "heatmaps.png",
        "loss_curves.png",
        "weights_vs_epochs.png",
        "decision_boundaries.png",
    ):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    rows = _csv_rows(tmp_path / "results.csv")
    assert [r["configuration"] for r in rows][:2] == [
        "seed: 8 sigmoid layers",
        "fewer layers: 2 sigmoid",
    ]
    assert {r["epochs"] for r in rows} == {"3"} and all(r["weight_change"] for r in rows)
    page = (tmp_path / "report.html").read_text()
    assert "<th>ΔW1</th>" in page
    assert (
        'id="demo-table"' in page and "relu + he_normal" in page and "30 layers: batch norm" in page
    )
    assert page.count("data:image/png;base64,") >= 6
    # The page reads on a phone: tables scroll in their box; captions are words; it does
    # not point at itself.
    assert page.count("<table") == page.count('<div class="table-wrap">')
    assert "(report.html)" not in page and ".png</figcaption>" not in page
    assert not list(tmp_path.glob(".*"))


def test_diagnose_builtin(vgp, tmp_path: Path) -> None:
    proc = vgp(
        "diagnose",
        "--depth",
        "6",
        "--width",
        "8",
        "--activation",
        "relu",
        "--init",
        "he_normal",
        "--batchnorm",
        "--epochs",
        "3",
        "--dataset",
        "circles",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert "6 x 8 relu, he_normal, batchnorm on circles" in words(proc.stdout)
    assert "Gradient flow:" in proc.stdout and "Findings" in proc.stdout
    assert_fits(proc.stdout + proc.stderr)
    table = proc.stdout.splitlines()[proc.stdout.splitlines().index("") + 1 :]
    assert [line.split()[:2] for line in table if line.startswith(" # ")] == [["#", "layer"]]
    result = json.loads((tmp_path / "result.json").read_text())
    assert list(result) == [*CONFIG_KEYS, *RESULT_FIELDS, "classes"]
    assert result["classes"] == [0, 1] and "classes:" not in proc.stdout
    assert result["depth"] == 6 and result["norm"] == "batchnorm" and result["epochs"] == 3
    page = (tmp_path / "report.html").read_text()
    assert "<table" in page and result["verdict"] in page
    assert (tmp_path / "gradient_norms.png").is_file() and (
        tmp_path / "decision_boundary.png"
    ).is_file()


def test_diagnose_csv(vgp, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    lines = ["x1,x2,x3,label"] + [
        f"{i % 7 * 0.3:.2f},{i % 5 * 0.1:.2f},{(i * 13) % 11 * 0.05:.2f},{3 if i % 2 else 8}"
        for i in range(60)
    ]
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    proc = vgp(
        "diagnose",
        "--dataset",
        str(data),
        "--depth",
        "3",
        "--residual",
        "--epochs",
        "2",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "48 training, 12 test samples, 2 classes" in words(proc.stdout)
    assert "classes: 0 = 3, 1 = 8" in words(proc.stdout)
    assert json.loads((out / "result.json").read_text())["classes"] == [3, 8]
    assert (out / "report.html").is_file()
    assert not (out / "decision_boundary.png").exists()  # three features: no plane to draw


# -- sweep --------------------------------------------------------------------------------------


def test_sweep_local_outputs(vgp, tmp_path: Path) -> None:
    proc = vgp(*SWEEP_ARGS, "--epochs", "4", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("] 12/12 100%") == 1 and "] 1/12" in proc.stderr
    assert_fits(proc.stdout + proc.stderr)
    header = proc.stdout.splitlines()[0].split()
    assert header[:2] == ["depth", "activation"] and header[-4:] == ["at", "init", "in", "training"]
    # Numbers as the package writes them: test accuracy as "0.54 ± 0.03" on every row,
    # a gradient ratio with two significant digits and never "0".
    table = proc.stdout.splitlines()[2:6]
    assert all(re.search(r" \d\.\d\d ± \d\.\d\d ", line) for line in table), table
    ratios = [re.search(r"± \d\.\d\d +(\S+)", line).group(1) for line in table]
    assert all(float(r) != 0 for r in ratios), ratios
    assert "train acc" not in proc.stdout.splitlines()[0]
    assert "Left out to fit the terminal:" in proc.stdout and "train acc" in proc.stdout
    rows = _csv_rows(tmp_path / "results.csv")
    assert len(rows) == 12 and list(rows[0]) == [*CONFIG_KEYS, *RESULT_FIELDS]
    assert [(r["depth"], r["activation"], r["seed"]) for r in rows[:4]] == [
        ("2", "sigmoid", "0"),
        ("2", "sigmoid", "1"),
        ("2", "sigmoid", "2"),
        ("2", "relu", "0"),
    ]
    payload = json.loads((tmp_path / "results.json").read_text())
    assert set(payload) == {"epochs", "seeds", "grid", "classes", "results", "summary"}
    assert payload["classes"] == {"moons": [0, 1]}
    assert payload["grid"]["depth"] == [2, 4] and payload["seeds"] == [0, 1, 2]
    assert len(payload["results"]) == 12 and len(payload["summary"]) == 4
    assert payload["summary"][0]["trainable_depth"] == pytest.approx(2.08, abs=0.01)
    for name in ("heatmap_val_accuracy.png", "heatmap_grad_ratio.png", "heatmap_verdicts.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    summary = payload["summary"][0]
    assert {"initial_verdict", "training_verdict", "initial_verdict_count"} <= set(summary)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 12
    # Rerunning with the same --out trains nothing and gives the same table.
    again = vgp(*SWEEP_ARGS, "--epochs", "4", "--out", str(tmp_path))
    assert again.returncode == 0 and again.stderr.count("(kept)") == 12
    assert again.stdout == proc.stdout
    assert _csv_rows(tmp_path / "results.csv") == rows


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """An uninterrupted sweep: its folder and its results.csv rows."""
    ref = tmp_path_factory.mktemp("reference")
    proc = subprocess.run(
        [sys.executable, "-m", "vgp_native", *SWEEP_ARGS, "--epochs", "60", "--out", str(ref)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return ref, _csv_rows(ref / "results.csv")


def test_sweep_resumes_from_a_partial_results_directory(tmp_path: Path, reference) -> None:
    ref_dir, ref_rows = reference
    partial = tmp_path / "partial"
    shutil.copytree(ref_dir / "runs", partial / "runs")
    kept = sorted((partial / "runs").glob("*.json"))
    for path in kept[::3]:
        path.unlink()
    (partial / "runs" / f".{kept[0].name}.999.abcd.tmp").write_text('{"depth": 2, "wid')
    proc = subprocess.run(
        [sys.executable, "-m", "vgp_native", *SWEEP_ARGS, "--epochs", "60", "--out", str(partial)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("(kept)") == 8
    resumed = _csv_rows(partial / "results.csv")
    assert _without_seconds(resumed) == _without_seconds(ref_rows)
    # The kept runs keep even their timings.
    assert sum(a == b for a, b in zip(resumed, ref_rows, strict=True)) >= 8
    assert not list((partial / "runs").glob(".*"))


def _wait_for_a_finished_run(out: Path, proc: subprocess.Popen) -> None:
    """Until the sweep writing to ``out`` has saved its first run (at most a minute)."""
    deadline = time.monotonic() + 60
    while not list(out.glob("runs/*.json")) and proc.poll() is None:
        assert time.monotonic() < deadline, "no run finished within a minute"
        time.sleep(0.002)


def _resume_and_compare(args: list[str], out: Path, reference) -> None:
    """An interrupted sweep kept 1-11 finished runs of 60 epochs; the same command
    again keeps them, runs the rest, and writes the uninterrupted sweep's results."""
    finished = list(out.glob("runs/*.json"))
    assert 1 <= len(finished) < 12
    for path in finished:
        assert json.loads(path.read_text())["epochs"] == 60
    resumed = subprocess.run(args, capture_output=True, text=True, env=_env(), timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.count("(kept)") == len(finished)
    assert _without_seconds(_csv_rows(out / "results.csv")) == _without_seconds(reference[1])


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sweep_interrupted_by_ctrl_c_then_resumed(tmp_path: Path, reference) -> None:
    out = tmp_path / "interrupted"
    args = [sys.executable, "-m", "vgp_native", *SWEEP_ARGS, "--epochs", "60", "--out", str(out)]
    # Ctrl-C as at a terminal, even when the tests run with SIGINT ignored (a
    # background job of a non-interactive shell passes SIG_IGN on to its children).
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        preexec_fn=_default_sigint,
    )
    _wait_for_a_finished_run(out, proc)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "run the same command again to resume" in err
    assert not list(out.glob("runs/.*")) and not (out / "results.csv").exists()
    _resume_and_compare(args, out, reference)


def _process_tree() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, state letter), read from /proc."""
    tree = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            tree[int(entry.name)] = (int(ppid), state)
    return tree


def _descendants(pid: int) -> set[int]:
    tree = _process_tree()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, (ppid, _) in tree.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie has ended: only its entry is left)."""
    tree = _process_tree()
    return {pid for pid in pids if pid in tree and tree[pid][1] != "Z"}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_sweep_killed_by_sigkill_leaves_no_process_behind_and_resumes(
    tmp_path: Path, reference
) -> None:
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "vgp_native", *SWEEP_ARGS, "--epochs", "60", "--out", str(out)]
    proc = subprocess.Popen(
        [*args, "--jobs", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env()
    )
    _wait_for_a_finished_run(out, proc)
    children = _descendants(proc.pid)
    proc.kill()  # SIGKILL: no handler runs, nothing is cleaned up by the parent
    proc.wait(timeout=10)
    # Two workers and the multiprocessing resource tracker were running.
    assert len(children) >= 3, children
    deadline = time.monotonic() + 10
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(children) == set(), "processes of the killed sweep survive it"
    _resume_and_compare(args, out, reference)


def test_sweep_on_a_dask_scheduler(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from vgp_native.cli.common import csv_text
    from vgp_native.experiments import sweep

    grid = {"depth": [2, 3], "activation": ["tanh"]}
    args = ["sweep", "--depths", "2,3", "--activations", "tanh", "--seeds", "2", "--epochs", "3"]
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        remote = subprocess.run(
            [
                sys.executable,
                "-m",
                "vgp_native",
                *args,
                "--scheduler",
                cluster.scheduler_address,
                "--out",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
        )
    assert remote.returncode == 0, remote.stderr
    assert "on Dask cluster at tcp://" in words(remote.stderr)
    local = sweep(grid, seeds=2, epochs=3, max_workers=1)
    text = csv_text(local, [*CONFIG_KEYS, *RESULT_FIELDS])
    expected = list(csv.DictReader(text.splitlines()))
    assert _without_seconds(_csv_rows(tmp_path / "results.csv")) == _without_seconds(expected)


def test_scheduler_without_dask_says_how_to_install(monkeypatch, tmp_path: Path, capsys) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "distributed" else real(name, *a),
    )
    status = cli.main(
        ["sweep", "--depths", "2", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path)]
    )
    assert status == 2
    assert "pip install 'vgp-native[dask]'" in error_message(capsys.readouterr().err)


def test_bad_scheduler_address_is_one_error_message(tmp_path: Path, capsys) -> None:
    pytest.importorskip("distributed")
    status = cli.main(
        [
            "sweep",
            "--depths",
            "2",
            "--epochs",
            "1",
            "--scheduler",
            "bogus://host",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 2
    message = error_message(capsys.readouterr().err)
    assert "cannot connect to the Dask scheduler at bogus://host" in message


# -- errors -----------------------------------------------------------------------------------


BAD_CSVS = {
    "non-numeric": ("a,b,label\n1,2,0\n3,oops,1\n", "line 3, column 2: 'oops' is not a number"),
    "ragged": ("1,2,0\n3,4,1\n5,1\n", "line 3: expected 3 columns, found 2"),
    "one class": ("1,2,1\n3,4,1\n5,6,1\n", "single class"),
    "float labels": ("1,2,0.5\n3,4,1.5\n", "non-integer"),
    "empty": ("", "empty"),
}


def _main_error(capsys, args: list[str], *parts: str) -> None:
    """``cli.main(args)`` in this process: exit status 2 and one message naming the problem."""
    status = cli.main(args)
    err = capsys.readouterr().err
    assert status == 2, err
    message = error_message(err)
    for part in parts:
        assert part in message, message


@pytest.fixture(autouse=True)
def _columns(monkeypatch) -> None:
    """In-process runs see 80 columns too, whatever terminal runs the tests."""
    monkeypatch.setenv("COLUMNS", str(COLUMNS))


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_bad_csv_is_one_error_message(capsys, tmp_path: Path, case: str) -> None:
    text, message = BAD_CSVS[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    out = tmp_path / "o"
    _main_error(
        capsys,
        ["diagnose", "--dataset", str(path), "--out", str(out)],
        "vgp-native diagnose: error:",
        message,
    )
    _main_error(
        capsys,
        ["sweep", "--datasets", f"moons,{path}", "--out", str(out)],
        "vgp-native sweep: error:",
        message,
    )
    assert not out.exists()


def test_missing_csv_is_one_error_message(capsys, tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.csv")
    _main_error(capsys, ["diagnose", "--dataset", missing], "nowhere.csv: no such file")
    _main_error(capsys, ["sweep", "--datasets", missing], "nowhere.csv: no such file")


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        (["diagnose", "--depth", "0"], ["--depth", "expected an integer >= 1, received '0'"]),
        (["diagnose", "--depth", "x"], ["--depth"]),
        (["diagnose", "--activation", "sigmod"], ["--activation", "sigmod"]),
        (["diagnose", "--init", "xavier"], ["--init", "unknown initializer 'xavier'"]),
        (["diagnose", "--init", "random_normal(stdev=1)"], ["--init", "stdev"]),
        (["diagnose", "--optimizer", "lbfgs"], ["--optimizer", "lbfgs"]),
        (["diagnose", "--lr", "-0.1"], ["--lr"]),
        (["diagnose", "--dropout", "1.5"], ["--dropout"]),
        (["diagnose", "--dataset", "mnist"], ["--dataset", "moons, circles, spirals"]),
        (["diagnose", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["sweep", "--depths", "2,x"], ["--depths", "'x'"]),
        (["sweep", "--norms", "none,layernorm"], ["--norms", "layernorm"]),
        (["sweep", "--residual", "maybe"], ["--residual", "maybe"]),
        (["sweep", "--activations", ","], ["--activations"]),
        (["sweep", "--seeds", "0"], ["--seeds"]),
        (["demo", "--epochs", "0"], ["--epochs"]),
        (["train"], ["invalid choice: 'train'"]),
    ],
)
def test_bad_flags_are_one_error_message(capsys, args: list[str], parts: list[str]) -> None:
    _main_error(capsys, args, *parts)


@pytest.mark.parametrize("via", ["module", "script"])
def test_entry_points_agree(via: str, tmp_path: Path) -> None:
    args = ["sweep", "--depths", "2", "--activations", "relu", "--epochs", "2", "--jobs", "1"]
    proc = subprocess.run(
        [*_command(via), *args, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = _csv_rows(tmp_path / "results.csv")
    assert len(rows) == 1 and rows[0]["activation"] == "relu"
    assert proc.stdout.splitlines()[0].split()[:3] == ["depth", "activation", "init"]
    _one_error(
        subprocess.run(
            [*_command(via), "sweep", "--depths", "0"],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
        ),
        "vgp-native sweep: error: argument --depths",
    )


def test_errors_through_the_command(vgp, tmp_path: Path) -> None:
    _one_error(vgp("diagnose", "--depth", "0"), "vgp-native diagnose: error:", "--depth")
    _one_error(vgp("sweep", "--activations", "sigmoid,bogus"), "--activations", "bogus")
    path = tmp_path / "ragged.csv"
    path.write_text(BAD_CSVS["ragged"][0])
    _one_error(vgp("diagnose", "--dataset", str(path)), BAD_CSVS["ragged"][1])


def test_help_and_version(vgp) -> None:
    proc = vgp("--help")
    assert proc.returncode == 0 and all(
        c in proc.stdout for c in ("demo", "diagnose", "sweep", "bench")
    )
    sweep_help = vgp("sweep", "--help").stdout
    assert all(flag in sweep_help for flag in ("--depths", "--inits", "--norms", "--scheduler"))
    assert vgp("--version").stdout.startswith("vgp-native ")


# -- bench ----------------------------------------------------------------------------------------


def test_bench_without_the_scripts_says_so(vgp, tmp_path: Path) -> None:
    proc = vgp("bench", "--dir", str(tmp_path))
    _one_error(proc, "kernels.py and training.py", "not importable")


def test_bench_runs_both_scripts_and_combines_json(vgp, tmp_path: Path) -> None:
    for name in ("kernels", "training"):
        (tmp_path / f"{name}.py").write_text(
            "import json, sys\n"
            "from _shared import ROW\n"
            "def main(argv):\n"
            "    quick = '--quick' in argv\n"
            f"    print('{name} table', 'quick' if quick else 'full')\n"
            "    if '--json' in argv:\n"
            "        path = argv[argv.index('--json') + 1]\n"
            f"        json.dump([dict(ROW, name='{name}', quick=quick)], open(path, 'w'))\n"
            "    return 0\n"
        )
    (tmp_path / "_shared.py").write_text("ROW = {'speedup': 3.5}\n")
    target = tmp_path / "out.json"
    proc = vgp("bench", "--quick", "--json", str(target), "--dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.index("kernels table quick") < proc.stdout.index("training table quick")
    assert json.loads(target.read_text()) == {
        "kernels": [{"speedup": 3.5, "name": "kernels", "quick": True}],
        "training": [{"speedup": 3.5, "name": "training", "quick": True}],
    }
    missing_dir = vgp("bench", "--json", str(tmp_path / "no" / "x.json"), "--dir", str(tmp_path))
    _one_error(missing_dir, "--json")
