"""``vgp-native sweep``: a grid of configurations x seeds, resumable, local or on Dask.

Files in ``--out``:

- ``runs/<key>.json``: one finished run each, written atomically as it
  completes; a rerun with the same ``--out`` loads them instead of training again.
- ``results.csv``: one row per run (the configuration's keys, ``seed``, then
  the measured fields), in grid order.
- ``results.json``: ``{"epochs", "seeds", "grid", "classes", "results": [...],
  "summary": [...]}`` (NaN written as null; ``classes`` maps each data set to the
  original label of each class, e.g. ``{"pets.csv": ["cat", "dog"]}``).
- ``heatmap_val_accuracy.png``, ``heatmap_grad_ratio.png``: depth x configuration,
  with the mean-field trainable depth ``6 xi`` overlaid.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from .._format import fixed, num, plus_minus
from ..experiments import CONFIG_KEYS, RESULT_FIELDS, expand_grid, load_dataset, sweep
from ..experiments.figures import sweep_heatmap, verdict_heatmap
from ..experiments.summary import summarize, varying_keys
from ..experiments.sweep import encode_result
from .common import (
    CliError,
    Progress,
    atomic_write_text,
    csv_text,
    fit_table,
    flag_message,
    output_dir,
    save_figure,
    terminal_width,
    wrap,
)

__all__ = ["run_sweep", "sweep_table"]

EXIT_INTERRUPTED = 130
#: The flag that sets each swept configuration key.
FLAGS = {
    "depth": "--depths",
    "width": "--widths",
    "activation": "--activations",
    "init": "--inits",
    "norm": "--norms",
    "residual": "--residual",
    "dataset": "--datasets",
}


def _grid(args: argparse.Namespace) -> dict[str, list[Any]]:
    return {
        "depth": args.depths,
        "width": args.widths,
        "activation": args.activations,
        "init": args.inits,
        "norm": args.norms,
        "residual": args.residual,
        "dataset": args.datasets,
    }


def _check(grid: dict[str, list[Any]], seeds: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """Expand and check the grid and load its data sets up front: errors are usage errors."""
    try:
        configs = expand_grid(grid, seeds)
        data = [load_dataset(name) for name in grid["dataset"]]
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise CliError(flag_message(str(exc), FLAGS)) from None
    return configs, data


def _connect(address: str) -> Any:
    """A ``dask.distributed.Client`` for ``address``; a one-line error when impossible."""
    if importlib.util.find_spec("distributed") is None:
        raise CliError(
            "--scheduler needs Dask, which is not installed: pip install 'vgp-native[dask]'"
        )
    from distributed import Client

    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise CliError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None


def _note(result: dict[str, Any], varying: list[str]) -> str:
    parts = [f"{k}={result[k]}" for k in varying]
    return (
        f"{', '.join(parts)}{', ' if parts else ''}seed {result['seed']}: "
        f"test acc {fixed(result['val_accuracy'])}, at init {result['initial_verdict']}, "
        f"in training {result['training_verdict']}"
    )


#: Columns a narrow terminal leaves out, in this order (results.csv keeps them all).
OPTIONAL = ("train acc", "loss", "6ξ", "seeds")
#: Shorter headers a narrow terminal shows first (the configuration keys keep their names).
SHORT = {"test acc": "test", "grad ratio": "g ratio"}


def _verdict(row: dict[str, Any], part: str) -> str:
    """The most common verdict, with how many seeds gave it when there are several."""
    seeds = row["seeds"]
    return row[part] if seeds == 1 else f"{row[part]} ({row[part + '_count']}/{seeds})"


def sweep_table(summary: list[dict[str, Any]], varying: list[str], width: int) -> str:
    """The summary table, at most ``width`` columns wide: the ``SHORT`` headers first,
    then the ``OPTIONAL`` columns left out until it fits (a note names them), or, when
    that is not enough, one record per configuration (``fit_table``)."""
    keys = varying or ["depth", "activation", "init"]
    header = [*keys, "seeds", "loss", "train acc", "test acc", "grad ratio", "6ξ", "at init"]
    header.append("in training")
    rows = []
    for row in summary:
        xi6 = row["trainable_depth"]
        rows.append(
            [
                *[row[k] for k in keys],
                row["seeds"],
                num(row["final_loss"]),
                fixed(row["accuracy"]),
                plus_minus(row["val_accuracy"], row["val_accuracy_std"])
                if row["seeds"] > 1
                else fixed(row["val_accuracy"]),
                num(row["grad_ratio"], 2),
                "-" if xi6 is None else num(xi6),
                _verdict(row, "initial_verdict"),
                _verdict(row, "training_verdict"),
            ]
        )
    align = "l" * len(keys) + "rrrrrrll"
    table, shown = fit_table(rows, header, align, width, OPTIONAL, keys=len(keys), short=SHORT)
    hidden = [name for name in header if name not in shown]
    if hidden:
        note = f"Left out to fit the terminal: {', '.join(hidden)} (in results.csv)."
        table += "\n" + wrap(note, width=width)
    return table


def _write_outputs(
    out: Path,
    results: list[dict[str, Any]],
    summary: list[dict[str, Any]],
    grid: dict[str, list[Any]],
    seeds: int,
    epochs: int,
    classes: dict[str, list[Any]],
) -> list[Path]:
    columns = [*CONFIG_KEYS, *RESULT_FIELDS]
    written = [out / "results.csv", out / "results.json"]
    atomic_write_text(written[0], csv_text(results, columns))
    payload = {
        "epochs": epochs,
        "seeds": list(range(seeds)),
        "grid": grid,
        "classes": classes,
        "results": [encode_result(r) for r in results],
        "summary": [encode_result(r) for r in summary],
    }
    atomic_write_text(written[1], json.dumps(payload, indent=1, allow_nan=False) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    for metric in ("val_accuracy", "grad_ratio"):
        path = out / f"heatmap_{metric}.png"
        save_figure(sweep_heatmap(results, metric), path)
        written.append(path)
    path = out / "heatmap_verdicts.png"
    save_figure(verdict_heatmap(results), path)
    written.append(path)
    return written


def run_sweep(args: argparse.Namespace) -> int:
    """Run the ``sweep`` subcommand; return the exit status."""
    grid = _grid(args)
    configs, data = _check(grid, args.seeds)
    client = _connect(args.scheduler) if args.scheduler else None
    out = output_dir(args.out)
    runs_dir = out / "runs"
    varying = varying_keys(configs)
    if client is not None:
        where = f"on Dask cluster at {args.scheduler}"
    else:
        where = "in this process" if args.jobs == 1 else "on local worker processes"
    seeds = f"{args.seeds} seed{'s' if args.seeds != 1 else ''}"
    intro = (
        f"sweep: {len(configs)} runs ({len(configs) // args.seeds} configurations x {seeds}), "
        f"{args.epochs} epochs each, {where}; results in {out}"
    )
    print(wrap(intro, indent="  ", width=terminal_width(sys.stderr)), file=sys.stderr)
    for ds in data:
        if ds.renumbered:
            note = f"{ds.name}: classes {ds.class_legend()}"
            print(wrap(note, indent="  ", width=terminal_width(sys.stderr)), file=sys.stderr)
    bar = Progress(len(configs))
    finished = 0

    def progress(done: int, total: int, result: dict[str, Any], cached: bool) -> None:
        nonlocal finished
        finished = done
        bar.update(done, ("(kept) " if cached else "") + _note(result, varying))

    try:
        results = sweep(
            grid,
            seeds=args.seeds,
            epochs=args.epochs,
            executor=client,
            max_workers=args.jobs,
            cache_dir=runs_dir,
            progress=progress,
        )
    except KeyboardInterrupt:
        bar.close()
        stop = (
            f"vgp-native sweep: interrupted; {finished} of {len(configs)} runs are kept in "
            f"{runs_dir}: run the same command again to resume"
        )
        print(wrap(stop, indent="  ", width=terminal_width(sys.stderr)), file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        bar.close()
        if client is not None:
            client.close()
    summary = summarize(results)
    width = terminal_width()
    print(sweep_table(summary, varying, width))
    classes = {ds.name: list(ds.classes) for ds in data}
    written = _write_outputs(out, results, summary, grid, args.seeds, args.epochs, classes)
    print("\n" + wrap(f"wrote {', '.join(str(p) for p in written)}", indent="  ", width=width))
    return 0
