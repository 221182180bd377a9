"""``vgp-native demo``: the seed's experiment and every remedy, side by side.

The seed document trains a 9-layer network (8 sigmoid hidden layers of 10
units, Glorot-uniform weights, Adam, binary cross-entropy) on
``make_moons(250, noise=0.05, random_state=42)`` with an 80/20 split for 100
epochs and watches the loss stall. The demo trains it, then each remedy the
seed names on the same data and seeds, then a 30-layer stress test where only
the strong remedies still train, and prints one table and the findings.

Files in ``--out``: ``gradient_norms.png``, ``gradient_norms_init.png`` and
``gradient_norms_deep.png`` (gradient norm per layer at initialization, the
remedies, the initializations and the 30-layer networks overlaid),
``heatmaps.png`` (gradient norm, layers x epochs, of the seed network and three
remedies), ``loss_curves.png``,
``weights_vs_epochs.png`` (sampled kernel entries of each of the seed network's
layers against epochs: the seed's own picture), ``decision_boundaries.png``
(the networks of 8 layers or fewer), ``results.csv``, ``results.json`` and
``report.html`` (all of it on one page, with the seed network's full
gradient-flow report).
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from .. import plots, report_html
from .._format import fixed, num
from ..experiments import CONFIG_KEYS, RESULT_FIELDS, compare
from ..experiments.sweep import encode_result
from .common import atomic_write_text, csv_text, output_dir, save_figure, terminal_width, wrap
from .demo_table import HEADER, LEGEND, decided_by, demo_table, legend

__all__ = ["DEMO_CONFIGS", "decided_by", "demo_table", "legend", "run_demo"]

#: (label, group, configuration) of every network the demo trains, the seed's first.
#: Groups: "remedy" (the seed's remedies), "init" (Xavier vs naive initialization for
#: tanh), "deep" (30 layers: only the strong remedies still train).
DEMO_CONFIGS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("seed: 8 sigmoid layers", "remedy", {}),
    ("fewer layers: 2 sigmoid", "remedy", {"depth": 2}),
    ("relu + he_normal", "remedy", {"activation": "relu", "init": "he_normal"}),
    ("batch normalization", "remedy", {"norm": "batchnorm"}),
    ("tanh + Xavier (glorot)", "init", {"activation": "tanh"}),
    (
        "tanh + naive N(0, 0.05)",
        "init",
        {"activation": "tanh", "init": "random_normal(stddev=0.05)"},
    ),
    ("tanh + naive N(0, 1)", "init", {"activation": "tanh", "init": "random_normal(stddev=1)"}),
    ("residual blocks", "remedy", {"residual": "identity"}),
    ("30 layers: sigmoid", "deep", {"depth": 30}),
    ("30 layers: relu + he", "deep", {"depth": 30, "activation": "relu", "init": "he_normal"}),
    ("30 layers: batch norm", "deep", {"depth": 30, "norm": "batchnorm"}),
    ("30 layers: residual", "deep", {"depth": 30, "residual": "identity"}),
)
GROUPS = {label: group for label, group, _ in DEMO_CONFIGS}
CHANCE_LOSS = math.log(2.0)


def _lead(runs: list[Any], epochs: int) -> list[str]:
    """Plain-words sentences about the seed network and the best remedy."""
    seed = runs[0].result
    shallow = [run for run in runs if GROUPS.get(run.label) != "deep"]
    best = max(shallow[1:], key=lambda run: (run.result["val_accuracy"], -run.result["final_loss"]))
    stalled = abs(seed["final_loss"] - CHANCE_LOSS) < 0.02
    lines = [
        f"The seed network ended {epochs} epochs at a training loss of "
        f"{seed['final_loss']:.3f}"
        + (f", the chance level ln 2 = {CHANCE_LOSS:.3f}," if stalled else "")
        + f" with {seed['val_accuracy']:.0%} test accuracy. At initialization its first layer "
        f"received {num(seed['grad_ratio'], 2)} of the last layer's gradient (at init: "
        f"{seed['initial_verdict']}; in training: {seed['training_verdict']}).",
        f"Its first-layer weights changed by {seed['weight_change']:.0%} (||W1 - W1_init|| / "
        "||W1_init||): with Adam the steps do not shrink with the gradient, so the weights move"
        + (", but along a gradient that carries almost nothing of the loss." if stalled else "."),
        f"Best remedy at the same depth: {best.label} ({best.result['val_accuracy']:.0%} test "
        f"accuracy, gradient ratio {num(best.result['grad_ratio'], 2)}).",
    ]
    deep = [run for run in runs if GROUPS.get(run.label) == "deep"]
    if deep:
        trained = [
            run.label.split(": ", 1)[-1] for run in deep if run.result["val_accuracy"] >= 0.8
        ]
        ratio = deep[0].result["grad_ratio"]
        lines.append(
            "At 30 layers: "
            + (f"{', '.join(trained)} still train" if trained else "none of them trains")
            + f"; the plain sigmoid network's gradient ratio falls to {num(ratio, 1)}."
        )
    for run in runs[1:]:
        for finding in run.report.finding_details:
            if finding.kind == "batchnorm":
                m = run.report.modes
                lines.append(
                    f"{run.label}: healthy gradients, but it predicts at "
                    f"{m['infer_metric']:.0%} accuracy on its own training data with the "
                    f"moving batch-norm statistics, against {m['train_metric']:.0%} in training "
                    "mode: the moving averages disagree with the statistics it was trained with "
                    "(its report's batchnorm finding)."
                )
    return lines


#: Each figure the demo draws: file name and the caption the report gives it.
FIGURES: dict[str, str] = {
    "gradient_norms": "Kernel-gradient norm per layer at initialization: the seed network "
    "against each remedy, with the mean-field prediction (dashed).",
    "gradient_norms_init": "Kernel-gradient norm per layer at initialization: tanh with "
    "Xavier (Glorot) against naive normal initializations.",
    "gradient_norms_deep": "Kernel-gradient norm per layer at initialization, 30 layers: "
    "only the strong remedies keep the gradient.",
    "heatmaps": "Kernel-gradient norm, layers × epochs, of the seed network and three "
    "remedies, on one colour scale.",
    "loss_curves": "Training loss per epoch of every network; flat at ln 2 is the seed's symptom.",
    "weights_vs_epochs": "Sampled kernel weights of each layer of the seed network against epochs.",
    "decision_boundaries": "Decision boundaries of the networks of 8 layers or fewer, on "
    "the test points.",
}
#: Titles of the three gradient-norm overlays, by demo group.
OVERLAY_TITLES = {
    "remedy": "Seed network (8 sigmoid layers) and its remedies",
    "init": "tanh networks: Xavier vs naive initialization",
    "deep": "30-layer networks",
}


def _loss_curves(runs: list[Any], shallow: list[Any], deep: list[Any]) -> Any:
    """Training loss of every network; each 8-layer network has its own colour and marker,
    and a 30-layer network takes the colour of its 8-layer counterpart."""
    import matplotlib.pyplot as plt

    def family(run: Any) -> int:
        if run in shallow:
            return shallow.index(run)
        key = {k: v for k, v in run.config.items() if k != "depth"}
        for i, other in enumerate(shallow):
            if {k: v for k, v in other.config.items() if k != "depth"} == key:
                return i
        return len(shallow)

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), sharey=True)
    for ax, members, title in (
        (axes[0], shallow, "8 layers or fewer"),
        (axes[1], deep, "30 layers"),
    ):
        for run in members:
            i = family(run)
            loss = run.history.history["loss"]
            ax.plot(
                range(1, len(loss) + 1),
                loss,
                color=plots.PALETTE[i % len(plots.PALETTE)],
                marker=plots.MARKERS[i % len(plots.MARKERS)],
                markevery=max(1, len(loss) // 8),
                markersize=5,
                label=run.label,
                linewidth=1.6,
            )
        ax.axhline(CHANCE_LOSS, color="#555555", linestyle=":", label="chance level (ln 2)")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"Training loss per epoch, {title}")
        ax.legend(fontsize=7, loc="lower left")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("training loss (cross-entropy, log scale)")
    fig.tight_layout()
    return fig


def demo_figures(runs: list[Any]) -> dict[str, Any]:
    """The demo's figures, by name (``FIGURES``), from its runs (``compare``'s results)."""
    import matplotlib.pyplot as plt

    def group(name: str) -> list[Any]:
        return [run for run in runs if GROUPS.get(run.label) == name]

    figures: dict[str, Any] = {}
    shallow = [run for run in runs if GROUPS.get(run.label) != "deep"]
    overlays = (
        ("remedy", "gradient_norms", getattr(runs[0].report, "theory", None)),
        ("init", "gradient_norms_init", None),
        ("deep", "gradient_norms_deep", None),
    )
    for name, key, theory in overlays:
        members = group(name)
        if members:
            figures[key] = plots.gradient_norms(
                [run.flow for run in members],
                labels=[run.label for run in members],
                theory=theory,
                title=OVERLAY_TITLES[name],
            )
    remedies = group("remedy")[:1] + group("remedy")[2:]
    if remedies:
        figures["heatmaps"] = plots.heatmaps(
            [run.flow for run in remedies], labels=[run.label for run in remedies]
        )
    figures["loss_curves"] = _loss_curves(runs, shallow, group("deep"))
    figures["weights_vs_epochs"] = plots.weights_vs_epochs(runs[0].flow, label=runs[0].label)
    fig, axes = plt.subplots(2, 4, figsize=(13.2, 6.4))
    for ax, run in zip(axes.ravel(), shallow, strict=False):
        plots.decision_boundary(run.model, run.data.x_test, run.data.y_test, ax=ax, resolution=60)
        ax.set_title(f"{run.label}\ntest accuracy {fixed(run.result['val_accuracy'])}", fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes.ravel()[len(shallow) :]:
        ax.set_visible(False)
    fig.tight_layout()
    figures["decision_boundaries"] = fig
    return figures


def _figures(runs: list[Any], out: Path) -> list[Path]:
    """Draw and save the demo's figures (``out/<name>.png``); return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    written: list[Path] = []
    for name, fig in demo_figures(runs).items():
        path = out / f"{name}.png"
        save_figure(fig, path, dpi=90)
        written.append(path)
    return written


def _html(
    runs: list[Any],
    rows: list[list[str]],
    lead: list[str],
    figures: list[Path],
    epochs: int,
    decided: list[str],
) -> str:
    """The demo page: the table, the plain-words findings, the figures, the seed's report."""
    esc = html.escape
    head = '<th class="name">' + "</th><th>".join(esc(h) for h in HEADER) + "</th>"
    body = []
    for row, run in zip(rows, runs, strict=True):
        cells = "".join(f'<td class="num">{esc(c)}</td>' for c in row[1:-2])
        body.append(
            f'<tr><td class="name">{esc(row[0])}</td>{cells}'
            f"<td>{report_html.badge(run.result['initial_verdict'])}</td>"
            f"<td>{report_html.badge(run.result['training_verdict'])}</td></tr>"
        )
    imgs = []
    for path in figures:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        caption = FIGURES.get(path.stem, path.stem.replace("_", " "))
        imgs.append(report_html.image_html(f"data:image/png;base64,{data}", caption, path.stem))
    section = "\n".join(
        [
            "<h2>The seed's experiment and its remedies</h2>",
            f"<p>make_moons(250, noise=0.05, random_state=42), 80/20 split, Adam, binary "
            f"cross-entropy, {epochs} epochs, batch 32.</p>",
            f"<p>{esc(LEGEND)}</p>",
            report_html.table_html(f"<tr>{head}</tr>{''.join(body)}", table_id="demo-table"),
            "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in decided) + "</ul>",
            "<h2>What it shows</h2>",
            "".join(f"<p>{esc(line)}</p>" for line in lead),
            "<h2>Figures</h2>",
            "\n".join(imgs),
            "<h2>The seed network in detail</h2>",
        ]
    )
    page = report_html.render_html(
        runs[0].report, title="vgp-native demo: the vanishing gradient problem and its remedies"
    )
    cut = page.find("</h1>")
    cut = cut + len("</h1>") if cut >= 0 else page.find("<body>") + len("<body>")
    return page[:cut] + "\n" + section + page[cut:]


def run_demo(args: argparse.Namespace) -> int:
    """Run the ``demo`` subcommand; return the exit status."""
    t0 = time.perf_counter()
    out = output_dir(args.out)
    width = terminal_width()
    intro = (
        "vgp-native demo: the seed's network (make_moons 250 points, noise 0.05, 8 sigmoid "
        f"layers of 10 + sigmoid output, Adam, {args.epochs} epochs) and its remedies"
    )
    print(wrap(intro, width=terminal_width(sys.stderr)) + "\n", file=sys.stderr)

    def progress(i: int, n: int, run: Any) -> None:
        r = run.result
        # At most 78 columns: "[ 1/12] ", the label (23 characters at most), the measurements.
        line = (
            f"[{i:2d}/{n}] {run.label:<25}loss {fixed(r['final_loss'], 4):>6}  "
            f"test acc {r['val_accuracy']:.2f}  {r['verdict']:<10} {r['seconds']:.2f}s"
        )
        print(wrap(line, indent="    ", width=terminal_width(sys.stderr)), file=sys.stderr)
        sys.stderr.flush()

    runs = compare(
        {label: config for label, _, config in DEMO_CONFIGS},
        epochs=args.epochs,
        seed=args.seed,
        track_weights=True,
        progress=progress,
    )
    rows, table, shown = demo_table(runs, width)
    print()
    print(table)
    decided = decided_by(runs)
    if decided:
        print("\nThe statistic behind each verdict that is not healthy:")
    for line in decided:
        print(wrap(line, "- ", "  ", width))
    print()
    print(wrap(legend(shown), width=width))
    lead = _lead(runs, args.epochs)
    print("\nWhat it shows:")
    for line in lead:
        print(wrap(line, "- ", "  ", width))
    print("\nFindings for the seed network (gradient-flow report):")
    for finding in runs[0].report.findings:
        print(wrap(str(finding), "- ", "  ", width))
    figures = _figures(runs, out)
    columns = ["configuration", *CONFIG_KEYS, *RESULT_FIELDS]
    results = [{"configuration": run.label, **run.result} for run in runs]
    atomic_write_text(out / "results.csv", csv_text(results, columns))
    atomic_write_text(
        out / "results.json",
        json.dumps([encode_result(r) for r in results], indent=1, allow_nan=False) + "\n",
    )
    atomic_write_text(out / "report.html", _html(runs, rows, lead, figures, args.epochs, decided))
    done = (
        f"wrote {out / 'report.html'}, results.csv, results.json and {len(figures)} figures "
        f"in {out} ({time.perf_counter() - t0:.1f}s)"
    )
    print("\n" + wrap(done, indent="  ", width=width))
    return 0
