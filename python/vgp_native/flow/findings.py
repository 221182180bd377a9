"""Finding builders: one plain-language conclusion per condition the verdicts saw.

Each builder reads an ``Evidence`` (what a report measured) and returns a
``Finding`` naming its evidence (numbers, layers, epochs) and its remedy;
``diagnosis.diagnose`` decides which builders run. The remedies follow the
evidence as ``vgp_native.flow.diagnosis`` explains.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import activations
from ._text import epochs_text, layer_text, num, pct
from .history import RowInfo
from .verdicts import VERDICTS, RecordVerdicts, Thresholds

__all__ = [
    "Evidence",
    "Finding",
    "dead_or_saturated",
    "depth",
    "exploding",
    "finite",
    "nonfinite",
    "vanishing",
]

_SATURATION_REMEDY = (
    "use a relu-family activation with he_normal initialization (e.g. Dense(10, "
    "activation='relu', kernel_initializer='he_normal')), batch normalization before the "
    "activation (Dense -> BatchNormalization -> Activation), or residual blocks"
)
_DEAD_REMEDY = (
    "use leaky_relu or elu (off units keep a gradient), he_normal initialization, or a "
    "smaller learning rate (one large step can switch a unit off for every input)"
)
_EXPLODING_REMEDY = (
    "use smaller initial weights (glorot_uniform or he_normal, sigma_w^2 of 1-2), a smaller "
    "learning rate, gradient clipping (e.g. Adam(clipnorm=1.0)), or batch normalization"
)
#: Initializers that put each activation family at the edge of chaos (chi1 = 1).
_CRITICAL_INIT = {
    name: f.critical_init for name, f in activations.REGISTRY.items() if f.critical_init
}


@dataclass(frozen=True)
class Finding:
    """One conclusion. ``str(finding)`` is the plain-language sentence.

    Attributes:
        kind: "non-finite", "exploding", "vanishing", "depth", "optimizer",
            "plateau", "dead", "saturated", "degradation" or "healthy".
        evidence: what was measured, with numbers, layers and epochs.
        remedy: what to change.
        epochs: the epochs concerned (0 = initialization).
        layers: the layer names concerned.
    """

    kind: str
    evidence: str
    remedy: str
    epochs: tuple[int, ...] = ()
    layers: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"[{self.kind}] {self.evidence} Remedy: {self.remedy}"


@dataclass
class Evidence:
    """Everything ``diagnose`` reads (a report builds it).

    Attributes:
        rows: the statistics rows.
        field: ``name -> (records, rows)`` statistics accessor.
        update_ratio: ``(records, rows)``.
        verdicts: ratios and verdicts of every record.
        epoch: ``(records,)`` epoch of each record (0 = initialization).
        thresholds: the limits.
        optimizer: ``{"class_name", "learning_rate", ...}``.
        epoch_losses: training loss per completed epoch (empty for a snapshot).
        chance: the chance-level loss, or None.
        theory: ``decay.theory_comparison`` result, or None.
        first_nonfinite: where a NaN/Inf first appeared, or None.
        snapshot: the single record is a snapshot at the current weights
            (``analyze``), not the start of a training run.
    """

    rows: list[RowInfo]
    field: Callable[[str], np.ndarray]
    update_ratio: np.ndarray
    verdicts: RecordVerdicts
    epoch: np.ndarray
    thresholds: Thresholds
    optimizer: dict[str, Any]
    epoch_losses: np.ndarray
    chance: float | None
    theory: dict[str, Any] | None
    first_nonfinite: dict[str, Any] | None
    snapshot: bool = False

    def epochs_with(self, verdict: str) -> list[int]:
        return sorted(set(self.epoch[self.verdicts.records_with(verdict)].tolist()))

    def at(self, record: int) -> str:
        """``"epoch 3"``, or ``"at the current weights"`` for a snapshot."""
        return "at the current weights" if self.snapshot else f"epoch {int(self.epoch[record])}"

    def when(self, verdict: str) -> str:
        """``"in epochs 0-3"`` (those showing ``verdict``), or ``"at the current weights"``."""
        if self.snapshot:
            return "at the current weights"
        return f"in {epochs_text(self.epochs_with(verdict))}"


def finite(reduce: Callable[[np.ndarray], Any], values: np.ndarray) -> float:
    """``reduce`` over the finite entries of ``values``; NaN when there are none."""
    kept = np.asarray(values, dtype=np.float64)
    kept = kept[np.isfinite(kept)]
    return float(reduce(kept)) if kept.size else math.nan


def _worst_row(ev: Evidence, verdict: str, name: str) -> tuple[int, int]:
    """``(record, row)`` where field ``name`` is largest among the rows showing ``verdict``."""
    recs = ev.verdicts.records_with(verdict)
    mask = ev.verdicts.conditions[recs, :, VERDICTS.index(verdict)]
    values = np.where(mask, np.nan_to_num(ev.field(name)[recs], nan=0.0), -1.0)
    flat = int(np.argmax(values))
    return int(recs[flat // values.shape[1]]), flat % values.shape[1]


def nonfinite(ev: Evidence) -> Finding:
    epochs = ev.epochs_with("non-finite")
    loc = ev.first_nonfinite
    if loc is not None:
        where = ev.at(0) if ev.snapshot else f"epoch {loc['epoch']}"
        where += f", batch {loc['batch']}" if loc["batch"] >= 0 else ""
        text = (
            f"NaN/Inf first appeared in {where}, in the {loc['where']} of "
            f"{layer_text(loc['row'], loc['name'])}"
        )
        layers: tuple[str, ...] = (loc["name"],)
    else:
        text = "NaN/Inf values appeared"
        layers = ()
    grad = ev.field("grad_norm")
    first_bad = int(ev.verdicts.records_with("non-finite")[0])
    clean = np.isfinite(grad[:first_bad]).all(axis=1)
    before = ""
    if clean.any():
        r = int(np.flatnonzero(clean)[-1])
        before = (
            f"; before that, {ev.at(r)}, the largest kernel-gradient norm was "
            f"{num(np.max(grad[r]))} and the largest update ratio ||dW||/||W|| "
            f"{num(finite(np.max, ev.update_ratio[r]))}"
        )
    return Finding(
        "non-finite",
        f"{text}; statistics are non-finite {ev.when('non-finite')}{before}.",
        "lower the learning rate, use smaller initial weights (glorot_uniform or he_normal), "
        "clip gradients (e.g. Adam(clipnorm=1.0)), or add batch normalization; "
        "callbacks.TerminateOnNaN stops at the first non-finite step and keeps the weights "
        "from before it.",
        tuple(epochs),
        layers,
    )


def exploding(ev: Evidence) -> Finding:
    t = ev.thresholds
    epochs = ev.epochs_with("exploding")
    r = int(ev.verdicts.records_with("exploding")[0])
    v = ev.verdicts
    parts = []
    if v.grad_ratio[r] > t.exploding:
        parts.append(f"the first layer's kernel gradient is {num(v.grad_ratio[r])}x the last's")
    if v.signal_ratio[r] > t.exploding:
        parts.append(
            f"the backpropagated signal at the first hidden layer is {num(v.signal_ratio[r])}x "
            "the last hidden layer's"
        )
    grad = ev.field("grad_norm")[r]
    if np.nanmax(grad) > t.exploding_grad_norm:
        k = int(np.nanargmax(grad))
        parts.append(
            f"{layer_text(k, ev.rows[k].name)} has a kernel-gradient norm of {num(grad[k])}"
        )
    upd = ev.update_ratio[r]
    if np.nanmax(upd) > t.exploding_update:
        k = int(np.nanargmax(upd))
        parts.append(
            f"one step changes {layer_text(k, ev.rows[k].name)} by {num(upd[k])} of its norm"
        )
    if not parts:
        rows = v.rows_with("exploding", r)
        parts.append(f"{', '.join(ev.rows[k].name for k in rows)} grow far beyond the last layer")
    scale = ""
    if ev.theory is not None and ev.theory["chi1"] > 1:
        scale = (
            f" Mean field: sigma_w^2 = {num(ev.theory['sigma_w2'])} gives chi1 = "
            f"{num(ev.theory['chi1'])}, each layer multiplies the gradient by "
            f"{num(ev.theory['predicted_factor'])}."
        )
    return Finding(
        "exploding",
        f"Gradients grow toward the input: {'; '.join(parts)} ({ev.at(r)}; "
        f"exploding {ev.when('exploding')}).{scale}",
        _EXPLODING_REMEDY + ".",
        tuple(epochs),
    )


def _cause(ev: Evidence, r: int) -> tuple[str, str]:
    """Why the gradient vanished in record ``r``, and the remedy that follows."""
    t = ev.thresholds
    hidden = list(range(len(ev.rows) - 1))
    sat = ev.field("saturated")[r]
    dead = ev.field("dead")[r]
    acts = {ev.rows[k].activation for k in hidden}
    sat_rows = [k for k in hidden if ev.rows[k].activation in activations.SATURATING]
    dead_rows = [k for k in hidden if ev.rows[k].activation in activations.RELU_FAMILY]
    th = ev.theory
    mf = ""
    if th is not None:
        mf = (
            f" (mean field: chi1 = {num(th['chi1'])} at sigma_w^2 = {num(th['sigma_w2'])}, so "
            f"each layer passes on sqrt(chi1) = {num(th['predicted_factor'])} of the gradient; "
            f"measured {num(th['measured_signal_factor'])})"
        )
    if sat_rows and sat[sat_rows].max() >= t.saturated:
        k = sat_rows[int(np.argmax(sat[sat_rows]))]
        return (
            f"{pct(sat[k])} of the {ev.rows[k].activation} units of "
            f"{layer_text(k, ev.rows[k].name)} are saturated (within 1e-2 of their bounds), "
            "where their derivative is nearly 0.",
            _SATURATION_REMEDY,
        )
    if dead_rows and dead[dead_rows].max() >= t.dead:
        k = dead_rows[int(np.argmax(dead[dead_rows]))]
        return (
            f"{pct(dead[k])} of the {ev.rows[k].activation} units of "
            f"{layer_text(k, ev.rows[k].name)} are dead (off for every sample).",
            _DEAD_REMEDY,
        )
    if acts == {"sigmoid"}:
        return (
            f"The sigmoid units are not saturated (at most {pct(np.max(sat[hidden]))} per "
            "layer): the gradient shrinks through the sigmoid's derivative itself, at most 0.25"
            f"{mf}.",
            _SATURATION_REMEDY,
        )
    healthy = (
        f"The units are healthy (at most {pct(np.max(sat[hidden]))} saturated, "
        f"{pct(np.max(dead[hidden]))} dead), so the signal shrinks through the weights: "
        "the initialization sets the scale"
    )
    if len(acts) == 1 and (act := next(iter(acts))) in _CRITICAL_INIT:
        return (
            f"{healthy}{mf}.",
            f"initialize for {act}: {_CRITICAL_INIT[act]} (Glorot & Bengio 2010; He et al. "
            "2015), or add batch normalization or residual blocks",
        )
    return (
        f"{healthy}{mf}.",
        "initialize for the activation (he_normal for relu-family units, glorot_uniform for "
        "tanh), or add batch normalization or residual blocks",
    )


def vanishing(ev: Evidence) -> Finding:
    t = ev.thresholds
    v = ev.verdicts
    epochs = ev.epochs_with("vanishing")
    r = int(v.records_with("vanishing")[0])
    first, last = ev.rows[0], ev.rows[-1]
    text = (
        f"The gradient dies on its way to the input: the first layer's kernel gradient "
        f"(layer 1, {first.name}) is {num(v.grad_ratio[r])} of the last layer's "
        f"(layer {len(ev.rows)}, {last.name})"
    )
    if len(ev.rows) >= 2 and not math.isnan(v.signal_ratio[r]):
        text += (
            f", and the backpropagated signal at the first hidden layer's output is "
            f"{num(v.signal_ratio[r])} of the last hidden layer's"
        )
    when = "" if ev.snapshot else f"; {ev.at(r)}; vanishing {ev.when('vanishing')}"
    text += f" (limit {num(t.vanishing)}{when})."
    if len(ev.epoch) > 1 and v.record[-1] not in ("vanishing", "non-finite"):
        text += (
            f" By epoch {int(ev.epoch[-1])} the ratios had climbed to {num(v.grad_ratio[-1])} "
            f"and {num(v.signal_ratio[-1])} as the last layers fitted and their own "
            "gradients shrank."
        )
    cause, remedy = _cause(ev, r)
    return Finding("vanishing", f"{text} {cause}", remedy + ".", tuple(epochs))


def depth(ev: Evidence) -> Finding | None:
    th = ev.theory
    if th is None or not math.isfinite(th["trainable_depth"]):
        return None
    if th["hidden_layers"] <= th["trainable_depth"]:
        return None
    side = "vanish" if th["chi1"] < 1 else "explode"
    return Finding(
        "depth",
        f"Mean field (Schoenholz et al. 2017): {th['activation']} at sigma_w^2 = "
        f"{num(th['sigma_w2'])}, sigma_b^2 = {num(th['sigma_b2'])} has chi1 = {num(th['chi1'])}, "
        f"a depth scale xi = 1/|ln chi1| = {num(th['depth_scale'])} layers and a trainable depth "
        f"of about 6 xi = {num(th['trainable_depth'])}; this network has "
        f"{th['hidden_layers']} hidden layers, deep enough for gradients to {side}.",
        "use fewer layers or residual blocks, or move to the edge of chaos (chi1 = 1): relu with "
        "he_normal, tanh with glorot_uniform.",
    )


def dead_or_saturated(ev: Evidence, verdict: str) -> Finding:
    epochs = ev.epochs_with(verdict)
    name = "dead" if verdict == "dead" else "saturated"
    r, k = _worst_row(ev, verdict, name)
    value = ev.field(name)[r, k]
    row = ev.rows[k]
    what = "off for every sample of a batch" if verdict == "dead" else "within 1e-2 of their bounds"
    rows = sorted(
        {
            ev.rows[j].name
            for rec in ev.verdicts.records_with(verdict)
            for j in ev.verdicts.rows_with(verdict, int(rec))
        }
    )
    flows = ""
    if not ev.verdicts.records_with("vanishing").size:
        flows = (
            f" The gradient still reaches the first layer (first/last ratio "
            f"{num(ev.verdicts.grad_ratio[r])}): the network trains, with fewer working units."
        )
    return Finding(
        verdict,
        f"Up to {pct(value)} of the {row.activation} units of {layer_text(k, row.name)} are "
        f"{name} ({what}; {ev.at(r)}); {name} layers ({', '.join(rows)}) {ev.when(verdict)}."
        f"{flows}",
        (_DEAD_REMEDY if verdict == "dead" else _SATURATION_REMEDY) + ".",
        tuple(epochs),
        tuple(rows),
    )
