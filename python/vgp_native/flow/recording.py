"""Recording gradient-flow statistics during training.

The native training pass computes, for every layer that owns a kernel (a
"row") and every batch: the kernel gradient's L2 norm, mean and max
magnitude and non-finite count, the kernel's norm, the norm of the optimizer
step actually taken, the backpropagated signal ``||dL/dh||`` at the layer's
output, and the mean, spread, saturated fraction, dead-unit fraction and a
20-bin histogram of the activations there. ``GradientFlow`` collects them
into a ``FlowHistory``: one record at initialization (epoch 0, a probe pass
at the initial weights, since the network as initialized often decides
trainability) and then one per epoch, measured on the epoch's first batch
(or one per batch, every batch measured, with ``every="batch"``).
Recording is switched on only while a ``GradientFlow`` callback listens; a
plain ``fit`` computes none of it.

The Python side stays off the per-epoch path: ``fit`` hands the per-batch
records over many epochs at a time (``_engine.feed.FlowFeed``), ``on_epoch_end`` only
keeps the epoch's logs, and the records are folded (averaged, maxima, summed
counts, update ratios, the NaN scan) in vectorized chunks of up to
``FLUSH_BATCHES`` batches and when the history is built. ``on_train_begin``
only takes the initial weights and references to what else the probe and the
history need; the probe pass and the ``FlowHistory`` are computed when
``history`` or ``report()`` is first asked for, with the same numbers as if
they had been computed inside ``fit``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .first_step import first_step_norms
from .history import (
    FIELDS,
    HIST_BINS,
    FlowHistory,
    RowInfo,
    aggregate,
    batch_update_ratios,
    group_reduce,
    locate_nonfinite,
    update_ratios,
)
from .layout import Layout, row_infos
from .probe import InitialState, probe_record, sample_rows

__all__ = [
    "FIELDS",
    "HIST_BINS",
    "FlowHistory",
    "Recording",
    "RowInfo",
    "aggregate",
    "first_step_norms",
    "locate_nonfinite",
    "probe_record",
    "row_infos",
    "sample_rows",
    "update_ratios",
]


#: Per-batch records kept before they are folded into epoch records.
FLUSH_BATCHES = 4096

# One folded run of epochs: stats, update ratios, epochs, batches, losses and
# sampled weights (None when weights are not tracked), the FlowHistory arrays.
_Parts = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


class Recording:
    """The recording of one ``fit``: what ``on_train_begin`` took and the epochs so far.

    Two streams meet here, in epoch order: the per-batch records ``fit``
    hands over some epochs at a time (``receive``), and each epoch's end (its
    loss and sampled weights, ``end_epoch``). An epoch becomes a record once it
    has both; records are folded (averaged, maxima, summed counts, update
    ratios, the NaN scan) vectorized over epochs, when ``FLUSH_BATCHES`` batches
    wait or the history is built. The probe at initialization runs when the
    history is first built.
    """

    def __init__(self, every: str, probe_samples: int, model: Any, batch_size: int = 32) -> None:
        self.every = every
        self.batch_size = batch_size
        x, y = sample_rows(*model.engine.fit_data, probe_samples)
        self.sample = (np.array(x, copy=True), np.array(y, copy=True))
        self.layout = Layout(model)
        self.initial = InitialState(model)
        self.parts: list[_Parts] = []
        # The logs of every ended epoch (the first ``folded`` of them are records).
        self.logs: list[dict[str, float]] = []
        self.folded = 0
        # Sampled kernels at the end of each ended epoch not yet folded (when tracked).
        self.end_weights: list[np.ndarray] = []
        self.first_nonfinite: dict[str, Any] | None = None  # in the epochs, after the probe
        # Received, not yet folded: (epochs, records, losses, batch ids, starts) chunks.
        self.chunks: list[tuple[np.ndarray, ...]] = []
        self.waiting_batches = 0
        self.probe: tuple[_Parts, dict[str, Any] | None] | None = None
        self.probe_weights: np.ndarray | None = None  # sampled kernels at initialization
        self.meta: tuple[dict[str, Any], str] | None = None  # at train end

    def receive(
        self,
        epochs: np.ndarray,
        rec: np.ndarray,
        losses: np.ndarray,
        ids: np.ndarray,
        starts: np.ndarray | None,
    ) -> None:
        self.chunks.append((epochs, rec, losses, ids, starts))
        self.waiting_batches += rec.shape[0]
        if self.waiting_batches >= FLUSH_BATCHES:
            self.flush()

    def flush(self) -> None:
        """Fold every epoch that has both its records and its end."""
        received = sum(len(c[0]) for c in self.chunks)
        k = min(received, len(self.logs) - self.folded)
        if not k:
            return
        for i, (epochs, rec, losses, ids, starts) in enumerate(self.chunks):
            if starts is None:  # every epoch's records begin at batch index 0
                starts = np.flatnonzero(ids == 0)
                if starts.size != epochs.size or (starts.size and starts[0] != 0):
                    raise RuntimeError("gradient-flow records do not match the epochs trained")
                self.chunks[i] = (epochs, rec, losses, ids, starts)
        if len(self.chunks) == 1:
            epochs, rec, losses, ids, starts = self.chunks[0]
        else:
            columns = list(zip(*self.chunks, strict=True))
            epochs, rec, losses, ids = (np.concatenate(c) for c in columns[:4])
            offsets = np.cumsum([0] + [r.shape[0] for r in columns[1][:-1]])
            starts = np.concatenate([s + o for s, o in zip(columns[4], offsets, strict=True)])
        cut = int(starts[k]) if k < len(starts) else rec.shape[0]
        self.chunks = (
            [(epochs[k:], rec[cut:], losses[cut:], ids[cut:], starts[k:] - cut)]
            if k < len(starts)
            else []
        )
        self.waiting_batches = rec.shape[0] - cut
        parts, where = self._fold(
            epochs[:k] + 1,
            rec[:cut],
            losses[:cut],
            ids[:cut],
            starts[:k],
            np.array(
                [g.get("loss", np.nan) for g in self.logs[self.folded : self.folded + k]],
                dtype=np.float64,
            ),
            self.end_weights[:k] if self.probe_weights is not None else None,
            locate=self.first_nonfinite is None,
        )
        self.folded += k
        del self.end_weights[:k]
        self.parts.append(parts)
        if self.first_nonfinite is None:
            self.first_nonfinite = where

    def _fold(
        self,
        epochs: np.ndarray,
        batches: np.ndarray,
        losses: np.ndarray,
        batch_ids: np.ndarray,
        starts: np.ndarray,
        epoch_loss: np.ndarray,
        weights: list[np.ndarray] | None,
        locate: bool = True,
    ) -> tuple[_Parts, dict[str, Any] | None]:
        """Records of whole epochs (1-based ``epochs``; 0 is the probe), vectorized
        over epochs, and (with ``locate``) where their first NaN/Inf is, if any."""
        where = None
        if locate and (found := locate_nonfinite(batches)) is not None:
            b, row, what = found
            k = int(np.searchsorted(starts, b, side="right")) - 1
            where = {
                "epoch": int(epochs[k]),
                "batch": int(batch_ids[b]) if epochs[k] > 0 else -1,
                "row": row,
                "name": self.layout.name(row),
                "where": what,
            }
        ratios = batch_update_ratios(batches)
        if self.every == "epoch" or epochs[0] == 0:
            return (
                aggregate(batches, starts),
                group_reduce(ratios, starts, lambda block: block.mean(axis=1)),
                epochs.astype(np.int64),
                np.full(len(epochs), -1, dtype=np.int64),
                epoch_loss,
                None if weights is None else np.stack(weights),
            ), where
        counts = np.diff(np.r_[starts, batches.shape[0]])
        return (
            batches,
            ratios,
            np.repeat(epochs.astype(np.int64), counts),
            batch_ids.astype(np.int64),
            losses,
            # The weights are sampled once, at the end of each epoch.
            None if weights is None else np.repeat(np.stack(weights), counts, axis=0),
        ), where

    def probe_parts(self) -> tuple[_Parts, dict[str, Any] | None]:
        """The record of epoch 0 (the probe at initialization), computed once."""
        if self.probe is None:
            batches, losses = self.initial.probe(*self.sample, self.batch_size)
            self.probe = self._fold(
                np.zeros(1, dtype=np.int64),
                batches,
                losses,
                np.full(len(losses), -1),
                np.zeros(1, dtype=np.int64),
                np.array([losses.mean()]),
                None if self.probe_weights is None else [self.probe_weights],
            )
        return self.probe

    def finish(self, model: Any) -> None:
        """Takes what the history reports of the model as training ends."""
        self.meta = _model_meta(model)

    def build(self, model: Any) -> FlowHistory:
        """The ``FlowHistory`` of the epochs so far, the probe first."""
        self.flush()
        probe, probe_where = self.probe_parts()
        parts = [probe, *self.parts]
        optimizer, loss_name = self.meta or _model_meta(model)
        stats = np.concatenate([p[0] for p in parts])
        nf = len(FIELDS)
        return FlowHistory(
            rows=self.layout.row_infos(),
            stats=stats[:, :, :nf],
            hist=stats[:, :, nf:],
            update_ratio=np.concatenate([p[1] for p in parts]),
            epoch=np.concatenate([p[2] for p in parts]),
            batch=np.concatenate([p[3] for p in parts]),
            loss=np.concatenate([p[4] for p in parts]),
            logs=list(self.logs),
            weights=np.concatenate([p[5] for p in parts]) if probe[5] is not None else None,
            optimizer=optimizer,
            loss_name=loss_name,
            every=self.every,
            sample_x=self.sample[0],
            sample_y=self.sample[1],
            first_nonfinite=probe_where if probe_where is not None else self.first_nonfinite,
            structure=self.layout.structure(),
            batch_size=self.batch_size,
        )


def _model_meta(model: Any) -> tuple[dict[str, Any], str]:
    """The optimizer's configuration and the loss, as a FlowHistory reports them."""
    optimizer = {"class_name": type(model.optimizer).__name__, **model.optimizer.get_config()}
    return optimizer, model.loss or ""
