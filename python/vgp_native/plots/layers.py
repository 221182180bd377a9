"""Per-layer pictures: gradient norms by depth, weights per epoch, activation histograms."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import activations
from .._format import num, percent
from . import _common as c

#: Axis labels of the per-layer fields (the quantities and their units).
FIELD_LABELS: dict[str, str] = {
    "grad_norm": "kernel gradient norm ‖∂L/∂W‖₂",
    "grad_mean_abs": "mean |∂L/∂W|",
    "grad_max_abs": "max |∂L/∂W|",
    "weight_norm": "kernel norm ‖W‖₂",
    "update_norm": "step norm ‖ΔW‖₂",
    "update_ratio": "update ratio ‖ΔW‖ / ‖W‖",
    "signal_norm": "backpropagated signal ‖∂L/∂h‖₂",
    "act_mean": "activation mean",
    "act_std": "activation std",
    "saturated": "saturated fraction of units",
    "dead": "dead fraction of units",
    "bias_grad_norm": "bias gradient norm ‖∂L/∂b‖₂",
}
#: Saturation margins drawn on activation histograms (as the native statistics count them).
_SATURATION_BOUNDS = {
    name: f.saturation_bounds
    for name, f in activations.REGISTRY.items()
    if f.saturation_bounds is not None
}
_SATURATION_MARGIN = activations.SATURATION_MARGIN


def field_label(field: str) -> str:
    """Axis label of a recorded field (the field name itself when unknown)."""
    return FIELD_LABELS.get(field, field)


def _records(items: list[Any], record: int | Sequence[int]) -> list[int]:
    if isinstance(record, Sequence) and not isinstance(record, str):
        if len(record) != len(items):
            raise ValueError(
                f"record must be an int or hold one int per model ({len(items)}), "
                f"received {len(record)} entries"
            )
        return list(record)
    return [record] * len(items)


def _mark_nonfinite(ax: Any, x: np.ndarray, values: np.ndarray, colour: str) -> None:
    """Draw a cross at the top of the axes above every layer whose value is NaN or Inf."""
    bad = ~np.isfinite(values)
    if bad.any():
        ax.plot(
            x[bad],
            np.full(int(bad.sum()), 0.97),
            linestyle="none",
            marker="x",
            markersize=9,
            color=colour,
            transform=ax.get_xaxis_transform(),
        )


def gradient_norms(
    histories_or_reports: Any,
    labels: Sequence[str] | None = None,
    record: int | Sequence[int] = 0,
    field: str = "grad_norm",
    theory: Any = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Gradient norm per layer on a log scale, several models overlaid: the central picture.

    A straight falling line on the log axis is geometric decay, the vanishing
    gradient: each sigmoid layer multiplies the gradient by at most 0.25 times
    its weights. ReLU with He initialization, batch normalization and residual
    blocks keep the line flat. The legend gives each model's first/last ratio.

    Args:
        histories_or_reports: a ``FlowHistory`` or ``GradientFlowReport``, or a list
            of them (one line each; a report from ``analyze()`` has one record,
            its probe at the current weights).
        labels: one legend label per model.
        record: which record of each history (0 = at initialization, -1 = last),
            one int for all or one per model.
        field: the per-layer quantity, e.g. ``"grad_norm"`` or ``"signal_norm"``.
        theory: optional mean-field prediction (χ₁ as a number, a
            ``flow.theory.mean_field`` dict or a report's ``theory``): a dashed
            line falling by √χ₁ per layer, anchored at the first model's last
            hidden layer. It predicts the backpropagated signal
            (``field="signal_norm"``); kernel gradients follow it only while the
            activations keep their scale (sigmoid, tanh), not in a relu network
            whose activations grow or shrink as fast as the signal.
        ax: axes to draw on (a new figure when None).
        title: what the overlay shows (e.g. "the seed's remedies"), put before the
            quantity and the record in the title.

    Returns:
        The matplotlib Figure.
    """
    items = c.as_list(histories_or_reports)
    labels = c.check_labels(labels, len(items))
    records = _records(items, record)
    chi1 = c.chi1_of(theory)
    # Read everything first, so that bad input raises before a figure exists.
    per_model = [c.layer_values(item, field, rec) for item, rec in zip(items, records, strict=True)]
    names_seen = [names for names, _ in per_model]
    fig, ax = c.figure_and_axes(ax)
    ax.set_yscale("log")
    for i, ((_, values), label) in enumerate(zip(per_model, labels, strict=True)):
        x = np.arange(1, len(values) + 1)
        # As the report defines them: kernel gradients first/last layer, the signal
        # first/last hidden layer (the output layer's signal is the loss gradient).
        last = c.hidden_depth(len(values)) - 1 if field == "signal_norm" else len(values) - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = float(np.float64(values[0]) / np.float64(values[last]))
        ax.plot(
            x,
            c.positive(values),
            color=c.color(i),
            marker=c.marker(i),
            linewidth=1.8,
            markersize=5,
            label=f"{label} (first/last{' hidden' * (field == 'signal_norm')} {num(ratio, 2)})",
        )
        _mark_nonfinite(ax, x, values, c.color(i))
    if chi1 is not None:
        ax.plot(
            *c.predicted_line(chi1, c.positive(per_model[0][1])),
            linestyle="--",
            color="#555555",
            linewidth=1.4,
            label=f"mean field: ×{num(math.sqrt(chi1), 2)} per layer (√χ₁)",
        )
    if not np.isfinite(np.concatenate([c.positive(line.get_ydata()) for line in ax.lines])).any():
        ax.set_ylim(1e-12, 1.0)
    depth = max(len(n) for n in names_seen)
    ax.set_xlim(0.5, depth + 0.5)
    if all(n == names_seen[0] for n in names_seen) and depth <= 16:
        ax.set_xticks(np.arange(1, depth + 1), names_seen[0], rotation=45, ha="right")
    else:
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel(f"{field_label(field)} (log scale)")
    when = {0: "at initialization", -1: "at the last record"}.get(records[0], "")
    same = all(r == records[0] for r in records)
    quantity = field_label(field) + " per layer" + (f", {when}" if same and when else "")
    ax.set_title(quantity if title is None else f"{title}\n{quantity}", fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def _grid(n: int, fig: Any, width: float, height: float) -> tuple[Any, list[Any]]:
    """A figure (new, or ``fig`` cleared) with ``n`` panels in rows of at most 3."""
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    if fig is None:
        fig = c.pyplot().figure(figsize=(width * ncols, height * nrows))
    else:
        fig.clear()
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for extra in axes[n:]:
        extra.set_visible(False)
    return fig, list(axes[:n])


def weights_vs_epochs(history: Any, fig: Any = None, label: str | None = None) -> Any:
    """The seed's "weights vs epochs" plot: sampled kernel entries of every layer per epoch.

    A flat line is a weight that does not learn. Under SGD the first layers of the
    seed's sigmoid network are frozen (mean |ΔW| about 1e-7); under Adam they move,
    because Adam rescales even a 1e-6 gradient to a full-size step, while the loss
    still lingers near ln 2. Each panel's y range covers the spread of the layer's
    weights, so a change too small to matter also looks flat; the title gives the
    mean |ΔW| between the first and the last record.

    Args:
        history: a ``FlowHistory`` (or a report with one) recorded with
            ``GradientFlow(track_weights=True)``.
        fig: figure to draw into (cleared first); a new one when None.
        label: the network shown, named in the title (default: its depth and
            activation, e.g. "9 Dense layers, sigmoid").

    Returns:
        The matplotlib Figure.
    """
    hist = c.require_data(history, "weights_vs_epochs")
    if hist.weights is None:
        raise ValueError(
            "weights_vs_epochs needs sampled weights: record with GradientFlow(track_weights=True)"
        )
    weights = np.asarray(hist.weights, dtype=np.float64)
    xs = c.record_x(hist)
    fig, axes = _grid(len(hist.rows), fig, 3.6, 2.6)
    for i, (ax, row) in enumerate(zip(axes, hist.rows, strict=True)):
        w = weights[:, i, :]
        w = w[:, np.isfinite(w[0])]
        for j in range(w.shape[1]):
            ax.plot(xs, w[:, j], color=c.color(j), linewidth=1.0, alpha=0.85)
        values = w[np.isfinite(w)]
        if values.size:
            lo, hi = float(values.min()), float(values.max())
            span = max(hi - lo, 0.5 * float(np.abs(values).max()), 1e-3)
            mid = 0.5 * (lo + hi)
            ax.set_ylim(mid - 0.6 * span, mid + 0.6 * span)
        ax.ticklabel_format(axis="y", useOffset=False)
        moved = np.abs(w[-1] - w[0])
        note = (
            "weights became NaN/Inf"
            if not np.isfinite(moved).all()
            else f"mean |ΔW| {num(float(moved.mean()) if moved.size else math.nan, 2)}"
        )
        ax.set_title(f"{row.name} ({row.activation}): {note}", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, alpha=0.3)
    for ax in axes[-min(3, len(axes)) :]:
        ax.set_xlabel("epoch (0 = initialization)", fontsize=8)
    for ax in axes[:: min(3, len(axes))]:
        ax.set_ylabel("weight value", fontsize=8)
    opt = hist.optimizer or {}
    rate = opt.get("learning_rate")
    optimizer = str(opt.get("class_name", "optimizer")) + (f", lr {rate:g}" if rate else "")
    if label is None:
        kinds = sorted({row.activation for row in hist.rows[:-1]}) or [hist.rows[-1].activation]
        label = f"{len(hist.rows)} Dense layers, {'/'.join(kinds)}"
    fig.suptitle(f"Sampled kernel weights vs epoch: {label} ({optimizer})")
    fig.tight_layout()
    return fig


def activation_histograms(history: Any, record: int = -1, fig: Any = None) -> Any:
    """Histogram of each layer's activations at one record, with the initial one outlined.

    Mass piled in the end bins of a sigmoid (0 and 1) or tanh (±1) layer is
    saturation: there the derivative is nearly zero and the gradient dies. The
    shaded strips are the saturation zones the statistics count (within 1e-2 of a
    bound); a relu layer's mass at 0 is its silent units. The end bins also hold
    values beyond the histogram range.

    Args:
        history: a ``FlowHistory`` or a report (one from ``analyze()`` has a
            single record).
        record: the record drawn as bars (-1 = last, 0 = initialization); the
            initialization is outlined for comparison when another record is drawn.
        fig: figure to draw into (cleared first); a new one when None.

    Returns:
        The matplotlib Figure.
    """
    hist = c.require_data(history, "activation_histograms")
    idx = c.record_index(hist, record)
    counts = np.asarray(hist.hist, dtype=np.float64)
    saturated = hist.field("saturated")[idx]
    dead = hist.field("dead")[idx]
    fig, axes = _grid(len(hist.rows), fig, 3.4, 2.4)
    for i, (ax, row) in enumerate(zip(axes, hist.rows, strict=True)):
        lo, hi = row.hist_range
        edges = np.linspace(lo, hi, counts.shape[2] + 1)
        total = counts[idx, i].sum()
        frac = counts[idx, i] / total if total > 0 else np.zeros(counts.shape[2])
        ax.bar(edges[:-1], frac, width=np.diff(edges), align="edge", color=c.color(0), alpha=0.8)
        if idx != 0 and counts[0, i].sum() > 0:
            ax.stairs(counts[0, i] / counts[0, i].sum(), edges, color=c.color(1), linewidth=1.2)
        if row.activation in _SATURATION_BOUNDS:
            b_lo, b_hi = _SATURATION_BOUNDS[row.activation]
            for a, b in ((b_lo, b_lo + _SATURATION_MARGIN), (b_hi - _SATURATION_MARGIN, b_hi)):
                ax.axvspan(a, b, color="#999999", alpha=0.35, linewidth=0)
        note = f"sat {percent(saturated[i])}" if row.activation in _SATURATION_BOUNDS else ""
        if dead[i] > 0 or row.activation in activations.RELU_FAMILY:
            note = f"dead {percent(dead[i])}"
        ax.set_title(f"{row.name} ({row.activation}) {note}".strip(), fontsize=9)
        ax.set_xlim(lo, hi)
        ax.tick_params(labelsize=8)
    for ax in axes[-min(3, len(axes)) :]:
        ax.set_xlabel("activation value", fontsize=8)
    for ax in axes[:: min(3, len(axes))]:
        ax.set_ylabel("fraction of values", fontsize=8)
    what = c.record_label(hist, idx)
    outline = "; outline: initialization" if idx != 0 else ""
    fig.suptitle(f"Activation histograms per layer ({what}{outline})")
    fig.tight_layout()
    return fig
