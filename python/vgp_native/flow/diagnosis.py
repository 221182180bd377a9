"""Findings: what the statistics say, in plain words, with evidence and remedy.

Each finding names the layer and the statistic behind it and quotes the
report's own numbers; a claim holds for the run it is made about. Remedies
follow the evidence (``findings_path``, ``findings_units``), never propose what
the network already has (``remedies.Network``), and no two findings of one
report advise opposite changes (``remedies.resolve``: the more severe finding
keeps its advice). Findings are made for the conditions the two verdict parts
report; the others (events) are listed as facts.

The optimizer is part of the diagnosis: Adam and RMSprop divide each gradient
by its running RMS, so a vanishing gradient still moves the first layer by
about the learning rate per step; SGD moves it by ``lr * g`` and leaves it frozen.
"""

from __future__ import annotations

import math

import numpy as np

from ._text import layer_text, num, pct
from .findings import Draft, Evidence, Finding
from .findings_path import exploding, learning_rate, nonfinite, vanishing
from .findings_units import batchnorm_modes, dead, saturated
from .remedies import render, resolve

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


def _trend(window: np.ndarray) -> tuple[float, float]:
    """``(drop, noise)``: the least-squares fitted fall of ``window`` over its length and
    the standard deviation of the residuals."""
    x = np.arange(window.size, dtype=np.float64)
    slope, intercept = np.polyfit(x, window, 1)
    noise = float(np.std(window - (slope * x + intercept)))
    return float(-slope * (window.size - 1)), noise


def detect_plateau(losses: np.ndarray, epochs: int, tol: float) -> tuple[float, float] | None:
    """``(first, last)`` loss of the last ``epochs`` epochs when the loss has stopped falling.

    The window is the last ``epochs + 1`` epoch losses. A plateau needs both:
    they span less than ``tol``, and their least-squares trend does not show
    a fall that matters: the fitted drop over the window is within twice the
    residuals' standard deviation (noise), or below ``tol / 4`` (at that rate
    it would take over four windows to move by ``tol``). A loss that still
    falls steadily is not on a plateau. None when there are fewer losses or
    any is not finite.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size < epochs + 1:
        return None
    window = losses[-(epochs + 1) :]
    if not np.isfinite(window).all() or window.max() - window.min() >= tol:
        return None
    drop, noise = _trend(window)
    if drop > 2.0 * noise and drop >= tol / 4:
        return None
    return float(window[0]), float(window[-1])


def _optimizer(ev: Evidence) -> Draft | None:
    t = ev.thresholds
    cls = str(ev.optimizer.get("class_name", "")).lower()
    name = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD"}.get(cls)
    if name is None or not len(ev.rows):
        return None
    train = np.flatnonzero(ev.epoch > 0)
    # The steps of a training record: the training part's when it is vanishing, else the last.
    if not train.size:
        step = 0
    elif ev.parts.training == "vanishing":
        step = ev.parts.training_record
    else:
        step = int(train[-1])
    u0, ul = float(ev.update_ratio[step, 0]), float(ev.update_ratio[step, -1])
    if train.size:
        when = f"per step ({ev.at(step)})"
        verb = "keep moving"
    else:
        when = "on its first step from these weights"
        verb = "would move"
    r = ev.part_record("vanishing")
    g = float(ev.verdicts.grad_ratio[r])
    lr = num(float(ev.optimizer.get("learning_rate", math.nan)))
    first = layer_text(0, ev.rows[0].name)
    losses = (
        ev.epoch_losses[np.isfinite(ev.epoch_losses)] if ev.epoch_losses.size else ev.epoch_losses
    )
    at_chance = (
        ev.chance is not None
        and losses.size > 0
        and bool(np.all(np.abs(losses - ev.chance) <= t.chance_tol * ev.chance))
    )
    course = ""
    if ev.chance is not None and losses.size:
        course = (
            f" The loss stayed within {pct(t.chance_tol)} of chance ({num(ev.chance)}) in every "
            "epoch."
            if at_chance
            else f" The training loss went from {num(losses[0])} to {num(losses[-1])} "
            f"(chance: {num(ev.chance)})."
        )
    if ev.field("grad_norm")[r, 0] == 0.0:
        text = (
            f"{first} receives no gradient at all (exactly 0 {ev.at(r)}): nothing of the loss "
            f"reaches it, so no optimizer can move it ({name}'s steps there are ||dW||/||W|| = "
            f"{num(u0)} {when}).{course}"
        )
    elif name in ("Adam", "RMSprop") and u0 >= t.frozen_update:
        steer = (
            "here they follow a gradient that carries almost nothing of the loss"
            if at_chance
            else "that is how the first layer still learns"
        )
        text = (
            f"With {name} the weights of {first} {verb}: ||dW||/||W|| = {num(u0)} {when} "
            f"against {num(ul)} for the last layer, although its gradient is {num(g)} of the "
            f"last layer's ({ev.at(r)}). {name} divides each gradient by its own running RMS, "
            f"so its steps do not shrink with the gradient (a full step is about the learning "
            f"rate, {lr}, per weight); {steer}.{course}"
        )
    elif u0 < t.frozen_update:
        why = (
            f"{name}'s step is the learning rate ({lr}) times the gradient"
            if name == "SGD"
            else f"its gradient entries are below {name}'s epsilon, which then sets the step"
        )
        text = (
            f"With {name} {first} is frozen: ||dW||/||W|| = {num(u0)} {when} against {num(ul)} "
            "for the last layer; a thousand such steps change it by less than 1% of its norm. "
            f"The reason: {why}, and its gradient is {num(g)} of the last layer's."
            f"{course}"
        )
    else:
        text = (
            f"With {name} {first} moves by ||dW||/||W|| = {num(u0)} {when} against {num(ul)} "
            f"for the last layer, with a gradient {num(g)} of the last layer's ({ev.at(r)})."
            f"{course}"
        )
    return Draft(
        "optimizer",
        text,
        [],
        "fix the gradient flow rather than the optimizer (see the vanishing finding).",
        layers=(ev.rows[0].name,),
    )


def _plateau(ev: Evidence) -> Draft | None:
    t = ev.thresholds
    scale = ev.chance if ev.chance else None
    losses = ev.epoch_losses
    if scale is None or not losses.size:
        return None
    found = detect_plateau(losses, t.plateau_epochs, t.plateau_tol * scale)
    if found is None:
        return None
    a, b = found
    level = _final_level(ev)
    n = losses.size
    head = (
        f"The training loss has stopped falling: it changed by less than "
        f"{num(t.plateau_tol * scale)} over the last {t.plateau_epochs} epochs ({num(a)} at "
        f"epoch {n - t.plateau_epochs} -> {num(b)} at epoch {n}), and its fitted trend over "
        "them is within their noise or too slow to matter"
    )
    vanished = "vanishing" in ev.reported()
    if _at_chance(ev, level):
        seed = (
            f", together with a first-layer gradient of {num(ev.verdicts.grad_ratio[0])} of the "
            "last layer's at initialization: the seed document's symptom"
            if vanished and ev.parts.initial == "vanishing"
            else ""
        )
        text = (
            f"{head}, at the chance level {num(scale)}, the loss of predicting the label "
            f"frequencies: the network has learned nothing{seed}."
        )
    elif level > 0.5 * scale:
        text = f"{head}, at {pct(level / scale)} of the chance level {num(scale)}."
    else:
        return None
    text += " More epochs will not help at this rate."
    fallback = "fix the gradient flow (see the vanishing finding)." if vanished else "none left."
    remedies = [] if vanished else [ev.network.larger_lr()]
    net = ev.network
    if not vanished:
        remedies += [x for x in (net.relu_he(),) if x is not None]
    return Draft("plateau", text, remedies, fallback, tuple(range(n - t.plateau_epochs, n + 1)))


def _final_level(ev: Evidence) -> float:
    """The loss the run ends at: the mean of its last ``plateau_epochs + 1`` epochs."""
    return float(np.mean(ev.epoch_losses[-(ev.thresholds.plateau_epochs + 1) :]))


def _at_chance(ev: Evidence, level: float) -> bool:
    """Whether ``level`` lies within ``chance_tol`` of the chance-level loss."""
    return bool(
        ev.chance
        and np.isfinite(level)
        and abs(level - ev.chance) <= ev.thresholds.chance_tol * ev.chance
    )


def _learned_nothing(ev: Evidence) -> bool:
    """The training loss ends at the chance level: the run failed, whatever the verdicts say."""
    return not ev.snapshot and ev.epoch_losses.size > 0 and _at_chance(ev, _final_level(ev))


def _names(names: list[str], shown: int = 4) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def _events(ev: Evidence) -> Draft | None:
    if not ev.parts.events:
        return None
    items = []
    for e in ev.parts.events:
        span = (
            f"epoch {e['first_epoch']}"
            if e["first_epoch"] == e["last_epoch"]
            else f"epochs {e['first_epoch']}-{e['last_epoch']}"
        )
        where = f" ({_names(e['layers'])})" if e["layers"] else ""
        n = e["records"]
        items.append(f"{e['verdict']} in {n} record{'s' if n != 1 else ''}, {span}{where}")
    text = (
        "Seen in some records but in neither verdict (not at initialization, not persistent "
        f"through training): {'; '.join(items)}."
    )
    fallback = "none needed: they did not last."
    if _learned_nothing(ev):
        text += (
            " They did not persist, but the network learned nothing, so they may be part of why."
        )
        fallback = "none of their own; if they recur, treat them as the verdict they name."
    return Draft(
        "events",
        text,
        [],
        fallback,
        tuple(sorted({e["first_epoch"] for e in ev.parts.events})),
        tuple(sorted({name for e in ev.parts.events for name in e["layers"]})),
    )


def _healthy(ev: Evidence) -> Draft:
    v, t = ev.verdicts, ev.thresholds
    band = f"within {num(t.vanishing)}..{num(t.exploding)}"
    start = (
        f"first/last kernel-gradient ratio {num(v.grad_ratio[0])}, signal ratio "
        f"{num(v.signal_ratio[0])}, {band}"
    )
    if ev.snapshot:
        text = f"Gradients reach the first layer at the current weights ({start})"
    else:
        window = ev.parts.window
        clean = int(np.sum(v.record[window] == "healthy"))
        text = (
            f"Gradients reach the first layer at initialization ({start}) and through "
            f"training: {clean} of the last {len(window)} training records are healthy"
        )
        if clean < len(window):
            text += ", and no condition held in half of them (see the events)"
    text += "; no layer saturated or dead beyond its limit."
    fallback = "none needed."
    if _learned_nothing(ev):
        text += (
            " Yet the loss ends at the chance level: the gradient flow alone does not explain it."
        )
        fallback = "none for the gradient flow."
    return Draft("healthy", text, [], fallback)


def diagnose(ev: Evidence) -> list[Finding]:
    """All findings, most severe first (see the module docstring)."""
    reported = ev.reported()
    drafts: list[Draft | None] = []
    if "non-finite" in reported:
        drafts.append(nonfinite(ev))
    drafts.append(learning_rate(ev))
    if "exploding" in reported:
        drafts.append(exploding(ev))
    if "vanishing" in reported:
        drafts.append(vanishing(ev))
        drafts.append(_optimizer(ev))
    if "dead" in reported:
        drafts.append(dead(ev))
    if "saturated" in reported:
        drafts.append(saturated(ev))
    drafts.append(batchnorm_modes(ev))
    drafts.append(_plateau(ev))
    if ev.parts.headline == "healthy":
        drafts.insert(0, _healthy(ev))
    drafts.append(_events(ev))
    kept = [d for d in drafts if d is not None]
    groups = resolve([d.remedies for d in kept])
    return [
        Finding(
            d.kind,
            d.evidence,
            render(group, d.fallback),
            d.epochs,
            d.layers,
            tuple(r.key for r in group),
            tuple(c for r in group for c in r.changes if c[1]),
        )
        for d, group in zip(kept, groups, strict=True)
    ]
