"""Verdicts: which condition each recorded gradient-flow statistic shows.

A record holds, per row (a layer with a kernel, input to output), the
statistics of ``vgp_native.flow.recording``. From one record:

- ``grad_ratio = ||dL/dW_1|| / ||dL/dW_L||``: the first row's kernel-gradient
  L2 norm over the last (output) row's.
- ``signal_ratio = ||dL/dh_1|| / ||dL/dh_{L-1}||``: the backpropagated signal at
  the first hidden row's output over the last hidden row's (the row before the
  output row). Glorot & Bengio (2010) show the signal can vanish while the
  kernel gradients look flat: with relu and Glorot weights the forward
  activations shrink layer by layer exactly as fast as the backward signal
  grows, so ``||a_{l-1}|| ||delta_l||`` stays even. Both ratios are judged.

Per row ``l`` the same comparisons are made against the output row (kernel
gradient) and the last hidden row (signal), and a verdict is given, the most
severe that applies, in the order (most severe first) of ``VERDICTS``:

==========  ==================================================================
non-finite  a NaN or Inf in the row's kernel gradient, signal, activations,
            weights or update
exploding   ``g_l / g_L > exploding`` or ``s_l / s_{L-1} > exploding``, or
            ``g_l > exploding_grad_norm``, or ``||dW|| / ||W|| > exploding_update``
vanishing   ``g_l / g_L < vanishing`` or ``s_l / s_{L-1} < vanishing``
dead        relu-family units with ``dead >= dead`` (units off for every sample)
saturated   sigmoid/tanh units with ``saturated >= saturated`` (within 1e-2 of
            the bounds); not judged on an output row whose loss is fused
            with its activation (the gradient stays exact there)
healthy     none of the above
==========  ==================================================================

A record's verdict is the most severe of its rows'; a run's is the most severe
of its records' (DESIGN.md "flow"). A record with a NaN or Inf anywhere is
judged non-finite and nothing else: its other numbers come from a pass that
had already broken down.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import activations
from .._validation import check_float, check_int

__all__ = ["SEVERITY", "VERDICTS", "RecordVerdicts", "Thresholds", "judge", "severity"]

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


@dataclass(frozen=True)
class Thresholds:
    """Documented, configurable limits of the verdicts and findings.

    Attributes:
        vanishing: gradient or signal ratio below this is vanishing (1e-3: the
            first layer learns a thousand times slower than the last).
        exploding: ratio above this is exploding (the mirror, 1e3).
        exploding_grad_norm: a kernel-gradient L2 norm above this is exploding
            whatever the ratios (the loss is a batch mean, so healthy norms are
            O(1) or less; 1e6).
        exploding_update: an update ratio ``||dW|| / ||W||`` above this is
            exploding: one step as large as the weights themselves (1.0).
        saturated: fraction of sigmoid/tanh outputs within 1e-2 of their bounds at
            or above which a row is saturated (0.5).
        dead: fraction of relu-family units off for every sample of the batch at
            or above which a row is dead (0.5).
        frozen_update: update ratio per step below which a layer's weights count
            as frozen (1e-5: a thousand steps change them by less than 1%).
        plateau_epochs: the loss plateaus when it changes by less than
            ``plateau_tol`` over the last ``plateau_epochs`` epochs (10).
        plateau_tol: see ``plateau_epochs``; relative to the chance-level loss
            (1e-2: for binary cross-entropy 0.007 nats).
        chance_tol: a loss within this fraction of the chance-level loss (the
            loss of predicting the label frequencies, ln 2 for balanced binary
            labels) counts as "at chance" (0.05).
        degradation_margin: ``compare_depths`` reports degradation when the deeper
            network's final loss exceeds the shallower one's by more than this
            fraction (0.1) of the chance-level loss.
    """

    vanishing: float = 1e-3
    exploding: float = 1e3
    exploding_grad_norm: float = 1e6
    exploding_update: float = 1.0
    saturated: float = 0.5
    dead: float = 0.5
    frozen_update: float = 1e-5
    plateau_epochs: int = 10
    plateau_tol: float = 1e-2
    chance_tol: float = 0.05
    degradation_margin: float = 0.1

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "plateau_epochs":
                check_int(value, f.name, minimum=1)
            elif f.name in ("saturated", "dead"):
                check_float(value, f.name, minimum=0.0, maximum=1.0, min_inclusive=False)
            else:
                check_float(value, f.name, minimum=0.0, min_inclusive=False)
        if self.vanishing >= self.exploding:
            raise ValueError(
                f"vanishing ({self.vanishing}) must be below exploding ({self.exploding})"
            )

    @classmethod
    def of(cls, thresholds: Thresholds | None = None, **overrides: Any) -> Thresholds:
        """``thresholds`` (default ``Thresholds()``) with keyword overrides.

        Raises:
            TypeError: an override names no threshold.
        """
        base = thresholds if thresholds is not None else cls()
        if not isinstance(base, cls):
            raise TypeError(f"thresholds must be a Thresholds, received {base!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(
                f"unknown threshold(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        return dataclasses.replace(base, **overrides) if overrides else base


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
    rel_grad: np.ndarray
    rel_signal: np.ndarray
    conditions: np.ndarray
    layer: np.ndarray
    record: np.ndarray

    def overall(self) -> str:
        """The most severe verdict over all records ("healthy" with none)."""
        if self.record.size == 0:
            return "healthy"
        return max(self.record.tolist(), key=severity)

    def records_with(self, verdict: str) -> np.ndarray:
        """Indices of the records in which any row shows ``verdict``."""
        col = VERDICTS.index(verdict)
        return np.flatnonzero(self.conditions[:, :, col].any(axis=1))

    def rows_with(self, verdict: str, record: int) -> np.ndarray:
        """Indices of the rows showing ``verdict`` in one record."""
        return np.flatnonzero(self.conditions[record, :, VERDICTS.index(verdict)])


def judge(
    field: Any,
    update_ratio: np.ndarray,
    acts: list[str],
    thresholds: Thresholds,
    loss_name: str = "",
) -> RecordVerdicts:
    """Ratios and verdicts of ``(records, rows)`` statistics.

    Args:
        field: ``name -> (records, rows)`` array accessor (e.g. ``FlowHistory.field``).
        update_ratio: ``(records, rows)`` ``||dW|| / ||W||``.
        acts: activation of each row's probed units.
        thresholds: the limits.
        loss_name: the model's loss; an output row fused with it is not judged
            for saturation.
    """
    t = thresholds
    grad = np.asarray(field("grad_norm"), dtype=np.float64)
    signal = np.asarray(field("signal_norm"), dtype=np.float64)
    n_rec, n_rows = grad.shape
    rel_grad = _ratio(grad, grad[:, -1:])
    if n_rows >= 2:
        rel_signal = _ratio(signal, signal[:, -2:-1])
        rel_signal[:, -1] = np.nan
        signal_ratio = rel_signal[:, 0].copy()
    else:
        rel_signal = np.full_like(grad, np.nan)
        signal_ratio = np.full(n_rec, np.nan)
    grad_ratio = rel_grad[:, 0].copy()

    bad_counts = (
        np.asarray(field("grad_nonfinite"))
        + np.asarray(field("signal_nonfinite"))
        + np.asarray(field("act_nonfinite"))
    )
    values = np.stack(
        [grad, signal, np.asarray(field("weight_norm")), np.asarray(update_ratio, float)], axis=-1
    )
    nonfinite = (bad_counts > 0) | ~np.isfinite(values).all(axis=-1)
    with np.errstate(invalid="ignore"):
        exploding = (
            (rel_grad > t.exploding)
            | (rel_signal > t.exploding)
            | (grad > t.exploding_grad_norm)
            | (np.asarray(update_ratio) > t.exploding_update)
        )
        vanishing = (rel_grad < t.vanishing) | (rel_signal < t.vanishing)
    relu_rows = np.array([a in activations.RELU_FAMILY for a in acts], dtype=bool)
    sat_rows = np.array([a in activations.SATURATING for a in acts], dtype=bool)
    if n_rows and FUSED_OUTPUTS.get(loss_name) == acts[-1]:
        sat_rows[-1] = False
    dead = relu_rows[None, :] & (np.asarray(field("dead")) >= t.dead)
    saturated = sat_rows[None, :] & (np.asarray(field("saturated")) >= t.saturated)
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
    if n_rows:
        record = names[first.min(axis=1)]
    else:
        record = np.array(["healthy"] * n_rec, dtype=object)
    return RecordVerdicts(
        grad_ratio=grad_ratio,
        signal_ratio=signal_ratio,
        rel_grad=rel_grad,
        rel_signal=rel_signal,
        conditions=conditions,
        layer=layer,
        record=record,
    )


def finite_or_none(value: float) -> float | None:
    """``value`` as a float, or None when it is NaN."""
    value = float(value)
    return None if math.isnan(value) else value
