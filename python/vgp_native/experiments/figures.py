"""Sweep heatmaps: a measured quantity over depth x configuration, with 6 xi overlaid.

The seed document's "trade-off between model complexity and the vanishing
gradient problem", measured: each row is a configuration (activation,
initialization, normalization, residual, ... : every swept key but depth and
seed), each column a depth, each cell the seeds' mean test accuracy or the
geometric mean of the first/last gradient ratio at initialization. Where the
mean-field theory applies (plain stacks) a marker in the row shows its
trainable depth ``6 xi``: beyond it, it predicts, the gradient has fallen by
``e^-6`` (about 400 times) along the network and training stalls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._format import fixed, num
from .summary import summarize, varying_keys

__all__ = ["METRICS", "heatmap_grid", "sweep_heatmap", "verdict_grid", "verdict_heatmap"]

#: Quantities a sweep heatmap can show: (title, colour-bar label, log scale).
METRICS: dict[str, tuple[str, str, bool]] = {
    "val_accuracy": ("Test accuracy", "test accuracy\n(mean over seeds)", False),
    "accuracy": ("Training accuracy", "training accuracy\n(mean over seeds)", False),
    "grad_ratio": (
        "First/last layer gradient ratio at initialization",
        "log₁₀ of first/last gradient norm\n(geometric mean over seeds)",
        True,
    ),
    "final_loss": ("Final training loss", "final loss\n(mean over seeds)", False),
}
#: Where the cell numbers and the 6 xi markers sit inside a cell (rows are 1 unit high):
#: numbers a little above the centre, markers in the band below them, so neither hides
#: the other.
_TEXT_Y = -0.1
_MARK_Y = (0.2, 0.47)


def _row_label(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    if not keys:
        return f"{row['activation']}, {row['init']}"
    parts = []
    for key in keys:
        value = row[key]
        if key == "norm":
            parts.append("batchnorm" if value == "batchnorm" else "no norm")
        elif key == "residual":
            parts.append("residual" if value == "identity" else "plain")
        elif key in ("width", "batch_size", "dropout", "learning_rate"):
            parts.append(f"{key} {value}")
        else:
            parts.append(str(value))
    return ", ".join(parts)


def heatmap_grid(
    results: Sequence[Mapping[str, Any]], metric: str = "val_accuracy"
) -> tuple[list[str], list[int], np.ndarray, list[float | None]]:
    """The numbers behind ``sweep_heatmap``.

    Returns:
        ``(row_labels, depths, values, trainable_depths)``: ``values`` has shape
        ``(rows, depths)`` with NaN where a configuration was not run at a depth;
        ``trainable_depths`` gives each row's ``6 xi`` (None where the theory does
        not apply).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, received {metric!r}")
    if not results:
        raise ValueError("results is empty: nothing to draw")
    summary = summarize(results)
    keys = [k for k in varying_keys(results) if k != "depth"]
    depths = sorted({int(r["depth"]) for r in summary})
    labels: list[str] = []
    theory: list[float | None] = []
    cells: dict[tuple[str, int], float] = {}
    for row in summary:
        label = _row_label(row, keys)
        if label not in labels:
            labels.append(label)
            theory.append(row["trainable_depth"])
        cells[(label, int(row["depth"]))] = row[metric]
    values = np.full((len(labels), len(depths)), np.nan)
    for (label, depth), value in cells.items():
        values[labels.index(label), depths.index(depth)] = value
    return labels, depths, values, theory


def _theory_x(xi6: float, depths: list[int]) -> tuple[float, str]:
    """Column position of a depth among the swept ones (log-interpolated), and a marker.

    Beyond the swept depths: the edge, with an arrow pointing outwards.
    """
    if xi6 > depths[-1]:
        return len(depths) - 0.5, ">"
    if xi6 < depths[0]:
        return -0.5, "<"
    if len(depths) == 1:
        return 0.0, "|"
    logs = np.log(np.asarray(depths, dtype=np.float64))
    return float(np.interp(math.log(xi6), logs, np.arange(len(depths)))), "|"


def sweep_heatmap(
    results: Sequence[Mapping[str, Any]], metric: str = "val_accuracy", ax: Any = None
) -> Any:
    """Draw ``metric`` over depth (columns) x configuration (rows); return the Figure.

    Cells show the value (two significant digits, or two decimals for
    accuracies and losses); a red bar in the lower part of a row marks the
    mean-field trainable depth ``6 xi`` of plain configurations (an arrow at the
    edge when it lies beyond the swept depths), clear of the cell's number.
    """
    import matplotlib.pyplot as plt

    labels, depths, values, theory = heatmap_grid(results, metric)
    title, cbar_label, log = METRICS[metric]
    own = ax is None
    if own:
        fig = plt.figure(
            figsize=(
                3.4 + 1.0 * len(depths) + 0.07 * max(map(len, labels)),
                max(3.4, 1.6 + 0.42 * len(labels)),
            )
        )
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    with np.errstate(divide="ignore", invalid="ignore"):
        shown = np.log10(values) if log else values
    shown = np.where(np.isfinite(shown), shown, np.nan)
    finite = shown[np.isfinite(shown)]
    if log:
        vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
        cmap = "viridis"
    else:
        vmin, vmax, cmap = (0.0, 1.0, "viridis") if "accuracy" in metric else (None, None, "magma")
    image = ax.imshow(np.ma.masked_invalid(shown), aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    fig.colorbar(image, ax=ax, label=cbar_label, fraction=0.05, pad=0.02)
    for (i, j), value in np.ndenumerate(values):
        text = num(value, 2) if log else fixed(value, 2)
        level = shown[i, j]
        dark = (
            math.isfinite(level)
            and vmin is not None
            and vmax is not None
            and (level < vmin + 0.55 * (vmax - vmin))
        )
        ax.text(
            j,
            i + _TEXT_Y,
            "-" if math.isnan(value) else text,
            ha="center",
            va="center",
            fontsize=8,
            color="white" if dark else "black",
        )
    drawn = False
    for i, xi6 in enumerate(theory):
        if xi6 is None or math.isnan(xi6):
            continue
        x, mark = _theory_x(xi6, depths)
        label = None if drawn else "mean-field trainable depth 6ξ"
        low, high = i + _MARK_Y[0], i + _MARK_Y[1]
        if mark == "|":
            ax.plot([x, x], [low, high], color="#D55E00", linewidth=3, label=label)
        else:
            ax.plot(
                x,
                0.5 * (low + high),
                marker=mark,
                color="#D55E00",
                markersize=7,
                linestyle="none",
                label=label,
            )
        drawn = True
    ax.set_xticks(range(len(depths)), [str(d) for d in depths])
    ticks = [
        label if xi6 is None or math.isnan(xi6) else f"{label} (6ξ={num(xi6, 3)})"
        for label, xi6 in zip(labels, theory, strict=True)
    ]
    ax.set_yticks(range(len(labels)), ticks)
    ax.set_xlabel("depth (hidden Dense layers)")
    ax.set_title(title)
    ax.set_xlim(-0.5, len(depths) - 0.5)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    if drawn:
        _legend_below(fig, ax, own)
    else:
        fig.tight_layout()
    return fig


def _legend_below(fig: Any, ax: Any, own: bool, **legend: Any) -> None:
    """The legend in a strip of its own under the axes (never over the axis label) when
    the figure is ours; in the axes' corner when drawing into a caller's axes."""
    if not own:
        ax.legend(loc="lower left", fontsize=8, **legend)
        fig.tight_layout()
        return
    fig.legend(loc="lower center", fontsize=8, frameon=False, **legend)
    fig.tight_layout(rect=(0.0, 0.35 / fig.get_figheight(), 1.0, 1.0))


#: Short names of the verdicts in heatmap cells.
SHORT = {
    "healthy": "ok",
    "saturated": "sat",
    "dead": "dead",
    "vanishing": "van",
    "exploding": "exp",
    "non-finite": "nan",
}
#: Cell colours by the headline verdict (Okabe-Ito; healthy a light grey).
VERDICT_COLOURS = {
    "healthy": "#E6E6E6",
    "saturated": "#F0E442",
    "dead": "#999999",
    "vanishing": "#56B4E9",
    "exploding": "#E69F00",
    "non-finite": "#D55E00",
}


def verdict_grid(
    results: Sequence[Mapping[str, Any]],
) -> tuple[list[str], list[int], list[list[dict[str, Any] | None]]]:
    """``(row_labels, depths, cells)``: each cell the pooled summary row of a
    configuration at a depth (its ``verdict``, ``initial_verdict``,
    ``training_verdict`` and their counts over seeds), None where not run."""
    if not results:
        raise ValueError("results is empty: nothing to draw")
    summary = summarize(results)
    keys = [k for k in varying_keys(results) if k != "depth"]
    depths = sorted({int(r["depth"]) for r in summary})
    labels: list[str] = []
    for row in summary:
        if (label := _row_label(row, keys)) not in labels:
            labels.append(label)
    cells: list[list[dict[str, Any] | None]] = [[None] * len(depths) for _ in labels]
    for row in summary:
        cells[labels.index(_row_label(row, keys))][depths.index(int(row["depth"]))] = row
    return labels, depths, cells


def verdict_heatmap(results: Sequence[Mapping[str, Any]], ax: Any = None) -> Any:
    """The two-part verdict over depth (columns) x configuration (rows); return the Figure.

    Each cell is coloured by the headline verdict (the more severe part; the
    most severe over seeds) and reads "initial / training" in short words
    (ok, sat, dead, van, exp, nan).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    labels, depths, cells = verdict_grid(results)
    own = ax is None
    if own:
        width = 3.0 + 1.1 * len(depths) + 0.07 * max(map(len, labels))
        fig = plt.figure(figsize=(width, max(2.8, 1.8 + 0.42 * len(labels))))
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    order = list(VERDICT_COLOURS)
    codes = np.full((len(labels), len(depths)), np.nan)
    for (i, j), cell in np.ndenumerate(np.array(cells, dtype=object)):
        if cell is not None:
            codes[i, j] = order.index(cell["verdict"])
    cmap = ListedColormap([VERDICT_COLOURS[v] for v in order])
    ax.imshow(
        np.ma.masked_invalid(codes), aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(order) - 0.5
    )
    for (i, j), cell in np.ndenumerate(np.array(cells, dtype=object)):
        text = "-"
        if cell is not None:
            text = f"{SHORT[cell['initial_verdict']]} / {SHORT[cell['training_verdict']]}"
        ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(depths)), [str(d) for d in depths])
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("depth (hidden Dense layers)")
    ax.set_title("Verdict at initialization / in training (colour: the more severe)")
    handles = [Patch(color=VERDICT_COLOURS[v], label=v) for v in order]
    _legend_below(fig, ax, own, handles=handles, ncol=len(order) if own else 2)
    return fig
