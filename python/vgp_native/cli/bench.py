"""``vgp-native bench``: run the benchmarks of the source checkout and print their tables.

The benchmarks (``bench/kernels.py``: native kernels against numpy;
``bench/training.py``: training against numpy and, when installed, PyTorch)
live in the repository, not in the installed package. They are looked for in
``--dir``, else in the ``bench/`` folder of the checkout this package was
imported from, else in ``./bench``. Each is a script with a
``main(argv) -> int`` taking ``--quick`` and ``--json PATH``; with ``--json``
the two files are combined into ``{"kernels": ..., "training": ...}``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from .common import CliError, atomic_write_text

__all__ = ["BENCHMARKS", "find_bench_dir", "run_bench"]

#: The benchmark scripts, in the order they run.
BENCHMARKS = ("kernels", "training")


def _candidates(explicit: str | None) -> list[Path]:
    if explicit is not None:
        return [Path(explicit)]
    checkout = Path(__file__).resolve().parents[2] / "bench"  # python/vgp_native/ -> root
    return [checkout, Path.cwd() / "bench"]


def find_bench_dir(explicit: str | None = None) -> Path:
    """The folder holding every benchmark script, or a CliError saying none was found."""
    looked = _candidates(explicit)
    for folder in looked:
        if all((folder / f"{name}.py").is_file() for name in BENCHMARKS):
            return folder
    wanted = " and ".join(f"{name}.py" for name in BENCHMARKS)
    raise CliError(
        f"the benchmarks ({wanted}) are not importable: not found in "
        f"{', '.join(str(p) for p in looked)}; they ship with the source checkout, "
        "so run from a clone of the repository or pass --dir"
    )


@contextlib.contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))


def _load(folder: Path, name: str) -> ModuleType:
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"vgp_native_bench_{name}", path)
    if spec is None or spec.loader is None:
        raise CliError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        raise CliError(f"cannot import {path}: {exc}") from None
    if not callable(getattr(module, "main", None)):
        raise CliError(f"{path} has no main(argv) function")
    return module


def run_bench(args: argparse.Namespace) -> int:
    """Run the ``bench`` subcommand; return the exit status (the worst of the benchmarks')."""
    folder = find_bench_dir(args.dir)
    target = Path(args.json) if args.json else None
    if target is not None and not target.parent.is_dir():
        raise CliError(f"--json: the folder {target.parent} does not exist")
    status = 0
    combined: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp, _on_path(folder):
        for name in BENCHMARKS:
            module = _load(folder, name)
            argv = ["--quick"] if args.quick else []
            print(f"== {name}: {folder / (name + '.py')} {' '.join(argv)}".rstrip(), flush=True)
            part = Path(tmp) / f"{name}.json"
            code = module.main(argv + (["--json", str(part)] if target is not None else []))
            status = max(status, int(code or 0))
            print(flush=True)
            if target is not None and part.is_file():
                combined[name] = json.loads(part.read_text(encoding="utf-8"))
    if target is not None:
        atomic_write_text(target, json.dumps(combined, indent=1) + "\n")
        print(f"wrote {target}")
    return status
