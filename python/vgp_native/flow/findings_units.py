"""Findings about units: dead relu units, saturated sigmoid/tanh units, and a
batch-normalized network whose inference mode disagrees with its training mode.

- dead: a negative bias that keeps the units off (start the biases at zero), a
  step that switched them off (a smaller learning rate), else leaky_relu or elu
  and He initialization;
- saturated: weights too large for the activation (smaller initial weights at
  the edge of chaos), else a relu-family activation or batch normalization;
- batch-norm modes: the moving statistics lag the weights (a lower momentum).
"""

from __future__ import annotations

import math

import numpy as np

from ._text import layer_text, num, pct
from .findings import Draft, Evidence
from .thresholds import dead_limit

__all__ = ["batchnorm_modes", "dead", "saturated"]


def _worst(ev: Evidence, verdict: str) -> tuple[int, int]:
    """``(record, row)``: the part's record and its row with the largest value of ``verdict``."""
    r = ev.part_record(verdict)
    rows = ev.verdicts.rows_with(verdict, r)
    values = ev.field(verdict)[r]
    return r, int(rows[np.argmax(values[rows])]) if rows.size else 0


def _layers_with(ev: Evidence, verdict: str) -> tuple[str, ...]:
    v = ev.verdicts
    return tuple(
        sorted(
            {ev.rows[k].name for r in v.records_with(verdict) for k in v.rows_with(verdict, int(r))}
        )
    )


def dead(ev: Evidence) -> Draft:
    r, k = _worst(ev, "dead")
    row = ev.rows[k]
    value = float(ev.field("dead")[r, k])
    limit = dead_limit(row.fan_out, ev.thresholds)
    net = ev.network
    text = (
        f"{pct(value)} of the {row.fan_out} relu units of {layer_text(k, row.name)} are off for "
        f"every sample of a batch {ev.parts_text('dead')} ({ev.at(r)}); a healthy layer of that "
        f"width has at most {pct(limit)} off (half, the mean-field limit, plus three binomial "
        "standard deviations). Off units pass no gradient and cannot recover"
    )
    text += (
        ": with all of them off, no gradient passes below this layer at all."
        if value >= 1.0
        else "."
    )
    if net.bias_mean < 0:
        text += (
            f" Cause: the biases start at {num(net.bias_mean)}, below zero, which holds the "
            "pre-activations under the kink for most inputs."
        )
        remedies = [x for x in (net.zero_bias(), net.leaky()) if x is not None]
    else:
        big = ev.update_ratio[(ev.epoch > 0) & (ev.epoch <= ev.epoch[r])]
        largest = float(np.nanmax(big)) if big.size and np.isfinite(big).any() else math.nan
        if largest >= ev.thresholds.large_update:
            text += (
                f" Cause: steps as large as {num(largest)} of a layer's norm (||dW||/||W||) came "
                "before: one large step can switch a unit off for every input."
            )
            remedies = [net.smaller_lr()]
        else:
            remedies = [x for x in (net.leaky(), net.relu_he()) if x is not None]
    return Draft(
        "dead",
        text,
        remedies,
        "the units are leaky already; look at the learning rate and the data's scale.",
        tuple(ev.epochs_with("dead")),
        _layers_with(ev, "dead"),
    )


def saturated(ev: Evidence) -> Draft:
    r, k = _worst(ev, "saturated")
    row = ev.rows[k]
    value = float(ev.field("saturated")[r, k])
    net = ev.network
    th = ev.theory
    text = (
        f"{pct(value)} of the {row.activation} outputs of {layer_text(k, row.name)} are within "
        f"1e-2 of their bounds {ev.parts_text('saturated')} ({ev.at(r)}), where the derivative "
        "is below 0.02: the layer passes on little of the gradient it receives."
    )
    remedies = []
    if th is not None and th["chi1"] > 1.0:
        text += (
            f" Cause: weights too large for {th['activation']} (sigma_w^2 = "
            f"{num(th['sigma_w2'])}, chi1 = {num(th['chi1'])} > 1)."
        )
        remedies.append(net.critical_init(-1))
    remedies += [net.relu_he(), net.batchnorm_layers()]
    return Draft(
        "saturated",
        text,
        [x for x in remedies if x is not None],
        "the network already has the usual remedies; lower the learning rate.",
        tuple(ev.epochs_with("saturated")),
        _layers_with(ev, "saturated"),
    )


def batchnorm_modes(ev: Evidence) -> Draft | None:
    """Inference-mode accuracy far below training-mode accuracy on the same data."""
    m = ev.modes
    if not m or m.get("metric") is None:
        return None
    train, infer = float(m["train_metric"]), float(m["infer_metric"])
    if not (math.isfinite(train) and math.isfinite(infer)):
        return None
    if train - infer <= ev.thresholds.batchnorm_gap:
        return None
    return Draft(
        "batchnorm",
        f"On the same {m['samples']} training samples, inference mode (the moving batch-norm "
        f"statistics, as evaluate and predict use) gives {m['metric']} {pct(infer)} and loss "
        f"{num(m['infer_loss'])}, against {pct(train)} and {num(m['train_loss'])} in training "
        "mode (each batch's own statistics): the moving averages disagree with the statistics "
        "the network was trained with (Ioffe & Szegedy 2015, section 3.1), so the trained "
        "network is not the one that predicts.",
        [ev.network.bn_momentum()],
        "lower the batch-norm momentum.",
    )
