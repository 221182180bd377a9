"""Training pictures: loss/accuracy curves with plateaus marked and the chance level."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._format import num
from . import _common as c

#: Default plateau rule: the loss's trend moves it by less than this fraction of its level ...
PLATEAU_RTOL = 1e-3
#: ... across this many consecutive epochs.
PLATEAU_WINDOW = 5
#: A flat window's values also stay within this many ``rtol`` of each other (noise allowed).
_PLATEAU_SPREAD = 5.0
_CROSS_ENTROPIES = (
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)


@dataclass
class Curves:
    """Per-epoch training logs gathered from any of the accepted inputs.

    Attributes:
        epochs: epoch numbers (1 = after the first epoch).
        logs: log name -> values per epoch ("loss", "accuracy", "val_loss", ...).
        loss_name: the model's loss, "" when unknown.
        n_outputs: width of the output layer, 0 when unknown.
        initial_loss: loss at initialization (epoch 0), or None.
        plateaus: plateau spans given by a report, or None to compute them.
        chance: the chance-level loss a report states, or None to derive it.
    """

    epochs: np.ndarray
    logs: dict[str, np.ndarray]
    loss_name: str
    n_outputs: int
    initial_loss: float | None
    plateaus: list[tuple[int, int]] | None
    chance: float | None = None


def find_plateaus(
    loss: Sequence[float], rtol: float = PLATEAU_RTOL, window: int = PLATEAU_WINDOW
) -> list[tuple[int, int]]:
    """Spans of epochs over which the loss stays flat (the seed's first recognition method).

    Rule: ``window`` consecutive finite values form a flat window when their
    least-squares trend moves the loss by at most ``rtol`` of its level
    (mean |loss|) across the window, and no two of them differ by more than
    ``5 * rtol`` of it (noise around a level is allowed, a drift is not).
    Overlapping or touching flat windows merge into one span; each span is
    then trimmed at both ends to the first and last value within ``rtol`` of
    the span's median, so the shading stops where the loss starts to move.
    A relative threshold keeps a converged loss of 0.01 that still halves
    every few epochs from counting as a plateau, while the seed's sigmoid
    network lingering at ln 2 = 0.693 does.

    Args:
        loss: loss per epoch.
        rtol: largest relative drift counted as flat (default 0.1%).
        window: epochs the drift is measured over (at least 2).

    Returns:
        ``(first, last)`` index pairs into ``loss`` (inclusive), in order.
    """
    values = np.asarray(loss, dtype=np.float64).ravel()
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 2:
        raise ValueError(f"window must be an int >= 2, received {window!r}")
    if not rtol >= 0:
        raise ValueError(f"rtol must be >= 0, received {rtol!r}")
    x = np.arange(window) - (window - 1) / 2.0
    spans: list[tuple[int, int]] = []
    for i in range(values.size - window + 1):
        chunk = values[i : i + window]
        if not np.isfinite(chunk).all():
            continue
        level = np.abs(chunk).mean()
        drift = abs(float(x @ (chunk - chunk.mean())) / float(x @ x)) * (window - 1)
        if drift > rtol * level or np.ptp(chunk) > _PLATEAU_SPREAD * rtol * level:
            continue
        if spans and i <= spans[-1][1]:
            spans[-1] = (spans[-1][0], i + window - 1)
        else:
            spans.append((i, i + window - 1))
    return [span for span in (_trim(values, a, b, rtol) for a, b in spans) if span is not None]


def _trim(values: np.ndarray, first: int, last: int, rtol: float) -> tuple[int, int] | None:
    """``(first, last)`` narrowed to the values within ``rtol`` of the span's median level."""
    level = float(np.median(values[first : last + 1]))
    near = np.flatnonzero(np.abs(values[first : last + 1] - level) <= rtol * abs(level))
    return (first + int(near[0]), first + int(near[-1])) if near.size else None


def _spans_from(plateau: Any) -> list[tuple[int, int]] | None:
    """Plateau spans as ``(first_epoch, last_epoch)`` pairs from a tuple, dict or list of them."""
    if plateau is None:
        return None
    if isinstance(plateau, dict):
        return [(int(plateau["start"]), int(plateau["end"]))]
    if (
        isinstance(plateau, (tuple, list))
        and len(plateau) == 2
        and all(isinstance(v, (int, np.integer)) for v in plateau)
    ):
        return [(int(plateau[0]), int(plateau[1]))]
    if isinstance(plateau, (tuple, list)):
        return [span for item in plateau for span in (_spans_from(item) or [])]
    raise TypeError(
        f"plateau must be (first_epoch, last_epoch), a dict or a list, received {plateau!r}"
    )


def _report_plateaus(report: Any) -> list[tuple[int, int]] | None:
    """Plateau spans a report states: ``report.plateau``, else its plateau findings.

    A finding (``report.finding_details``) counts when it has ``kind ==
    "plateau"`` and the ``epochs`` it concerns; None when the report states
    nothing (the spans are then computed).
    """
    spans = _spans_from(getattr(report, "plateau", None))
    if spans is not None:
        return spans
    details = getattr(report, "finding_details", None) or getattr(report, "findings", None)
    found = [
        (int(min(f.epochs)), int(max(f.epochs)))
        for f in details or []
        if getattr(f, "kind", None) == "plateau" and getattr(f, "epochs", None)
    ]
    return found or None


def curves(obj: Any) -> Curves:
    """Gather per-epoch logs from a FlowHistory, a report, a Keras-style History or a dict."""
    hist = c.history_of(obj)
    if hist is not None:
        logs = [dict(entry) for entry in hist.logs]
        keys = sorted({k for entry in logs for k in entry})
        data = {k: np.array([entry.get(k, np.nan) for entry in logs], dtype=float) for k in keys}
        epochs = np.unique(hist.epoch[hist.epoch > 0])
        if epochs.size != len(logs):
            epochs = np.arange(1, len(logs) + 1)
        initial = float(hist.loss[0]) if hist.loss.size and hist.epoch[0] == 0 else None
        n_out = hist.rows[-1].fan_out if hist.rows else 0
        plateau = _report_plateaus(obj) if obj is not hist else None
        chance = getattr(obj, "chance", None) if obj is not hist else None
        return Curves(epochs, data, hist.loss_name or "", n_out, initial, plateau, chance)
    if c.data_of(obj) is not None:
        raise ValueError(
            "training curves need a training run: this report (from analyze()) has no epochs"
        )
    if isinstance(obj, dict):
        data = {str(k): np.asarray(v, dtype=float).ravel() for k, v in obj.items()}
        n = max((v.size for v in data.values()), default=0)
        return Curves(np.arange(1, n + 1), data, "", 0, None, None)
    logs = getattr(obj, "history", None)
    if isinstance(logs, dict):
        data = {str(k): np.asarray(v, dtype=float).ravel() for k, v in logs.items()}
        epochs = np.asarray(getattr(obj, "epoch", []), dtype=np.int64) + 1
        n = max((v.size for v in data.values()), default=0)
        if epochs.size != n:
            epochs = np.arange(1, n + 1)
        model = getattr(obj, "model", None)
        loss_name = getattr(model, "loss", "") or ""
        n_out = getattr(model, "output_dim", 0) or 0
        return Curves(epochs, data, str(loss_name), int(n_out), None, None)
    raise TypeError(
        "expected a FlowHistory, a GradientFlowReport, a History returned by fit() or a "
        f"dict of per-epoch lists, received {type(obj).__name__}"
    )


def chance_loss(loss_name: str, n_outputs: int) -> float | None:
    """Loss of a constant guess at the class prior on balanced classes: ln 2, or ln(classes)."""
    if loss_name == "binary_crossentropy":
        return math.log(2.0)
    if loss_name in _CROSS_ENTROPIES and n_outputs > 1:
        return math.log(n_outputs)
    return None


def chance_level(data: Curves) -> tuple[float | None, str]:
    """The chance-level loss and its legend text: the report's (the loss of predicting
    the label frequencies) when it states one, else ``chance_loss`` (ln 2 or ln classes)."""
    level = data.chance if data.chance is not None else chance_loss(data.loss_name, data.n_outputs)
    if level is None:
        return None, ""
    named = math.isclose(level, math.log(max(2, data.n_outputs)), rel_tol=1e-3)
    name = f"ln {max(2, data.n_outputs)}" if named else "label frequencies"
    return level, f"chance level {num(level)} ({name})"


def _overlapping(
    measured: list[tuple[int, int]], stated: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The measured flat stretches that overlap the spans a report states, else those spans.

    A report says that (and near when) the loss plateaued; the shading shows the
    whole flat stretch of the plotted loss around it.
    """
    hits = [m for m in measured if any(m[0] <= b and a <= m[1] for a, b in stated)]
    return hits or list(stated)


def _loss_unit(loss_name: str) -> str:
    if loss_name in _CROSS_ENTROPIES:
        return "loss (cross-entropy, nats)"
    if loss_name == "mse":
        return "loss (mean squared error)"
    return "loss"


def plot_loss(
    ax: Any, data: Curves, index: int = 0, label: str = "", validation: bool = True
) -> None:
    """Draw training (solid) and validation (dashed) loss of one configuration on ``ax``."""
    loss = data.logs.get("loss")
    if loss is None:
        raise ValueError(f"no 'loss' in the training logs (found: {', '.join(data.logs)})")
    x, y = data.epochs.astype(float), loss
    if data.initial_loss is not None:
        x, y = np.concatenate([[0.0], x]), np.concatenate([[data.initial_loss], y])
    prefix = f"{label}: " if label else ""
    train = f"{prefix}training loss" if validation or not label else label
    ax.plot(x, y, color=c.color(index), linewidth=1.8, label=train)
    if validation and "val_loss" in data.logs:
        ax.plot(
            data.epochs,
            data.logs["val_loss"],
            color=c.color(index),
            linestyle="--",
            linewidth=1.4,
            label=f"{prefix}validation loss",
        )


def draw_chance(ax: Any, level: float | None, text: str) -> None:
    """A dotted horizontal line at a chance level, when there is one."""
    if level is not None:
        ax.axhline(level, color="#555555", linestyle=":", linewidth=1.2, label=text)


def training_curves(
    history_or_keras_history: Any,
    plateau: Any = None,
    rtol: float = PLATEAU_RTOL,
    window: int = PLATEAU_WINDOW,
    fig: Any = None,
) -> Any:
    """Loss (and accuracy, when logged) against epoch, with plateaus shaded.

    A loss that stays flat at ln 2 = 0.693 for binary cross-entropy (the dotted
    chance line: a constant guess of 0.5; a report's own chance level, the loss
    of predicting the label frequencies, when it states one) is the seed's
    symptom of a vanishing gradient. Plateaus are taken from ``plateau`` when
    given, and otherwise found by ``find_plateaus`` (the loss drifts less than
    ``rtol`` of its level over ``window`` epochs); when the report states
    plateaus (``report.plateau``, or its findings of kind "plateau"), the flat
    stretches around them are shaded. Epoch 0 is the loss at initialization
    when the input has it (a ``FlowHistory``).

    Args:
        history_or_keras_history: a ``FlowHistory``, a report with a history, the
            ``History`` returned by ``fit`` or a dict of per-epoch lists.
        plateau: ``(first_epoch, last_epoch)``, a dict with "start"/"end", or a list
            of them; overrides both the report's spans and the computed ones.
        rtol, window: the plateau rule when spans are computed.
        fig: figure to draw into (cleared first); a new one when None.

    Returns:
        The matplotlib Figure.
    """
    data = curves(history_or_keras_history)
    has_acc = "accuracy" in data.logs
    if fig is None:
        fig = c.pyplot().figure(figsize=(11.0 if has_acc else 6.5, 4.2))
    else:
        fig.clear()
    axes = np.atleast_1d(fig.subplots(1, 2 if has_acc else 1)).ravel()
    ax = axes[0]
    plot_loss(ax, data)
    draw_chance(ax, *chance_level(data))
    spans = _spans_from(plateau)
    if spans is None:
        found = find_plateaus(data.logs["loss"], rtol, window)
        measured = [(int(data.epochs[a]), int(data.epochs[b])) for a, b in found]
        spans = measured if data.plateaus is None else _overlapping(measured, data.plateaus)
    for k, (first, last) in enumerate(spans):
        for a in axes:
            a.axvspan(
                first,
                last,
                color="#E69F00",
                alpha=0.18,
                linewidth=0,
                label="loss plateau" if k == 0 and a is ax else None,
            )
    ax.set_xlabel("epoch (0 = initialization)" if data.initial_loss is not None else "epoch")
    ax.set_ylabel(_loss_unit(data.loss_name))
    ax.set_title(
        "Loss per epoch" + (f" ({len(spans)} plateau{'s' * (len(spans) != 1)})" if spans else "")
    )
    if has_acc:
        acc = axes[1]
        acc.plot(
            data.epochs,
            data.logs["accuracy"],
            color=c.color(0),
            linewidth=1.8,
            label="training accuracy",
        )
        if "val_accuracy" in data.logs:
            acc.plot(
                data.epochs,
                data.logs["val_accuracy"],
                color=c.color(0),
                linestyle="--",
                linewidth=1.4,
                label="validation accuracy",
            )
        n_classes = max(2, data.n_outputs)
        draw_chance(
            acc,
            1.0 / n_classes if data.loss_name in _CROSS_ENTROPIES else None,
            f"chance (1/{n_classes})",
        )
        acc.set_ylim(-0.02, 1.02)
        acc.set_xlabel("epoch")
        acc.set_ylabel("accuracy (fraction correct)")
        acc.set_title("Accuracy per epoch")
    for a in axes:
        a.grid(True, alpha=0.3)
        a.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig
