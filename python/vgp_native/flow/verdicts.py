"""Verdicts: which condition each recorded gradient-flow statistic shows.

A record holds, per row (a layer with a kernel, input to output), the
statistics of ``vgp_native.flow.recording``, every record measured the same
way: over a batch of the training batch size (the probe at initialization
averages such batches). From one record:

- ``grad_ratio = ||dL/dW_1|| / ||dL/dW_L||``: the first row's kernel-gradient
  L2 norm over the last (output) row's.
- ``signal_ratio = ||dL/dh_1|| / ||dL/dh_H||``: the backpropagated signal at
  the first hidden row's output over the last hidden row's (row ``H = L - 1``).
  Glorot & Bengio (2010) show the signal can vanish while the kernel gradients
  look flat (with relu and Glorot weights the forward activations shrink layer
  by layer as fast as the backward signal grows), so both ratios are judged.

Conditions of a record, most severe first (``VERDICTS``):

==========  ==================================================================
non-finite  a NaN or Inf in a kernel gradient, signal, activation, weight or
            update (the record is then judged non-finite and nothing else)
exploding   ``grad_ratio > exploding`` or ``signal_ratio > exploding`` (1e3), a
            kernel-gradient norm above ``exploding_grad_norm``, or, in training,
            an update ``||dW|| / ||W|| > exploding_update``; at initialization
            also the depth criterion below
vanishing   ``grad_ratio < vanishing`` or ``signal_ratio < vanishing`` (1e-3, the
            seed document's "0.1 x 0.1 x 0.1"), a zero first-layer gradient
            under a non-zero last one; at initialization also the depth
            criterion below
dead        a relu layer whose units are off for every sample of a batch
            beyond what a healthy layer shows (see ``dead_limit``); a layer
            with all its units off cuts the gradient to exactly zero below
            it, and that is this condition, not a vanishing one
saturated   a sigmoid/tanh layer with at least ``saturated`` (0.9) of its
            outputs within 1e-2 of the bounds
healthy     none of the above
==========  ==================================================================

Vanishing and exploding are conditions of the path from the loss to the input,
so a record shows them through its first row; rows further up are marked where
their own ratio is beyond the band in such a record (a single middle row beyond
the band, the first row within it, is not a vanishing gradient).

Depth criterion (initialization only; mean-field theory describes random
networks, not trained ones). Schoenholz et al. (2017) found plain networks
train up to about ``6 xi`` layers, ``xi = 1 / |ln chi1|`` the depth over which
the squared gradient changes by ``e``; in a residual stream each block
multiplies it by ``1 + chi_branch`` instead (Yang & Schoenholz 2017), which
makes deep residual networks with He weights and no normalization explode.
In a network without batch normalization with ``H`` hidden layers the signal
crosses ``H - 1`` layers:

- where mean-field theory applies (one activation, an initializer of known
  variance: ``decay.theory_comparison``) the network is judged as the theory
  judges it, ``H > 6 xi``, provided the measured signal moves the way theory
  says by at least ``depth_agreement`` e-folds (the numbers must show it);
- elsewhere the measured per-layer factor ``f`` (least-squares fit of
  ``ln ||dL/dh||`` over the hidden rows) is used: ``H - 1 > 6 xi_f`` with
  ``xi_f = 1 / |2 ln f|``, i.e. the fitted decay over the stack beyond
  ``e^3`` (20x) either way.

A 30-layer tanh network with ``sigma_w^2 = 4`` per fan-in (chi1 = 1.36,
``6 xi = 19``) grows its signal about 20-200x over the stack, inside the
1e-3..1e3 band, and is exploding by this criterion; a 30-layer relu network
with He weights (chi1 = 1) is not, whatever its finite-width wobble.

Dead: a relu unit is off for a whole batch when its pre-activation is negative
for every sample. At initialization (mean field: zero-mean Gaussian
pre-activations whose correlation across inputs grows toward 1 with depth) this
happens to at most half the units, the fully correlated limit; over a layer of
``n`` units the count varies binomially by ``sqrt(n) / 2``. A layer is dead when
its off fraction exceeds ``dead`` (0.5) by more than ``dead_sigmas`` (3)
binomial standard deviations: all 10 units at width 10, 77 % at width 32, 69 %
at 64. Only activations with a zero derivative on their off side can die
(relu); leaky_relu, elu and selu pass a gradient there.

Saturated: at least ``saturated`` (0.9) of the layer's outputs within 1e-2 of a
bound, where the derivative is below 0.02. Below that the gradient through the
layer is ``W^T diag(phi')``: large weights make up for small derivatives
(mean field: ``chi1 = sigma_w^2 E[phi'^2]``), and in the calibration corpus
(``bench/verdict_corpus.py``) sigmoid networks with three quarters of their
outputs saturated trained to 98-100 %. Not judged on an output row whose
loss is fused with its activation (the gradient stays exact there), nor on
units inside a residual block's branch for either condition: the identity
path carries the gradient past them (He et al. 2016).

The two parts of a run's verdict (DESIGN.md "flow"): the initial verdict is the
probe's (record 0, before the first update); the training verdict is the most
severe condition present in at least half (``persistence``) of the last
``window`` training records (all of them when there are fewer), or the
non-finite condition of a run that ended non-finite; the headline verdict is
the more severe of the two. Conditions seen in some records that neither part
reports are events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import activations
from .history import RowInfo
from .thresholds import DepthContext, Thresholds, dead_limit

__all__ = [
    "SEVERITY",
    "VERDICTS",
    "DepthContext",
    "RecordVerdicts",
    "Thresholds",
    "dead_limit",
    "judge",
    "most_severe",
    "severity",
]

#: Verdicts from the most to the least severe.
VERDICTS: tuple[str, ...] = (
    "non-finite",
    "exploding",
    "vanishing",
    "dead",
    "saturated",
    "healthy",
)
#: Larger is more severe.
SEVERITY: dict[str, int] = {v: len(VERDICTS) - 1 - i for i, v in enumerate(VERDICTS)}
_COL = {v: i for i, v in enumerate(VERDICTS)}

#: Losses whose output activation is fused into the loss (the gradient at the
#: logits is exact however saturated the output unit is).
FUSED_OUTPUTS = {
    "binary_crossentropy": "sigmoid",
    "categorical_crossentropy": "softmax",
    "sparse_categorical_crossentropy": "softmax",
}


def severity(verdict: str) -> int:
    """Rank of a verdict: 0 for healthy, 5 for non-finite."""
    return SEVERITY[verdict]


def most_severe(verdicts: Any) -> str:
    """The most severe of ``verdicts`` ("healthy" when there are none)."""
    return max(verdicts, key=severity, default="healthy")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den elementwise; 0/0 is NaN, x/0 is inf, NaN stays NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(num, dtype=np.float64) / np.asarray(den, dtype=np.float64)


@dataclass
class RecordVerdicts:
    """Ratios and verdicts of every record.

    Attributes:
        grad_ratio: ``(records,)`` first-row over last-row kernel-gradient norm.
        signal_ratio: ``(records,)`` first-hidden over last-hidden signal norm
            (NaN when there is no hidden row).
        signal_factor: ``(records,)`` the per-layer factor of the signal on its way
            to the input, ``signal_ratio ** (1 / (H - 1))`` (NaN for fewer than
            two hidden rows).
        depth: ``(records,)`` "vanishing" or "exploding" where the depth criterion
            alone named the condition (initial records only), else "".
        rel_grad: ``(records, rows)`` each row's kernel-gradient norm over the
            output row's.
        rel_signal: ``(records, rows)`` each row's signal norm over the last hidden
            row's (NaN on the output row).
        conditions: ``(records, rows, 6)`` booleans, one column per verdict in
            ``VERDICTS`` order (the healthy column is set when no other is).
        layer: ``(records, rows)`` per-row verdicts (the most severe condition).
        record: ``(records,)`` per-record verdicts.
    """

    grad_ratio: np.ndarray
    signal_ratio: np.ndarray
    signal_factor: np.ndarray
    depth: np.ndarray
    rel_grad: np.ndarray
    rel_signal: np.ndarray
    conditions: np.ndarray
    layer: np.ndarray
    record: np.ndarray

    def present(self, verdict: str) -> np.ndarray:
        """``(records,)`` booleans: the record shows ``verdict`` in some row."""
        return self.conditions[:, :, _COL[verdict]].any(axis=1)

    def records_with(self, verdict: str) -> np.ndarray:
        """Indices of the records in which any row shows ``verdict``."""
        return np.flatnonzero(self.present(verdict))

    def rows_with(self, verdict: str, record: int) -> np.ndarray:
        """Indices of the rows showing ``verdict`` in one record."""
        return np.flatnonzero(self.conditions[record, :, _COL[verdict]])


def _depth_condition(log_total: float, hidden: int, ctx: DepthContext, t: Thresholds) -> str:
    """ "vanishing", "exploding" or "" from the signal's log change over the hidden stack."""
    if not (ctx.applies and hidden >= 2 and math.isfinite(log_total)):
        return ""
    if ctx.chi1 is not None and ctx.depth_scale is not None:
        if not hidden > t.trainable_depth * ctx.depth_scale:
            return ""
        if ctx.chi1 < 1.0 and log_total < -t.depth_agreement:
            return "vanishing"
        if ctx.chi1 > 1.0 and log_total > t.depth_agreement:
            return "exploding"
        return ""
    # hidden - 1 layers crossed > 6 xi, xi = 1 / |2 ln f| with ln f = log_total / (hidden - 1)
    if 2.0 * abs(log_total) > t.trainable_depth:
        return "vanishing" if log_total < 0 else "exploding"
    return ""


def judge(
    field: Any,
    update_ratio: np.ndarray,
    rows: list[RowInfo],
    thresholds: Thresholds,
    loss_name: str = "",
    *,
    initial: np.ndarray | None = None,
    depth: DepthContext | None = None,
) -> RecordVerdicts:
    """Ratios and verdicts of ``(records, rows)`` statistics (see the module docstring).

    Args:
        field: ``name -> (records, rows)`` array accessor (e.g. ``FlowHistory.field``).
        update_ratio: ``(records, rows)`` ``||dW|| / ||W||``.
        rows: the statistics rows (activation, width, residual membership).
        thresholds: the limits.
        loss_name: the model's loss; an output row fused with it is not judged
            for saturation.
        initial: ``(records,)`` booleans: records of the network as initialized
            (judged with the depth criterion; their update ratio is a simulated
            first step and not judged). Default: none.
        depth: the network's ``DepthContext`` (default: no depth criterion).
    """
    t = thresholds
    grad = np.asarray(field("grad_norm"), dtype=np.float64)
    signal = np.asarray(field("signal_norm"), dtype=np.float64)
    update = np.asarray(update_ratio, dtype=np.float64)
    n_rec, n_rows = grad.shape
    hidden = n_rows - 1
    init = np.zeros(n_rec, dtype=bool) if initial is None else np.asarray(initial, dtype=bool)
    rel_grad = _ratio(grad, grad[:, -1:])
    if n_rows >= 2:
        rel_signal = _ratio(signal, signal[:, -2:-1])
        rel_signal[:, -1] = np.nan
        signal_ratio = rel_signal[:, 0].copy()
    else:
        rel_signal = np.full_like(grad, np.nan)
        signal_ratio = np.full(n_rec, np.nan)
    grad_ratio = rel_grad[:, 0].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_total = np.log(signal_ratio) if hidden >= 2 else np.full(n_rec, np.nan)
        signal_factor = np.exp(log_total / (hidden - 1)) if hidden >= 2 else log_total

    bad_counts = (
        np.asarray(field("grad_nonfinite"))
        + np.asarray(field("signal_nonfinite"))
        + np.asarray(field("act_nonfinite"))
    )
    judged_update = np.where(init[:, None], 0.0, update)
    values = np.stack([grad, signal, np.asarray(field("weight_norm")), judged_update], axis=-1)
    nonfinite = (bad_counts > 0) | ~np.isfinite(values).all(axis=-1)

    facts = [activations.REGISTRY.get(r.activation) for r in rows]
    outside = np.array([not r.in_residual for r in rows], dtype=bool)
    can_die = np.array([f is not None and f.dies for f in facts], dtype=bool) & outside
    bounded = (
        np.array([f is not None and f.family == "saturating" for f in facts], dtype=bool) & outside
    )
    if n_rows and FUSED_OUTPUTS.get(loss_name) == rows[-1].activation:
        bounded[-1] = False
    with np.errstate(invalid="ignore"):
        path_exploding = (grad_ratio > t.exploding) | (signal_ratio > t.exploding)
        path_vanishing = (grad_ratio < t.vanishing) | (signal_ratio < t.vanishing)
        path_vanishing |= (grad[:, 0] == 0.0) & (grad[:, -1] > 0.0)
        # A layer whose units are all off for the whole batch cuts the gradient to
        # exactly zero below it: that is the dead condition, not a vanishing one.
        all_off = (can_die[None, :] & (np.asarray(field("dead")) >= 1.0)).any(axis=1)
        cut = (grad[:, 0] == 0.0) | (signal_ratio == 0.0)
        path_vanishing &= ~(all_off & cut)
        ctx = depth or DepthContext(applies=False)
        # The depth criterion, where the band has not already named the condition.
        depth_names = np.array(
            [
                _depth_condition(float(log_total[r]), hidden, ctx, t)
                if init[r] and not (path_exploding[r] or path_vanishing[r])
                else ""
                for r in range(n_rec)
            ],
            dtype=object,
        )
        path_exploding |= depth_names == "exploding"
        path_vanishing |= depth_names == "vanishing"
        beyond_hi = (rel_grad > t.exploding) | (rel_signal > t.exploding)
        beyond_lo = (rel_grad < t.vanishing) | (rel_signal < t.vanishing)
        exploding = path_exploding[:, None] & beyond_hi
        exploding[:, 0] |= path_exploding
        exploding |= grad > t.exploding_grad_norm
        exploding |= ~init[:, None] & (update > t.exploding_update)
        vanishing = path_vanishing[:, None] & beyond_lo
        vanishing[:, 0] |= path_vanishing

    limits = np.array([dead_limit(r.fan_out, t) for r in rows])
    dead = can_die[None, :] & (np.asarray(field("dead")) > limits[None, :] - 1e-12)
    saturated = bounded[None, :] & (np.asarray(field("saturated")) >= t.saturated)
    conditions = np.stack(
        [nonfinite, exploding, vanishing, dead, saturated, np.zeros_like(nonfinite)], axis=-1
    )
    # A record holding a NaN/Inf is judged non-finite and nothing else: its
    # other numbers come from a pass that had already broken down.
    conditions[nonfinite.any(axis=1), :, 1:] = False
    conditions[:, :, -1] = ~conditions[:, :, :-1].any(axis=-1)
    first = np.argmax(conditions, axis=-1)  # the first True column is the most severe
    names = np.array(VERDICTS, dtype=object)
    layer = names[first] if first.size else np.empty((n_rec, n_rows), dtype=object)
    record = names[first.min(axis=1)] if n_rows else np.array(["healthy"] * n_rec, dtype=object)
    depth_names[nonfinite.any(axis=1)] = ""
    return RecordVerdicts(
        grad_ratio=grad_ratio,
        signal_ratio=signal_ratio,
        signal_factor=signal_factor,
        depth=depth_names,
        rel_grad=rel_grad,
        rel_signal=rel_signal,
        conditions=conditions,
        layer=layer,
        record=record,
    )
