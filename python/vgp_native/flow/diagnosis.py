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

import numpy as np

from ._text import epochs_text, layer_text, num, pct
from .findings import (
    Evidence,
    Finding,
    dead_or_saturated,
    depth,
    exploding,
    finite,
    nonfinite,
    vanishing,
)

__all__ = ["Evidence", "Finding", "chance_loss", "detect_plateau", "diagnose"]


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


def _optimizer(ev: Evidence) -> Finding | None:
    t = ev.thresholds
    cls = str(ev.optimizer.get("class_name", "")).lower()
    name = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD"}.get(cls)
    if name is None or not len(ev.rows):
        return None
    train = np.flatnonzero(ev.epoch > 0)
    records = train if train.size else np.zeros(1, dtype=np.int64)
    u0 = finite(np.median, ev.update_ratio[records, 0])
    ul = finite(np.median, ev.update_ratio[records, -1])
    size = ev.rows[0].fan_in * ev.rows[0].fan_out
    rms = finite(np.median, ev.field("update_norm")[records, 0]) / math.sqrt(size)
    if train.size:
        when = (
            f"per step (median over {epochs_text(ev.epoch[train].tolist())}; RMS step "
            f"{num(rms)} per weight)"
        )
        verb = "keep moving"
    else:
        when = f"on its first step from these weights (RMS step {num(rms)} per weight)"
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
            else f"Its gradient entries are below {name}'s epsilon, which then sets the step"
        )
        text = (
            f"With {name} {first} is frozen: ||dW||/||W|| = {num(u0)} {when} against {num(ul)} "
            f"for the last layer; a thousand such steps change it by {num(1000 * u0)} of its "
            f"norm. {why}, and its gradient is {g} of the last layer's.{plateau}"
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


def _plateau(ev: Evidence, vanished: bool) -> Finding | None:
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
        if vanished
        else "a larger learning rate, or a better initialization or activation"
    )
    if abs(level - scale) <= t.chance_tol * scale:
        seed = (
            f", together with a first-layer gradient of {num(ev.verdicts.grad_ratio[0])} of "
            "the last layer's at the start: the seed document's symptom"
            if vanished
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


def diagnose(ev: Evidence) -> list[Finding]:
    """All findings, most severe first (see the module docstring)."""
    seen = {
        verdict
        for verdict in ("non-finite", "exploding", "vanishing", "dead", "saturated")
        if ev.verdicts.records_with(verdict).size
    }
    out: list[Finding | None] = []
    if "non-finite" in seen:
        out.append(nonfinite(ev))
    if "exploding" in seen:
        out.append(exploding(ev))
    if "vanishing" in seen:
        out.append(vanishing(ev))
    out.append(depth(ev))
    if "vanishing" in seen:
        out.append(_optimizer(ev))
    out.append(_plateau(ev, "vanishing" in seen))
    for verdict in ("dead", "saturated"):
        if verdict in seen:
            out.append(dead_or_saturated(ev, verdict))
    findings = [f for f in out if f is not None]
    if not seen:
        v = ev.verdicts
        findings.insert(
            0,
            Finding(
                "healthy",
                f"Gradients reach the first layer in every record: first/last kernel-gradient "
                f"ratio {num(finite(np.min, v.grad_ratio))} at the lowest, signal ratio "
                f"{num(finite(np.min, v.signal_ratio))}"
                f" (limits {num(ev.thresholds.vanishing)} and {num(ev.thresholds.exploding)}); "
                "no saturated or dead layer.",
                "none needed.",
            ),
        )
    return findings
