"""``vgp-native diagnose``: train one network and print its gradient-flow report.

Files in ``--out``: ``report.html`` (the report with its figures, one
self-contained file), one PNG per figure of the report (``gradient_norms.png``,
``heatmap.png``, ``training_curves.png``, ``weights_vs_epochs.png``, ...) plus
``decision_boundary.png`` for two-feature data, and ``result.json`` (the
run's result dict, as a sweep records it, plus ``classes``: the original label
of each class, e.g. ``["cat", "dog"]`` when a CSV file names them).
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
from pathlib import Path
from typing import Any

from .. import plots
from .._format import fixed, num
from ..experiments import check_config, load_dataset, run_config
from ..experiments.sweep import encode_result
from ..flow.table import format_report
from ..report_html import render_html
from .common import (
    CliError,
    atomic_open,
    atomic_write_text,
    flag_message,
    output_dir,
    save_figure,
    terminal_width,
    wrap,
)

__all__ = ["FLAGS", "config_from_args", "load_data", "run_diagnose", "write_figures"]

#: The flag that sets each configuration key.
FLAGS = {
    "depth": "--depth",
    "width": "--width",
    "activation": "--activation",
    "init": "--init",
    "dropout": "--dropout",
    "optimizer": "--optimizer",
    "learning_rate": "--lr",
    "batch_size": "--batch-size",
    "seed": "--seed",
}


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The experiment configuration the flags describe, checked (a CliError when invalid)."""
    try:
        return check_config(
            depth=args.depth,
            width=args.width,
            activation=args.activation,
            init=args.init,
            norm="batchnorm" if args.batchnorm else "none",
            residual="identity" if args.residual else "none",
            dropout=args.dropout,
            optimizer=args.optimizer,
            learning_rate=args.lr,
            batch_size=args.batch_size,
            dataset=args.dataset,
            seed=args.seed,
        )
    except (ValueError, TypeError) as exc:
        raise CliError(flag_message(str(exc), FLAGS)) from None


def load_data(name: str) -> Any:
    """``experiments.load_dataset`` with data problems turned into one-line CLI errors."""
    try:
        return load_dataset(name)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise CliError(f"--dataset: {exc}") from None


_EMBEDDED_PNG = re.compile(
    r'<img alt="[^"<>]*" data-name="([^"<>]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"'
)


def _png_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", html.unescape(name).lower()).strip("_") + ".png"


def write_figures(run: Any, out: Path, page: str) -> list[Path]:
    """Save the report's figures as PNG files in ``out``; return their paths.

    The figures embedded in the report page ``page`` are written out as they
    are (drawing them once serves both); when the page holds none, they are
    drawn again with ``plots.report_figures``. Two-feature data also get
    ``decision_boundary.png``.
    """
    import matplotlib

    matplotlib.use("Agg")
    written = []
    embedded = _EMBEDDED_PNG.findall(page)
    for name, data in embedded:
        path = out / _png_name(name)
        with atomic_open(path, "wb") as fh:
            fh.write(base64.b64decode(data))
        written.append(path)
    if not embedded:
        for name, fig in plots.report_figures(run.report).items():
            path = out / f"{name}.png"
            save_figure(fig, path)
            written.append(path)
    if run.data.n_features == 2:
        path = out / "decision_boundary.png"
        save_figure(plots.decision_boundary(run.model, run.data.x_test, run.data.y_test), path)
        written.append(path)
    return written


def run_diagnose(args: argparse.Namespace) -> int:
    """Run the ``diagnose`` subcommand; return the exit status."""
    cfg = config_from_args(args)
    data = load_data(cfg["dataset"])
    out = output_dir(args.out)
    run = run_config(cfg, data, args.epochs, track_weights=True)
    r = run.result
    width = terminal_width()
    lines = [
        f"{run.label} on {data.name} ({data.x_train.shape[0]} training, "
        f"{data.x_test.shape[0]} test samples, {data.n_classes} classes), "
        f"{args.epochs} epochs in {r['seconds']:.2f}s",
        f"final loss {fixed(r['final_loss'], 4)}, train accuracy {fixed(r['accuracy'], 3)}, "
        f"test accuracy {fixed(r['val_accuracy'], 3)}, first-layer weight change "
        f"{num(r['weight_change'])}",
    ]
    if data.renumbered:
        lines.append(f"classes: {data.class_legend()} (the labels in {data.name})")
    for text in lines:
        print(wrap(text, indent="  ", width=width))
    print()
    print(format_report(run.report, width))
    page = render_html(run.report, title=f"Gradient-flow report: {run.label} on {data.name}")
    atomic_write_text(out / "report.html", page)
    written = write_figures(run, out, page)
    payload = {**encode_result(r), "classes": list(data.classes)}
    atomic_write_text(out / "result.json", json.dumps(payload, indent=1) + "\n")
    done = f"wrote {out / 'report.html'}, {out / 'result.json'} and {len(written)} figures in {out}"
    print("\n" + wrap(done, indent="  ", width=width))
    return 0
