"""Findings: what the statistics say, in plain words, with evidence and remedy.

Remedies follow the evidence (DESIGN.md "flow"):

- saturated sigmoid/tanh units: a relu-family activation, or batch
  normalization before the activation (Ioffe & Szegedy 2015);
- sigmoid units that are *not* saturated still pass on at most 1/4 of the
  gradient per layer: the activation itself (Glorot & Bengio 2010);
- a shrinking signal with healthy (unsaturated, alive) units: the weight scale,
  i.e. the initialization (Glorot & Bengio 2010; He et al. 2015), predicted by
  mean-field theory (Schoenholz et al. 2017);
- dead relu units: leaky_relu or elu, He initialization, a smaller learning rate;
- exploding gradients: smaller initial weights or learning rate, clipnorm,
  batch normalization;
- more layers than the mean-field trainable depth: fewer layers or residual
  blocks (He et al. 2016);
- a loss plateau at chance with tiny early gradients: the seed document's symptom.

The optimizer is part of the diagnosis: Adam and RMSprop divide each gradient
by its running RMS, so a vanishing gradient still moves the first layer by
about the learning rate per step; SGD moves it by ``lr * g`` and leaves it frozen.
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

__all__ = ["Evidence", "Finding", "chance_loss", "compare_depths", "detect_plateau", "diagnose"]

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
    "relu": "he_normal (sigma_w^2 = 2)",
    "leaky_relu": "he_normal (sigma_w^2 = 2)",
    "elu": "he_normal (sigma_w^2 = 2)",
    "gelu": "he_normal (sigma_w^2 = 2)",
    "swish": "he_normal (sigma_w^2 = 2)",
    "softplus": "he_normal (sigma_w^2 = 2)",
    "selu": "lecun_normal (sigma_w^2 = 1)",
    "tanh": "glorot_uniform or lecun_normal (sigma_w^2 = 1)",
    "linear": "glorot_uniform or lecun_normal (sigma_w^2 = 1)",
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


def chance_loss(loss_name: str, y: np.ndarray | None) -> float | None:
    """Loss of always predicting the label frequencies (ln 2 for balanced binary labels).

    Binary cross-entropy: mean over outputs of ``-p ln p - (1-p) ln(1-p)``;
    categorical: ``-sum_k q_k ln q_k`` of the class frequencies; mse: the
    mean variance of the targets. None when unknown.
    """
    if y is None or len(y) == 0:
        return None
    y = np.asarray(y, dtype=np.float64)
    y = y.reshape(len(y), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if loss_name == "binary_crossentropy":
            p = y.mean(axis=0)
            h = -np.where(p > 0, p * np.log(p), 0.0) - np.where(p < 1, (1 - p) * np.log1p(-p), 0.0)
            return float(h.mean())
        if loss_name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
            if loss_name == "sparse_categorical_crossentropy":
                q = np.bincount(y[:, 0].astype(np.int64)) / len(y)
            else:
                q = y.mean(axis=0)
            return float(-np.sum(np.where(q > 0, q * np.log(q), 0.0)))
    if loss_name == "mse":
        return float(y.var(axis=0).mean())
    return None


def detect_plateau(losses: np.ndarray, epochs: int, tol: float) -> tuple[float, float] | None:
    """``(first, last)`` loss of the last ``epochs`` epochs when they span less than ``tol``.

    The window is the last ``epochs + 1`` epoch losses (``epochs`` changes);
    None when there are fewer or any is not finite.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size < epochs + 1:
        return None
    window = losses[-(epochs + 1) :]
    if not np.isfinite(window).all() or window.max() - window.min() >= tol:
        return None
    return float(window[0]), float(window[-1])


def _worst_row(ev: Evidence, verdict: str, name: str) -> tuple[int, int]:
    """``(record, row)`` where field ``name`` is largest among the rows showing ``verdict``."""
    recs = ev.verdicts.records_with(verdict)
    mask = ev.verdicts.conditions[recs, :, VERDICTS.index(verdict)]
    values = np.where(mask, np.nan_to_num(ev.field(name)[recs], nan=0.0), -1.0)
    flat = int(np.argmax(values))
    return int(recs[flat // values.shape[1]]), flat % values.shape[1]


def _nonfinite(ev: Evidence) -> Finding:
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
    finite = np.isfinite(grad[:first_bad]).all(axis=1)
    before = ""
    if finite.any():
        r = int(np.flatnonzero(finite)[-1])
        before = (
            f"; before that, {ev.at(r)}, the largest kernel-gradient norm was "
            f"{num(np.max(grad[r]))} and the largest update ratio ||dW||/||W|| "
            f"{num(np.nanmax(ev.update_ratio[r]))}"
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


def _exploding(ev: Evidence) -> Finding:
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


def _vanishing(ev: Evidence) -> Finding:
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


def _depth(ev: Evidence) -> Finding | None:
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


def _optimizer(ev: Evidence) -> Finding | None:
    t = ev.thresholds
    cls = str(ev.optimizer.get("class_name", "")).lower()
    name = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD"}.get(cls)
    if name is None or not len(ev.rows):
        return None
    train = np.flatnonzero(ev.epoch > 0)
    if train.size:
        u0 = float(np.nanmedian(ev.update_ratio[train, 0]))
        ul = float(np.nanmedian(ev.update_ratio[train, -1]))
        when = f"per step (median over {epochs_text(ev.epoch[train].tolist())})"
        verb = "keep moving"
    else:
        u0, ul = float(ev.update_ratio[0, 0]), float(ev.update_ratio[0, -1])
        when = "on its first step from these weights"
        verb = "would move"
    g = num(ev.verdicts.grad_ratio[int(ev.verdicts.records_with("vanishing")[0])])
    lr = num(float(ev.optimizer.get("learning_rate", math.nan)))
    plateau = ""
    if ev.chance is not None and ev.epoch_losses.size:
        near = np.abs(ev.epoch_losses - ev.chance) <= t.chance_tol * ev.chance
        if near.any():
            plateau = (
                f" Meanwhile the loss lingered near chance ({num(ev.chance)}) for "
                f"{int(near.sum())} of {ev.epoch_losses.size} epochs."
            )
    first = layer_text(0, ev.rows[0].name)
    if name in ("Adam", "RMSprop") and u0 >= t.frozen_update:
        text = (
            f"With {name} the weights of {first} {verb}: ||dW||/||W|| = {num(u0)} {when} "
            f"against {num(ul)} for the last layer, although its gradient is {g} of the last "
            f"layer's. {name} divides each gradient by its own running RMS, so its steps do "
            f"not shrink with the gradient (a full step is about the learning rate, {lr}, per "
            "weight): the weights are not frozen, but they follow a gradient that carries "
            "almost nothing of the loss."
            f"{plateau}"
        )
        remedy = "fix the gradient flow rather than the optimizer (see the vanishing finding)."
    elif u0 < t.frozen_update:
        why = (
            f"{name}'s step is the learning rate ({lr}) times the gradient"
            if name == "SGD"
            else f"its gradient entries are below {name}'s epsilon, which then sets the step"
        )
        text = (
            f"With {name} {first} is frozen: ||dW||/||W|| = {num(u0)} {when} against {num(ul)} "
            f"for the last layer (at this rate a thousand steps change it by "
            f"{pct(min(1.0, 1000 * u0))}): {why}, and its gradient is {g} of the last layer's."
            f"{plateau}"
        )
        remedy = (
            "fix the gradient flow (see the vanishing finding); an adaptive optimizer such as "
            "Adam rescales the steps but does not bring back the lost signal."
        )
    else:
        text = (
            f"With {name} {first} moves by ||dW||/||W|| = {num(u0)} {when} against {num(ul)} "
            f"for the last layer, with a gradient {g} of the last layer's.{plateau}"
        )
        remedy = "fix the gradient flow (see the vanishing finding)."
    return Finding("optimizer", text, remedy, layers=(ev.rows[0].name,))


def _plateau(ev: Evidence, vanishing: bool) -> Finding | None:
    t = ev.thresholds
    scale = ev.chance if ev.chance else None
    losses = ev.epoch_losses
    if scale is None or not losses.size:
        return None
    found = detect_plateau(losses, t.plateau_epochs, t.plateau_tol * scale)
    if found is None:
        return None
    a, b = found
    level = float(np.mean(losses[-(t.plateau_epochs + 1) :]))
    n = losses.size
    head = (
        f"The training loss changed by less than {num(t.plateau_tol * scale)} over the last "
        f"{t.plateau_epochs} epochs ({a:.4f} at epoch {n - t.plateau_epochs} -> {b:.4f} at "
        f"epoch {n})"
    )
    fix = (
        "the remedies of the vanishing finding"
        if vanishing
        else "a larger learning rate, or a better initialization or activation"
    )
    if abs(level - scale) <= t.chance_tol * scale:
        seed = (
            f", together with a first-layer gradient of {num(ev.verdicts.grad_ratio[0])} of "
            "the last layer's at the start: the seed document's symptom"
            if vanishing
            else ""
        )
        text = (
            f"{head} and sits at the chance level {scale:.4f}, the loss of predicting the label "
            "frequencies (ln 2 = 0.693 for balanced binary labels): the network has learned "
            f"nothing, the first sign of a vanishing gradient{seed}."
        )
    elif level > 0.5 * scale:
        text = f"{head} and stalled at {pct(level / scale)} of the chance level {scale:.4f}."
    else:
        return None
    return Finding(
        "plateau",
        text,
        f"more epochs will not help at this rate; try {fix}.",
        tuple(range(n - t.plateau_epochs, n + 1)),
    )


def _unit_condition(ev: Evidence, verdict: str) -> Finding:
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


def diagnose(ev: Evidence) -> list[Finding]:
    """All findings, most severe first (see the module docstring)."""
    seen = {
        verdict
        for verdict in ("non-finite", "exploding", "vanishing", "dead", "saturated")
        if ev.verdicts.records_with(verdict).size
    }
    out: list[Finding | None] = []
    if "non-finite" in seen:
        out.append(_nonfinite(ev))
    if "exploding" in seen:
        out.append(_exploding(ev))
    if "vanishing" in seen:
        out.append(_vanishing(ev))
    out.append(_depth(ev))
    if "vanishing" in seen:
        out.append(_optimizer(ev))
    out.append(_plateau(ev, "vanishing" in seen))
    for verdict in ("dead", "saturated"):
        if verdict in seen:
            out.append(_unit_condition(ev, verdict))
    findings = [f for f in out if f is not None]
    if not seen:
        v = ev.verdicts
        findings.insert(
            0,
            Finding(
                "healthy",
                f"Gradients reach the first layer in every record: first/last kernel-gradient "
                f"ratio {num(np.nanmin(v.grad_ratio))} at the lowest, signal ratio "
                f"{num(np.nanmin(v.signal_ratio)) if np.isfinite(v.signal_ratio).any() else 'n/a'}"
                f" (limits {num(ev.thresholds.vanishing)} and {num(ev.thresholds.exploding)}); "
                "no saturated or dead layer.",
                "none needed.",
            ),
        )
    return findings


def compare_depths(deeper: Any, shallower: Any, **thresholds: Any) -> Finding | None:
    """Degradation (He et al. 2016): a deeper plain network that trains worse, not vanishing.

    Args:
        deeper, shallower: ``GradientFlowReport`` objects (or ``FlowHistory``
            objects) of two networks trained on the same data.
        **thresholds: ``Thresholds`` overrides (``degradation_margin``).

    Returns:
        A "degradation" finding when the deeper network has more kernel layers,
        no vanishing, exploding or non-finite record, and a final training loss
        above the shallower one's by more than ``degradation_margin`` times the
        chance-level loss (or times the shallower loss when the chance level
        is unknown); None otherwise (when the deeper network's gradient does
        vanish, its own report says so).
    """
    from .report import GradientFlowReport

    t = Thresholds.of(**thresholds)
    deep, shallow = (
        x if isinstance(x, GradientFlowReport) else GradientFlowReport.from_history(x)
        for x in (deeper, shallower)
    )
    if len(deep.layers) <= len(shallow.layers):
        raise ValueError(
            f"deeper has {len(deep.layers)} kernel layers, shallower {len(shallow.layers)}: "
            "pass the deeper network first"
        )
    if deep.verdict in ("vanishing", "exploding", "non-finite"):
        return None
    a, b = deep.final_loss, shallow.final_loss
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    scale = deep.chance if deep.chance else max(b, 1e-12)
    if a - b <= t.degradation_margin * scale:
        return None
    return Finding(
        "degradation",
        f"The {len(deep.layers)}-layer network ends at a training loss of {a:.4f}, worse than "
        f"the {len(shallow.layers)}-layer network's {b:.4f}, although its gradients are healthy "
        f"(verdict {deep.verdict}; first/last kernel-gradient ratio {num(deep.grad_ratio)}, "
        f"signal ratio {num(deep.signal_ratio)}): the extra plain layers make the network "
        "harder to optimize, not a vanishing gradient (He et al. 2016).",
        "use residual blocks (layers.Residual) so that the extra layers can start as the "
        "identity, or keep the shallower network.",
    )
