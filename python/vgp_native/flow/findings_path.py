"""Findings about the path from the loss to the input: non-finite values, a
learning rate that blows the updates up, exploding and vanishing gradients.

Remedies follow the evidence:

- a NaN/Inf or an update as large as the weights: a smaller learning rate,
  gradient clipping;
- exploding gradients at initialization: smaller initial weights at the edge
  of chaos for the activation (Schoenholz et al. 2017), clipping, batch
  normalization, fewer layers;
- vanishing gradients: the cause the statistics show decides: units off for
  every input (a negative bias: start the biases at zero; dead relu: leaky_relu
  or elu), saturated units (a relu-family activation, batch normalization),
  sigmoid units that are not saturated but pass on at most 1/4 of the gradient
  per layer (Glorot & Bengio 2010: the activation itself), or healthy units
  and a shrinking signal (the weight scale, i.e. the initialization; He et al.
  2015), and always residual blocks (He et al. 2016) or batch normalization
  (Ioffe & Szegedy 2015).
"""

from __future__ import annotations

import math

import numpy as np

from .. import activations
from ._text import epochs_text, layer_text, num, pct
from .findings import Draft, Evidence, finite
from .remedies import Remedy, offer

__all__ = ["exploding", "learning_rate", "nonfinite", "vanishing"]


def _largest_update(ev: Evidence, upto: int | None = None) -> tuple[int, int, float] | None:
    """``(record, row, ratio)`` of the largest finite update ratio in training records."""
    recs = np.flatnonzero(ev.epoch > 0)
    if upto is not None:
        recs = recs[recs <= upto]
    if not recs.size:
        return None
    upd = np.where(np.isfinite(ev.update_ratio[recs]), ev.update_ratio[recs], -1.0)
    flat = int(np.argmax(upd))
    r, k = int(recs[flat // upd.shape[1]]), flat % upd.shape[1]
    value = float(ev.update_ratio[r, k])
    return (r, k, value) if value >= 0 else None


def nonfinite(ev: Evidence) -> Draft:
    epochs = ev.epochs_with("non-finite")
    loc = ev.first_nonfinite
    if loc is not None:
        where = ev.at(0) if ev.snapshot or loc["epoch"] == 0 else f"in epoch {loc['epoch']}"
        where += f", batch {loc['batch']}" if loc["batch"] >= 0 else ""
        text = f"NaN/Inf first appeared {where}, in the {loc['where']} of "
        text += layer_text(loc["row"], loc["name"])
        layers: tuple[str, ...] = (loc["name"],)
    else:
        text, layers = "NaN/Inf values appeared", ()
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
    net = ev.network
    remedies = offer(
        net.smaller_lr(),
        net.clipping(),
        Remedy(
            "terminate",
            "callbacks.TerminateOnNaN, which stops at the first non-finite step and keeps the "
            "weights from before it",
        ),
    )
    return Draft(
        "non-finite",
        f"{text}; statistics are non-finite {ev.when('non-finite')}{before}.",
        remedies,
        "see the learning-rate finding.",
        tuple(epochs),
        layers,
    )


def learning_rate(ev: Evidence) -> Draft | None:
    """Updates far larger than healthy training takes: the learning rate's doing."""
    t = ev.thresholds
    bad = [v for v in ("non-finite", "exploding") if ev.verdicts.records_with(v).size]
    train_bad = [int(r) for v in bad for r in ev.verdicts.records_with(v) if ev.epoch[r] > 0]
    first_bad = min(train_bad) if train_bad else None
    big = _largest_update(ev, first_bad)
    if big is None:
        return None
    r, k, u = big
    if not (u >= t.exploding_update or (first_bad is not None and u >= t.large_update)):
        return None
    lr = float(ev.optimizer.get("learning_rate", math.nan))
    then = ""
    if first_bad is not None and int(ev.epoch[first_bad]) >= int(ev.epoch[r]):
        kind = "non-finite" if ev.verdicts.present("non-finite")[first_bad] else "exploding"
        then = f"; the run turned {kind} {ev.at(first_bad)}"
    name = ev.rows[k].name
    return Draft(
        "learning-rate",
        f"One step changed {layer_text(k, name)} by {num(u)} of its norm ({ev.at(r)}; "
        f"||dW||/||W||), far above the 1e-3 per step of healthy training: the learning rate "
        f"({num(lr)}) is too large for this network{then}.",
        offer(ev.network.smaller_lr(), ev.network.clipping()),
        "lower the learning rate.",
        (int(ev.epoch[r]),),
        (name,),
    )


def _depth_text(ev: Evidence, r: int, grows: bool) -> str:
    """Why the depth criterion named the condition in record ``r``."""
    v, th = ev.verdicts, ev.theory
    h = ev.hidden
    sr = float(v.signal_ratio[r])
    moved = (
        f"the backpropagated signal at the first hidden layer is {num(sr)} of the last hidden "
        "layer's"
    )
    per = f"{num(float(v.signal_factor[r]))} per layer over {h - 1} layers"
    k = ev.thresholds.trainable_depth
    if th is not None:
        return (
            f"{moved} ({per}). Mean field (Schoenholz et al. 2017): {th['activation']} at "
            f"sigma_w^2 = {num(th['sigma_w2'])} has chi1 = {num(th['chi1'])}, so gradients "
            f"{'grow' if grows else 'shrink'} by sqrt(chi1) = {num(th['predicted_factor'])} per "
            f"layer and networks train up to about {num(k)} xi = "
            f"{num(k * th['depth_scale'])} layers; this one has {h} hidden layers"
        )
    return (
        f"{moved} ({per}): a change beyond e^3 over the network, which mean field puts past "
        f"its trainable depth of about {num(k)} xi (xi = 1/|ln f^2|; Schoenholz et al. 2017)"
    )


def exploding(ev: Evidence) -> Draft:
    t, v = ev.thresholds, ev.verdicts
    r = ev.part_record("exploding")
    parts = []
    if v.depth[r] == "exploding":
        parts.append(_depth_text(ev, r, grows=True))
    else:
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
    if ev.epoch[r] > 0 and np.nanmax(upd) > t.exploding_update:
        k = int(np.nanargmax(upd))
        parts.append(
            f"one step changes {layer_text(k, ev.rows[k].name)} by {num(upd[k])} of its norm"
        )
    if not parts:
        rows = v.rows_with("exploding", r)
        parts.append(f"{', '.join(ev.rows[k].name for k in rows)} grow far beyond the last layer")
    th = ev.theory
    scale = ""
    if th is not None and th["chi1"] > 1 and v.depth[r] != "exploding":
        scale = (
            f" Mean field: sigma_w^2 = {num(th['sigma_w2'])} gives chi1 = {num(th['chi1'])}, so "
            f"each layer multiplies the gradient by sqrt(chi1) = {num(th['predicted_factor'])}."
        )
    net = ev.network
    trainable = ev.theory["trainable_depth"] if ev.theory else None
    remedies = offer(
        net.critical_init(-1) if ev.epoch[r] == 0 else None,
        net.clipping(),
        net.batchnorm_layers() if ev.epoch[r] > 0 or v.depth[r] != "exploding" else None,
        net.fewer_layers(trainable) if v.depth[r] == "exploding" else None,
    )
    return Draft(
        "exploding",
        f"Gradients grow toward the input: {'; '.join(parts)} ({ev.at(r)}). Exploding "
        f"{ev.parts_text('exploding')}"
        + ("." if ev.snapshot else f": {epochs_text(ev.epochs_with('exploding'))}.")
        + scale,
        remedies,
        "see the learning-rate finding.",
        tuple(ev.epochs_with("exploding")),
    )


def _cause(ev: Evidence, r: int, with_theory: bool = True) -> tuple[str, list[Remedy]]:
    """Why the gradient vanished in record ``r``, and the remedies that follow."""
    t, net = ev.thresholds, ev.network
    hidden = list(range(ev.hidden))
    sat, dead = ev.field("saturated")[r], ev.field("dead")[r]
    facts = [activations.REGISTRY.get(ev.rows[k].activation) for k in hidden]
    sat_rows = [k for k in hidden if facts[k] and facts[k].family == "saturating"]
    dead_rows = [k for k in hidden if facts[k] and facts[k].dies]
    off = [k for k in dead_rows if dead[k] >= 1.0] or [k for k in dead_rows if dead[k] >= 0.9]
    if off:
        k = off[0]
        text = (
            f"{pct(dead[k])} of the relu units of {layer_text(k, ev.rows[k].name)} are off for "
            "every sample of a batch, so no gradient passes below them"
        )
        if net.bias_mean < 0:
            text += (
                f": the biases start at {num(net.bias_mean)}, below zero, which holds the "
                "pre-activations under the kink for most inputs"
            )
            return text + ".", offer(net.zero_bias(), net.leaky())
        return text + ".", offer(net.leaky(), net.relu_he(), net.smaller_lr())
    if sat_rows and sat[sat_rows].max() >= t.saturated:
        k = sat_rows[int(np.argmax(sat[sat_rows]))]
        return (
            f"{pct(sat[k])} of the {ev.rows[k].activation} outputs of "
            f"{layer_text(k, ev.rows[k].name)} are saturated (within 1e-2 of their bounds), "
            "where their derivative is nearly 0.",
            offer(net.relu_he(), net.batchnorm_layers(), net.critical_init(-1)),
        )
    th = ev.theory
    mf = ""
    if th is not None and with_theory:
        mf = (
            f" (mean field: chi1 = {num(th['chi1'])} at sigma_w^2 = {num(th['sigma_w2'])}, so "
            f"each layer passes on sqrt(chi1) = {num(th['predicted_factor'])} of the gradient; "
            f"measured {num(th['measured_signal_factor'])})"
        )
    acts = {ev.rows[k].activation for k in hidden}
    deep = offer(net.residual_blocks(), net.batchnorm_layers())
    if acts == {"sigmoid"}:
        return (
            f"The sigmoid units are not saturated (at most {pct(np.max(sat[hidden]))} per layer): "
            f"the gradient shrinks through the sigmoid's derivative itself, at most 0.25{mf}.",
            offer(net.relu_he(), *deep, net.fewer_layers(th["trainable_depth"] if th else None)),
        )
    return (
        f"The units are working (at most {pct(np.max(sat[hidden]))} saturated, "
        f"{pct(np.max(dead[hidden]))} off for a whole batch), so the signal shrinks through the "
        f"weights: the initialization sets the scale{mf}.",
        offer(net.critical_init(+1), *deep),
    )


def vanishing(ev: Evidence) -> Draft:
    t, v = ev.thresholds, ev.verdicts
    r = ev.part_record("vanishing")
    first, last = ev.rows[0], ev.rows[-1]
    gr, sr = float(v.grad_ratio[r]), float(v.signal_ratio[r])
    kernel = (
        f"the first layer's kernel gradient ({layer_text(0, first.name)}) is {num(gr)} of the "
        f"last layer's ({layer_text(len(ev.rows) - 1, last.name)})"
    )
    signal = (
        f"the backpropagated signal at the first hidden layer's output is {num(sr)} of the last "
        "hidden layer's"
    )
    where = "" if ev.snapshot else f", {ev.at(r)}"
    if v.depth[r] == "vanishing":
        text = (
            f"The gradient fades on its way to the input: {_depth_text(ev, r, grows=False)}{where}"
        )
    elif sr < t.vanishing and not gr < t.vanishing:
        text = (
            f"The backpropagated signal dies on its way to the input: {signal} (limit "
            f"{num(t.vanishing)}{where}), although {kernel}: the activations shrink layer by "
            "layer on the way out as the signal does on the way in, so their products, the "
            "kernel gradients, look even (Glorot & Bengio 2010)"
        )
    else:
        text = f"The gradient dies on its way to the input: {kernel}"
        if ev.hidden >= 2 and not math.isnan(sr):
            text += f", and {signal}"
        text += f" (limit {num(t.vanishing)}{where})"
    text += f". Vanishing {ev.parts_text('vanishing')}"
    text += "." if ev.snapshot else f": {epochs_text(ev.epochs_with('vanishing'))}."
    if not ev.snapshot and ev.parts.training == "healthy" and len(ev.epoch) > 1:
        e = int(ev.epoch[-1])
        text += (
            f" Training recovered: by epoch {e} the ratios were {num(v.grad_ratio[-1])} and "
            f"{num(v.signal_ratio[-1])}."
        )
    cause, remedies = _cause(ev, r, with_theory=v.depth[r] != "vanishing")
    return Draft(
        "vanishing",
        f"{text} {cause}",
        remedies,
        "the network already has the remedies this cause calls for; see the other findings.",
        tuple(ev.epochs_with("vanishing")),
        (first.name,),
    )
