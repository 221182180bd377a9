"""Shared helpers of the plotting functions: lazy matplotlib, palette, data access.

matplotlib is imported inside the functions that draw, never at module import,
so ``import vgp_native`` stays free of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Okabe & Ito (2008) colour-blind-safe palette; configuration ``i`` gets colour ``i``.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#882255",  # wine (Tol)
    "#999933",  # olive (Tol)
)
# Okabe-Ito's yellow (#F0E442) is left out: it is barely visible on white. Two of
# Paul Tol's colour-blind-safe colours follow, so that up to 9 overlaid lines all differ.
#: Markers paired with the palette, so overlays also read in grey scale.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "<", ">")
#: Sequential colour map for heatmaps (perceptually uniform, colour-blind safe).
SEQUENTIAL_CMAP = "viridis"


def color(index: int) -> str:
    """Colour of configuration ``index`` (cycles through ``PALETTE``)."""
    return PALETTE[index % len(PALETTE)]


def marker(index: int) -> str:
    """Marker of configuration ``index`` (cycles through ``MARKERS``)."""
    return MARKERS[index % len(MARKERS)]


def pyplot() -> Any:
    """``matplotlib.pyplot``, imported on first use."""
    import matplotlib.pyplot as plt

    return plt


def figure_and_axes(
    ax: Any = None, figsize: tuple[float, float] = (7.0, 4.5), **subplots: Any
) -> tuple[Any, Any]:
    """The figure of ``ax`` and ``ax`` itself, or a new figure with ``plt.subplots(**subplots)``."""
    if ax is not None:
        return ax.get_figure(), ax
    fig, axes = pyplot().subplots(figsize=figsize, **subplots)
    return fig, axes


def text_box(ax: Any, lines: Sequence[str], corner: str = "upper left") -> Any:
    """A small boxed note of ``lines`` in a corner of ``ax`` ("upper left" or "lower right").

    Keep its lines short enough for the panel: a line that runs past the axes runs
    under whatever stands beside them (a colour bar). Returns the Text artist.
    """
    upper = corner == "upper left"
    return ax.text(
        0.02 if upper else 0.98,
        0.97 if upper else 0.03,
        "\n".join(lines),
        transform=ax.transAxes,
        ha="left" if upper else "right",
        va="top" if upper else "bottom",
        fontsize=8,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85},
        zorder=5,
    )


def is_flow_history(obj: Any) -> bool:
    """Whether ``obj`` looks like a ``FlowHistory`` (rows, stats and a ``field`` accessor)."""
    return hasattr(obj, "rows") and hasattr(obj, "stats") and callable(getattr(obj, "field", None))


def history_of(obj: Any) -> Any:
    """The ``FlowHistory`` of a training run: ``obj`` itself or ``report.history``, else None.

    A report from ``flow.analyze`` has no history (None here), only ``data_of``.
    """
    if is_flow_history(obj):
        return obj
    hist = getattr(obj, "history", None)
    return hist if is_flow_history(hist) else None


def data_of(obj: Any) -> Any:
    """The statistics behind a history or report: the run's history, or for an
    ``analyze()`` report its one-record probe (``report.data``); None when neither."""
    hist = history_of(obj)
    if hist is not None:
        return hist
    data = getattr(obj, "data", None)
    return data if is_flow_history(data) else None


def require_data(obj: Any, what: str) -> Any:
    """``data_of(obj)``, or a TypeError/ValueError saying what ``what`` needs."""
    data = data_of(obj)
    if data is None:
        raise TypeError(
            f"{what} needs a FlowHistory (GradientFlow's .history) or a GradientFlowReport, "
            f"received {type(obj).__name__}"
        )
    if data.stats.shape[0] == 0:
        raise ValueError(f"{what}: the FlowHistory holds no records")
    return data


def record_index(hist: Any, record: int) -> int:
    """Validate ``record`` (negative counts from the end) against a history's records."""
    n = hist.stats.shape[0]
    if isinstance(record, bool) or not isinstance(record, (int, np.integer)):
        raise TypeError(f"record must be an int, received {record!r}")
    if not -n <= record < n:
        raise ValueError(f"record must be in [-{n}, {n}), received {record}")
    return int(record) % n


def record_x(hist: Any) -> np.ndarray:
    """Position of each record on an epoch axis.

    Record 0 (initialization) sits at 0 and the record after epoch ``k`` at
    ``k``; per-batch records spread over their epoch: batch ``b`` of ``n`` in
    epoch ``k`` sits at ``k - 1 + (b + 1) / n``.
    """
    epoch = np.asarray(hist.epoch, dtype=np.float64)
    batch = np.asarray(hist.batch)
    x = epoch.copy()
    for k in np.unique(epoch[batch >= 0]):
        mask = (epoch == k) & (batch >= 0)
        n = int(batch[mask].max()) + 1
        x[mask] = k - 1.0 + (batch[mask] + 1.0) / n
    return x


def record_label(hist: Any, index: int) -> str:
    """Human label of record ``index``: "initialization", "epoch 3", "epoch 3, batch 5"."""
    epoch = int(hist.epoch[index])
    batch = int(hist.batch[index])
    if epoch == 0:
        return "initialization"
    return f"epoch {epoch}" if batch < 0 else f"epoch {epoch}, batch {batch}"


def layer_values(obj: Any, field: str, record: int) -> tuple[list[str], np.ndarray]:
    """Layer names and one field per layer at ``record``, from a history or a report.

    A report is read from its history, or (``analyze()``) from its probe record.
    """
    data = require_data(obj, "a per-layer plot")
    idx = record_index(data, record)
    try:
        values = data.field(field)[idx]
    except KeyError as exc:
        raise ValueError(f"unknown field {field!r}: {exc.args[0]}") from None
    return [r.name for r in data.rows], np.asarray(values, dtype=np.float64)


def as_list(items: Any) -> list[Any]:
    """One object or a sequence of them, as a list (a history or report alone is one item)."""
    if isinstance(items, (list, tuple)):
        if not items:
            raise ValueError("expected at least one history or report, received an empty sequence")
        return list(items)
    return [items]


def check_labels(labels: Sequence[str] | None, n: int, default: str = "model") -> list[str]:
    """``labels`` as a list of ``n`` strings (``"model 1"``, ... when None)."""
    if labels is None:
        return [f"{default} {i + 1}" for i in range(n)] if n > 1 else [default]
    if isinstance(labels, str):
        labels = [labels]
    labels = [str(label) for label in labels]
    if len(labels) != n:
        raise ValueError(f"labels must have {n} entries (one per model), received {len(labels)}")
    return labels


def positive(values: np.ndarray) -> np.ndarray:
    """``values`` with non-positive and non-finite entries masked as NaN (for log axes)."""
    out = np.asarray(values, dtype=np.float64).copy()
    out[~np.isfinite(out) | (out <= 0)] = np.nan
    return out


def chi1_of(theory: Any) -> float | None:
    """χ₁ from a number, a ``flow.theory.mean_field`` dict or a report's ``theory`` dict.

    A dict is searched for ``"chi1"``, else for the per-layer factor √χ₁ under
    ``"gradient_factor"`` or ``"predicted_factor"`` (squared), at the top level or
    one level down (e.g. ``{"mean_field": {"chi1": ...}}``). None when there is none.
    """
    if theory is None:
        return None
    if isinstance(theory, (int, float, np.floating, np.integer)) and not isinstance(theory, bool):
        return float(theory)
    if isinstance(theory, dict):
        for scope in [theory, *(v for v in theory.values() if isinstance(v, dict))]:
            if scope.get("chi1") is not None:
                return float(scope["chi1"])
            for key in ("gradient_factor", "predicted_factor"):
                if scope.get(key) is not None:
                    return float(scope[key]) ** 2
        return None
    raise TypeError(f"theory must be a number (chi1) or a dict, received {type(theory).__name__}")


def hidden_depth(n_rows: int) -> int:
    """Rows the mean-field prediction covers: all but the output layer when there are 3 or more.

    Mean-field theory describes a stack of equally wide hidden layers; the output
    layer (one unit for the seed) follows other rules, so the prediction is
    anchored at the last hidden layer.
    """
    return n_rows - 1 if n_rows >= 3 else n_rows


def predicted_line(chi1: float, measured: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Layer numbers (1-based) and the mean-field gradient norms anchored at ``measured``.

    Layer ``l`` of ``H = hidden_depth(len(measured))`` gets
    ``measured[H - 1] * chi1 ** ((H - 1 - l) / 2)``: each layer back multiplies
    the gradient norm by √χ₁ (Schoenholz et al. 2017), as ``flow.theory.predicted_decay``.
    """
    depth = hidden_depth(len(measured))
    decay = np.power(float(chi1), (depth - 1 - np.arange(depth)) / 2.0)
    return np.arange(1, depth + 1), decay * float(measured[depth - 1])
