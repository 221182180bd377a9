"""The recorded gradient-flow statistics: ``FlowHistory`` and its helpers.

Per row (a layer that owns a kernel) and batch the native pass records the
fields in ``FIELDS`` followed by ``HIST_BINS`` histogram counts (see
``cpp/network/stats.h``); ``aggregate`` turns a run of batches into one record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _core

__all__ = [
    "FIELDS",
    "FIELD_INDEX",
    "HIST_BINS",
    "FlowHistory",
    "RowInfo",
    "aggregate",
    "batch_update_ratios",
    "locate_nonfinite",
    "update_ratios",
]

#: Names of the recorded fields, in native order.
FIELDS: tuple[str, ...] = tuple(_core.STAT_FIELDS)
#: Number of histogram bins recorded per row.
HIST_BINS: int = int(_core.HIST_BINS)
#: Column of each field in a record.
FIELD_INDEX = {name: i for i, name in enumerate(FIELDS)}
_MAX_FIELDS = ("grad_max_abs",)
_SUM_FIELDS = ("grad_nonfinite", "signal_nonfinite", "act_nonfinite")


_COUNT_COLUMNS = [
    FIELD_INDEX[name] for name in ("act_nonfinite", "signal_nonfinite", "grad_nonfinite")
]
_SUM_COLUMNS = np.array(
    [FIELD_INDEX[name] for name in _SUM_FIELDS] + list(range(len(FIELDS), len(FIELDS) + HIST_BINS))
)


def _combine(block: np.ndarray) -> np.ndarray:
    """``(groups, batches, rows, width)`` -> ``(groups, rows, width)``: see ``aggregate``."""
    total = block.sum(axis=1)
    out = total / block.shape[1]
    out[:, :, _SUM_COLUMNS] = total[:, :, _SUM_COLUMNS]
    for name in _MAX_FIELDS:
        out[:, :, FIELD_INDEX[name]] = block[:, :, :, FIELD_INDEX[name]].max(axis=1)
    return out


def group_reduce(values: np.ndarray, starts: np.ndarray, reduce: Any) -> np.ndarray:
    """``reduce(block)`` over each group of consecutive entries of ``values``.

    Groups start at ``starts`` (increasing, the first 0) and run to the next
    start. Groups of the same size are reduced together as one
    ``(groups, size, ...)`` block, so the work is vectorized over groups (a
    run's epochs usually all have the same number of batches).
    """
    n = values.shape[0]
    counts = np.diff(np.r_[starts, n])
    first = reduce(values[:1][None])
    out = np.empty((len(starts), *first.shape[1:]), dtype=first.dtype)
    for size in np.unique(counts):
        sel = np.flatnonzero(counts == size)
        if sel.size * size == n:  # all groups alike: a free reshape
            block = values.reshape(sel.size, size, *values.shape[1:])
        else:
            block = values[starts[sel][:, None] + np.arange(size)]
        out[sel] = reduce(block)
    return out


def aggregate(batches: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray:
    """Combine per-batch records ``(batches, rows, width)`` into one ``(rows, width)``.

    Norms, means and fractions are averaged over the batches, maxima take the
    maximum, non-finite counts and histogram counts are summed. A NaN in any
    batch survives into the average, on purpose. With ``starts`` (the first
    batch of each group, increasing) every group of consecutive batches is
    combined at once: the result is ``(groups, rows, width)``.
    """
    if batches.shape[0] == 0:
        return np.full(batches.shape[1:], np.nan)
    if starts is None:
        return _combine(batches[None])[0]
    return group_reduce(batches, np.asarray(starts), _combine)


def batch_update_ratios(batches: np.ndarray) -> np.ndarray:
    """``||dW|| / ||W||`` per batch and row, ``(batches, rows)``, from per-batch records.

    A zero-norm kernel gives 0 for a zero step and inf for a non-zero one.
    """
    w = batches[:, :, FIELD_INDEX["weight_norm"]]
    u = batches[:, :, FIELD_INDEX["update_norm"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w > 0, u / np.where(w > 0, w, 1.0), np.where(u > 0, np.inf, 0.0))


def update_ratios(batches: np.ndarray) -> np.ndarray:
    """Mean over batches of ``||dW|| / ||W||`` per row, from per-batch records."""
    return batch_update_ratios(batches).mean(axis=0)


@dataclass
class RowInfo:
    """Static description of one statistics row.

    Attributes:
        name: layer name (``block/dense_3`` inside a residual block).
        activation: activation of the probed units.
        fan_in, fan_out: kernel shape.
        in_residual: whether the layer sits inside a residual block.
        hist_range: the histogram's ``(lo, hi)``.
        kernel_initializer, bias_initializer: serialized initializers
            (``{"class_name", "config"}``), None when not serializable or unused.
        normalized: a BatchNormalization sits between the kernel and the probe.
    """

    name: str
    activation: str
    fan_in: int
    fan_out: int
    in_residual: bool
    hist_range: tuple[float, float]
    kernel_initializer: dict[str, Any] | None = None
    bias_initializer: dict[str, Any] | None = None
    normalized: bool = False


@dataclass
class FlowHistory:
    """Everything a ``GradientFlow`` callback recorded.

    Attributes:
        rows: one ``RowInfo`` per layer that owns a kernel, input to output.
        stats: ``(records, rows, fields)`` statistics (names in ``FIELDS``).
        hist: ``(records, rows, HIST_BINS)`` activation histogram counts.
        update_ratio: ``(records, rows)`` mean ``||dW|| / ||W||`` of the steps taken.
            For the probe record (epoch 0) no step was taken: it holds the ratio
            of the first step a freshly started optimizer takes from the initial
            weights with the probe's gradient (see ``first_step_norms``).
        epoch: ``(records,)`` epoch of each record; 0 is the probe at initialization,
            ``k`` the end of the k-th epoch (Keras' "Epoch k/N").
        batch: ``(records,)`` batch index within the epoch, or -1 for epoch records.
        loss: ``(records,)`` training loss (the epoch mean, or the batch loss).
        logs: per-epoch logs as passed to ``on_epoch_end`` (index k-1 for epoch k).
        weights: ``(records, rows, k)`` sampled kernel entries when tracked, else None.
        optimizer: the optimizer's configuration and class name.
        loss_name: the model's loss.
        every: "epoch" or "batch".
        sample_x, sample_y: a sample of the training data (for Jacobians).
        first_nonfinite: where a NaN or Inf first appeared, or None (see
            ``locate_nonfinite``), to the batch even with ``every="epoch"``.
        structure: ``{"batchnorm", "residual", "dropout"}``: whether the model has
            such layers (decides whether mean-field theory applies).
        batch_size: the batch size the records were measured on (the fit's).
    """

    rows: list[RowInfo]
    stats: np.ndarray
    hist: np.ndarray
    update_ratio: np.ndarray
    epoch: np.ndarray
    batch: np.ndarray
    loss: np.ndarray
    logs: list[dict[str, float]] = field(default_factory=list)
    weights: np.ndarray | None = None
    optimizer: dict[str, Any] = field(default_factory=dict)
    loss_name: str = ""
    every: str = "epoch"
    sample_x: np.ndarray | None = None
    sample_y: np.ndarray | None = None
    first_nonfinite: dict[str, Any] | None = None
    structure: dict[str, bool] = field(default_factory=dict)
    batch_size: int = 32

    def field(self, name: str) -> np.ndarray:
        """``(records, rows)`` values of one field, e.g. ``"grad_norm"``."""
        if name == "update_ratio":
            return self.update_ratio
        if name not in FIELD_INDEX:
            raise KeyError(f"unknown field {name!r}; known: {', '.join(FIELDS)}, update_ratio")
        return self.stats[:, :, FIELD_INDEX[name]]

    @property
    def epoch_losses(self) -> np.ndarray:
        """Training loss per completed epoch (from the logs; NaN where missing)."""
        return np.array([float(g.get("loss", np.nan)) for g in self.logs], dtype=np.float64)


#: Statistics fields whose non-finite value marks where a NaN/Inf appeared,
#: with the words a finding uses for them.
_WHERE = {
    "act_nonfinite": "activations",
    "signal_nonfinite": "backpropagated signal",
    "grad_nonfinite": "kernel gradient",
    "weight_norm": "weights",
    "update_norm": "optimizer step",
}


def locate_nonfinite(batches: np.ndarray) -> tuple[int, int, str] | None:
    """``(batch, row, where)`` of the first NaN/Inf in per-batch records, or None.

    Within a batch the order is the computation's: the forward pass runs from
    input to output, so a non-finite activation is placed at the first row
    that shows one; otherwise the backward pass, running from output to input,
    made it, and it is placed at the last row with a non-finite signal or
    kernel gradient; otherwise the weights or the optimizer step (first row).
    """
    if np.isfinite(batches).all() and not batches[:, :, _COUNT_COLUMNS].any():
        return None
    counts = batches[:, :, _COUNT_COLUMNS]
    norms = batches[:, :, [FIELD_INDEX["weight_norm"], FIELD_INDEX["update_norm"]]]
    bad = (counts > 0).any(axis=(1, 2)) | ~np.isfinite(norms).all(axis=(1, 2))
    if not bad.any():
        return None
    b = int(np.argmax(bad))
    rec = batches[b]
    act = np.flatnonzero(rec[:, FIELD_INDEX["act_nonfinite"]] > 0)
    if act.size:
        return b, int(act[0]), _WHERE["act_nonfinite"]
    for name in ("signal_nonfinite", "grad_nonfinite"):
        rows = np.flatnonzero(rec[:, FIELD_INDEX[name]] > 0)
        if rows.size:
            return b, int(rows[-1]), _WHERE[name]
    for name in ("weight_norm", "update_norm"):
        rows = np.flatnonzero(~np.isfinite(rec[:, FIELD_INDEX[name]]))
        if rows.size:
            return b, int(rows[0]), _WHERE[name]
    return None
