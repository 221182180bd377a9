"""Figures read at a glance: every label inside the canvas, nothing drawn over a number.

Each figure the package draws (a report's, the comparison, the demo's, the sweep's)
is rendered on Agg and measured: every text's window extent lies inside the figure,
a note is not covered by a colour bar, heatmap panels share one colour scale, the
overlaid lines differ, and the 6 xi markers stay clear of the cell numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Text

from _plotdata import X, Y, seed_model, train
from vgp_native import plots
from vgp_native.cli.demo import DEMO_CONFIGS, demo_figures
from vgp_native.experiments import compare
from vgp_native.experiments.config import check_config
from vgp_native.experiments.figures import sweep_heatmap, verdict_heatmap
from vgp_native.flow import analyze

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _texts(fig: plt.Figure) -> list[Text]:
    """The texts a reader sees: visible, non-empty, in a visible axes (or the figure)."""
    out = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        ax = text.axes
        if ax is not None and not ax.get_visible():
            continue
        out.append(text)
    return out


def assert_inside(fig: plt.Figure, name: str) -> None:
    """Every drawn artist, and each text on its own, lies inside the figure (1 px slack)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    tight = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)
    assert tight.x0 >= -1 and tight.y0 >= -1, f"{name}: drawn outside the canvas {tight}"
    assert tight.x1 <= box.x1 + 1 and tight.y1 <= box.y1 + 1, f"{name}: outside {tight}"
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for text in [*ax.texts, ax.xaxis.label, ax.yaxis.label, ax.title]:
            if not text.get_visible() or not text.get_text().strip():
                continue
            ext = text.get_window_extent(renderer)
            inside = ext.x0 >= -1 and ext.y0 >= -1 and ext.x1 <= box.x1 + 1
            assert inside and ext.y1 <= box.y1 + 1, (
                f"{name}: {text.get_text()!r} runs off the canvas ({ext} vs {box})"
            )


@pytest.fixture(scope="module")
def seed_run():
    return train(epochs=4)


def test_report_figures_keep_their_labels_inside(seed_run) -> None:
    for name, fig in seed_run.report.plot().items():
        assert_inside(fig, name)
    snapshot = analyze(seed_model(), X, Y)
    for name, fig in snapshot.plot().items():
        assert_inside(fig, f"analyze {name}")


def test_comparison_and_boundary_keep_their_labels_inside(seed_run) -> None:
    relu = train(epochs=2, activation="relu", init="he_normal")
    assert_inside(plots.compare([seed_run.report, relu.report], ["seed", "relu"]), "compare")
    assert_inside(plots.decision_boundary(seed_run.model, X, Y, resolution=20), "boundary")


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_no_boundary_note_stays_inside_its_panel_beside_a_colour_bar(seed_run) -> None:
    # The seed network after 4 epochs predicts about 0.5 everywhere: no boundary.
    fig, axes = plt.subplots(1, 4, figsize=(13.2, 3.2))
    plots.decision_boundary(seed_run.model, X, Y, ax=axes[0], resolution=20)
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = axes[0]
    notes = [t for t in ax.texts if t.get_text().startswith("no boundary")]
    assert len(notes) == 1
    note = notes[0].get_bbox_patch().get_window_extent(renderer)
    panel = ax.get_window_extent(renderer)
    assert panel.x0 <= note.x0 and note.x1 <= panel.x1, (note, panel)
    colour_bars = [a for a in fig.axes if a not in axes]
    assert colour_bars and not any(
        _overlaps(note, bar.get_window_extent(renderer)) for bar in colour_bars
    )


@pytest.fixture(scope="module")
def demo_runs():
    configs = {label: config for label, _, config in DEMO_CONFIGS}
    return compare(configs, epochs=2, seed=0, track_weights=True)


def test_demo_figures_read_at_a_glance(demo_runs) -> None:
    figures = demo_figures(demo_runs)
    assert set(figures) == {
        "gradient_norms",
        "gradient_norms_init",
        "gradient_norms_deep",
        "heatmaps",
        "loss_curves",
        "weights_vs_epochs",
        "decision_boundaries",
    }
    for name, fig in figures.items():
        assert_inside(fig, name)
    # The three overlays say which group each shows.
    titles = [figures[k].axes[0].get_title() for k in figures if k.startswith("gradient_norms")]
    assert len(set(titles)) == 3
    assert "remedies" in titles[0] and "initialization" in titles[1] and "30" in titles[2]
    # The weights figure names its network.
    assert demo_runs[0].label in figures["weights_vs_epochs"]._suptitle.get_text()
    # Every line of a loss panel has its own colour: the seed, "fewer layers" and
    # residual blocks included.
    for ax in figures["loss_curves"].axes:
        colours = [ln.get_color() for ln in ax.lines if ln.get_linestyle() != ":"]
        assert len(colours) == len(set(colours)), colours
    shallow = figures["loss_curves"].axes[0]
    by_label = {ln.get_label(): ln.get_color() for ln in shallow.lines}
    seed, fewer, residual = (DEMO_CONFIGS[i][0] for i in (0, 1, 7))
    assert len({by_label[seed], by_label[fewer], by_label[residual]}) == 3


def test_heatmaps_share_one_colour_scale(seed_run) -> None:
    relu = train(epochs=2, activation="relu", init="he_normal")
    fig = plots.heatmaps([seed_run.history, relu.history], labels=["seed", "relu + he"])
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    norms = {(im.norm.vmin, im.norm.vmax) for im in images}
    assert len(norms) == 1
    lo, hi = norms.pop()
    both = np.concatenate([h.field("grad_norm").ravel() for h in (seed_run.history, relu.history)])
    assert lo == pytest.approx(both[both > 0].min()) and hi == pytest.approx(both.max())
    bars = [ax for ax in fig.axes if not ax.images and ax.get_visible() and ax.get_ylabel()]
    assert len(bars) == 1 and "one scale for all panels" in bars[0].get_ylabel()
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["seed", "relu + he"]
    assert_inside(fig, "heatmaps")


def _sweep_results() -> list[dict]:
    results = []
    for depth in (2, 4, 8):
        for act in ("sigmoid", "tanh"):
            ratio = {"sigmoid": 0.24, "tanh": 0.9}[act] ** depth
            results.append(
                {
                    **check_config(depth=depth, activation=act, seed=0),
                    "epochs": 1,
                    "final_loss": 0.5,
                    "accuracy": 0.9,
                    "val_accuracy": 0.9 if act == "tanh" else 0.5,
                    "grad_ratio": ratio,
                    "signal_ratio": 1.0,
                    "weight_change": 0.1,
                    "verdict": "vanishing" if act == "sigmoid" and depth > 2 else "healthy",
                    "initial_verdict": "vanishing" if act == "sigmoid" and depth > 2 else "healthy",
                    "training_verdict": "healthy",
                    "seconds": 0.1,
                }
            )
    return results


@pytest.mark.parametrize("metric", ["grad_ratio", "val_accuracy"])
def test_sweep_heatmap_labels_whole_and_markers_clear_of_numbers(metric) -> None:
    fig = sweep_heatmap(_sweep_results(), metric)
    assert_inside(fig, f"sweep {metric}")
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    numbers = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(numbers) == 6
    markers = [ln.get_window_extent(renderer) for ln in ax.lines]
    assert markers, "no 6 xi marker drawn"
    for mark in markers:
        assert not any(_overlaps(mark, cell) for cell in numbers)
    bar = fig.axes[1]
    label = bar.yaxis.label.get_window_extent(renderer)
    assert label.y0 >= 0 and label.y1 <= fig.bbox.y1 and label.x1 <= fig.bbox.x1
    # Numbers come from the package formatter: a ratio of 0.0035 is never "0".
    texts = [t.get_text() for t in ax.texts]
    if metric == "grad_ratio":
        assert "0.0033" in texts and all(t != "0" for t in texts)
    else:
        assert "0.90" in texts and "0.50" in texts


def _plateau_loss() -> np.ndarray:
    """A seed-like loss: a fall to ln 2, a flat noisy stretch, then a slow drift away."""
    rng = np.random.default_rng(0)
    fall = math.log(2) + 0.03 * np.exp(-np.arange(8) / 2.0)
    flat = math.log(2) + rng.normal(0, 2e-4, 80)
    drift = math.log(2) - 3e-4 * np.arange(1, 13)
    return np.concatenate([fall, flat, drift])


def test_plateau_shading_covers_the_flat_stretch_not_the_drift() -> None:
    loss = _plateau_loss()
    (first, last), *rest = plots.find_plateaus(loss)
    assert not rest
    assert 6 <= first <= 12 and 86 <= last <= 90, (first, last)
    # The shading is that stretch (epochs count from 1 here: no loss at initialization).
    fig = plots.training_curves({"loss": loss})
    spans = [p for p in fig.axes[0].patches if p.get_label() == "loss plateau"]
    assert len(spans) == 1
    assert spans[0].get_x() == first + 1 and spans[0].get_width() == last - first


def test_report_plateau_shading_spans_the_whole_flat_stretch() -> None:
    # The seed network lingers at ln 2 from about epoch 8; the report's plateau finding
    # speaks of its last 10 epochs, the shading covers the whole flat stretch around them.
    report = train(epochs=30, track=False).report
    stated = [f for f in report.finding_details if f.kind == "plateau"]
    assert stated, report.findings
    first_stated = min(stated[0].epochs)
    fig = plots.training_curves(report)
    spans = [p for p in fig.axes[0].patches if p.get_label() == "loss plateau"]
    assert len(spans) == 1
    start, end = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
    assert start < first_stated - 5 and end >= first_stated


@pytest.mark.parametrize("rows", [2, 1])
def test_verdict_heatmap_keeps_its_labels_inside(rows) -> None:
    results = [r for r in _sweep_results() if rows == 2 or r["activation"] == "tanh"]
    fig = verdict_heatmap(results)
    assert_inside(fig, "verdict heatmap")
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend() or fig.legends[0]
    box = legend.get_window_extent(renderer)
    assert not _overlaps(box, ax.xaxis.label.get_window_extent(renderer))
    assert not any(_overlaps(box, t.get_window_extent(renderer)) for t in ax.get_xticklabels())
