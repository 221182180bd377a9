"""Layers x epochs heatmaps: one run, or several runs on one shared colour scale."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _common as c
from .layers import field_label


def _field(hist: Any, field: str) -> np.ndarray:
    try:
        return np.asarray(hist.field(field), dtype=np.float64).T
    except KeyError as exc:
        raise ValueError(f"unknown field {field!r}: {exc.args[0]}") from None


def _shown(data: np.ndarray, log: bool) -> np.ndarray:
    """What is coloured: positive finite values on a log scale, finite ones otherwise."""
    return c.positive(data) if log else np.where(np.isfinite(data), data, np.nan)


def _norm(values: Sequence[np.ndarray], log: bool, vmin: Any, vmax: Any) -> Any:
    """One colour scale over every array in ``values`` (``vmin``/``vmax`` override its ends)."""
    from matplotlib.colors import LogNorm, Normalize

    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (1e-12, 1.0)
    lo = lo if vmin is None else float(vmin)
    hi = hi if vmax is None else float(vmax)
    if log and not lo > 0:
        raise ValueError(f"vmin must be > 0 on a log scale, received {vmin!r}")
    if hi <= lo:
        lo, hi = (lo / 2, hi * 2) if log else (lo - 0.5, hi + 0.5)
    return LogNorm(vmin=lo, vmax=hi) if log else Normalize(vmin=lo, vmax=hi)


def _draw(ax: Any, hist: Any, shown: np.ndarray, norm: Any) -> Any:
    """The image of one run on ``ax`` with its layer and epoch ticks; returns the image."""
    cmap = c.pyplot().get_cmap(c.SEQUENTIAL_CMAP).with_extremes(bad="#d9d9d9")
    image = ax.imshow(
        np.ma.masked_invalid(shown),
        aspect="auto",
        interpolation="nearest",
        origin="upper",
        cmap=cmap,
        norm=norm,
    )
    names = [r.name for r in hist.rows]
    n_rows = len(names)
    step = max(1, math.ceil(n_rows / 24))
    ax.set_yticks(np.arange(0, n_rows, step), names[::step], fontsize=8)
    # Ticks at the records that end an epoch (all of them with every="epoch"), at most ~10.
    xs = c.record_x(hist)
    ends = np.flatnonzero(np.isclose(xs, np.round(xs)))
    ends = ends[:: max(1, math.ceil(ends.size / 10))]
    ax.set_xticks(ends, [f"{xs[i]:g}" for i in ends])
    ax.set_xlabel("epoch (0 = initialization)")
    ax.set_ylabel("layer (input at top)")
    return image


def heatmap(
    history: Any,
    field: str = "grad_norm",
    log: bool = True,
    ax: Any = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Any:
    """Layers x epochs heatmap of one recorded field.

    Rows are layers (input at the top), columns are records (initialization,
    then each epoch or batch). A vanishing gradient shows as a dark band in the
    first layers that stays dark across epochs; grey cells are zero or non-finite.

    Args:
        history: a ``FlowHistory`` or a report (one from ``analyze()`` has a
            single record).
        field: the recorded field (see ``FlowHistory.field``).
        log: colour on a log scale (non-positive values shown grey).
        ax: axes to draw on (a new figure when None).
        vmin, vmax: ends of the colour scale (default: the data's range); give
            the same ones to several heatmaps to compare their colours, or use
            ``heatmaps``.

    Returns:
        The matplotlib Figure.
    """
    hist = c.require_data(history, "heatmap")
    shown = _shown(_field(hist, field), log)
    norm = _norm([shown], log, vmin, vmax)
    n_rec = shown.shape[1]
    fig, ax = c.figure_and_axes(ax, figsize=(max(6.0, min(12.0, 4.0 + 0.12 * n_rec)), 4.5))
    image = _draw(ax, hist, shown, norm)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(field_label(field) + (" (log scale)" if log else ""))
    ax.set_title(f"{field_label(field)}: layers × epochs")
    fig.tight_layout()
    return fig


def heatmaps(
    histories_or_reports: Sequence[Any],
    labels: Sequence[str] | None = None,
    field: str = "grad_norm",
    log: bool = True,
    fig: Any = None,
) -> Any:
    """Several runs' layers x epochs heatmaps side by side, on one shared colour scale.

    One colour means one value in every panel, so a remedy's band can be read
    against the seed's: the scale spans all the runs, and the one colour bar
    says it is shared. Panels come in rows of at most 2, each titled with its label.

    Args:
        histories_or_reports: ``FlowHistory`` objects or reports, one per panel.
        labels: one title per panel (default "model 1", ...).
        field: the recorded field (see ``FlowHistory.field``).
        log: colour on a log scale (non-positive values shown grey).
        fig: figure to draw into (cleared first); a new one when None.

    Returns:
        The matplotlib Figure.
    """
    items = c.as_list(histories_or_reports)
    labels = c.check_labels(labels, len(items))
    hists = [c.require_data(item, "heatmaps") for item in items]
    shown = [_shown(_field(hist, field), log) for hist in hists]
    norm = _norm(shown, log, None, None)
    ncols = min(2, len(items))
    nrows = math.ceil(len(items) / ncols)
    if fig is None:
        fig = c.pyplot().figure(figsize=(6.2 * ncols + 1.2, 3.6 * nrows + 0.4))
    else:
        fig.clear()
    # One colour bar for several axes: the constrained layout keeps every label inside.
    fig.set_layout_engine("constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for extra in axes[len(items) :]:
        extra.set_visible(False)
    image = None
    for ax, hist, data, label in zip(axes, hists, shown, labels, strict=False):
        image = _draw(ax, hist, data, norm)
        ax.set_title(label, fontsize=10)
    scale = "log scale, " if log else ""
    bar = fig.colorbar(image, ax=list(axes[: len(items)]), fraction=0.03, pad=0.02)
    bar.set_label(f"{field_label(field)}\n({scale}one scale for all panels)")
    fig.suptitle(f"{field_label(field)}: layers × epochs")
    return fig
