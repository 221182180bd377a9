"""The epoch loop of ``Sequential.fit``.

Each epoch is one native call (``train_epoch``: gather the shuffled batch,
forward, fused loss, backward, optimizer step, statistics) unless a callback
implements batch hooks; then ``fit_batches`` makes one native call per batch,
with the same permutation and dropout seeds, so both paths train bit for bit
alike. The permutation and the dropout seeds come from the model's own
seeded generators. Gradient-flow statistics stay in the network for many
epochs and reach the callbacks that record them through a ``FlowFeed``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _core
from ._planning import all_layers
from .callbacks.base import Callback, CallbackList
from .callbacks.builtin import History
from .callbacks.progress import ProgressLogger
from .layers import Dropout

#: Bytes of records the network holds before fit hands them to the recording
#: callbacks (also when training ends, or earlier when someone needs them):
#: small enough that its buffers, kept from one hand-over to the next, and the
#: arrays handed over live in memory malloc recycles (large blocks come fresh
#: from the kernel, one page fault per page, every time).
FEED_BYTES = 64 * 1024


class FlowFeed:
    """Hands the statistics the native passes record to the callbacks that asked for them.

    The network appends one record per recorded batch. Taking them out after
    every epoch would cost a native call, three arrays and their bookkeeping per
    epoch, as much as computing the statistics on a small network; instead they
    stay in the network until about ``FEED_BYTES`` have accumulated, until
    training ends, or until ``drain`` is called early (a report asked for
    during fit, a probe pass on the same network). Every epoch records its
    first batch (``b % record_every == 0`` for ``b = 0``, on both training
    paths) and no other record of an epoch has batch index 0, so the records
    split into epochs where the batch index is 0.

    A receiver is a callback with ``records_flow`` and a method
    ``receive_flow_stats(epochs, records, losses, batch_ids, starts)``: the
    records of the finished ``epochs`` (0-based, increasing), epoch ``k``'s
    from ``starts[k]`` to the next start (``starts`` None: where ``batch_ids``
    is 0).
    """

    def __init__(self, net: Any, cbs: list[Callback], record_every: int, steps: int) -> None:
        self.net = net
        self.receivers = [
            cb
            for cb in cbs
            if getattr(cb, "records_flow", False) and hasattr(cb, "receive_flow_stats")
        ]
        # Records an epoch adds: its strided batches (and, rarely, the first
        # batch with a non-finite loss, measured again: the limit is loose).
        self.per_epoch = -(-steps // record_every)
        record_bytes = 8 * max(1, net.stat_rows * (len(_core.STAT_FIELDS) + _core.HIST_BINS))
        self.limit = max(1, FEED_BYTES // record_bytes)
        self.epochs: list[int] = []  # finished epochs whose records the network holds
        self.queued = 0  # upper bound on the records the network holds
        # Records of an unfinished epoch that an early drain took out.
        self.partial: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def epoch_done(self, epoch: int) -> None:
        """Epoch ``epoch`` has finished training (its records are all in the network)."""
        self.epochs.append(epoch)
        self.queued += self.per_epoch
        if self.queued >= self.limit:
            self.flush()

    def flush(self) -> None:
        """Hand every record over, between epochs or once training has ended.

        No epoch is in progress, so every record belongs to a finished epoch;
        the receivers split them into epochs when they fold them (``starts``
        None), which keeps this inside fit to a native call and a list.
        """
        rec, losses, ids = self._take()
        if self.epochs:
            self._hand_over(rec, losses, ids, None)

    def drain(self) -> None:
        """Hand the records of every finished epoch over now (from a callback during fit).

        The records of an epoch in progress, if any, stay for a later hand-over.
        """
        rec, losses, ids = self._take()
        n = len(self.epochs)
        starts = np.flatnonzero(ids == 0)
        if starts.size > n:
            cut = int(starts[n])
            self.partial = (rec[cut:], losses[cut:], ids[cut:])
            rec, losses, ids, starts = rec[:cut], losses[:cut], ids[:cut], starts[:n]
        if n:
            self._hand_over(rec, losses, ids, starts)

    def _take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        taken = self.net.take_stats()
        if self.partial is not None:
            taken = tuple(np.concatenate(pair) for pair in zip(self.partial, taken, strict=True))
            self.partial = None
        return taken

    def _hand_over(
        self, rec: np.ndarray, losses: np.ndarray, ids: np.ndarray, starts: np.ndarray | None
    ) -> None:
        epochs = np.array(self.epochs, dtype=np.int64)
        self.epochs, self.queued = [], 0
        for cb in self.receivers:
            cb.receive_flow_stats(epochs, rec, losses, ids, starts)


def run_fit(
    model: Any,
    net: Any,
    x_arr: np.ndarray,
    y_arr: np.ndarray,
    val: tuple[np.ndarray, np.ndarray] | None,
    *,
    epochs: int,
    initial_epoch: int,
    batch_size: int,
    val_bs: int,
    verbose: int,
    cbs: list[Callback],
    shuffle: bool,
    validation_freq: int,
) -> History:
    """Train ``model`` (already validated arguments); returns the History."""
    n = x_arr.shape[0]
    steps = -(-n // batch_size)
    history = History()
    progress = ProgressLogger(verbose, steps, epochs) if verbose else None
    all_cbs = cbs + [history] + ([progress] if progress else [])
    params = {
        "epochs": epochs,
        "steps": steps,
        "verbose": verbose,
        "batch_size": batch_size,
        "samples": n,
    }
    cblist = CallbackList(all_cbs, model, params)
    # Gradient-flow statistics: every batch when a callback asks for batches,
    # one batch per epoch (the first) when callbacks only want epochs, else none.
    strides = [cb.record_every(steps) for cb in cbs if getattr(cb, "records_flow", False)]
    record_every = min(strides) if strides else 0
    record = record_every > 0
    halt = any(getattr(cb, "halts_on_nonfinite", False) for cb in cbs)
    per_batch = cblist.implements_batch_hooks
    has_dropout = any(
        isinstance(layer, Dropout) and layer.rate > 0 for layer in all_layers(model.layers)
    )
    model.history = history
    model.stop_training = False
    model._fit_data = (x_arr, y_arr)
    net.clear_stats()
    feed = FlowFeed(net, cbs, record_every, steps) if record else None
    model._flow_feed = feed
    logs: dict[str, float] = {}
    try:
        cblist.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cblist.on_epoch_begin(epoch)
            perm = model._shuffle_rng.permutation(n) if shuffle else None
            seeds = (
                model._dropout_rng.integers(0, 2**63, size=steps, dtype=np.uint64)
                if has_dropout
                else None
            )
            if per_batch:
                loss_sum, metric_sum, rows, halted = fit_batches(
                    model, net, x_arr, y_arr, perm, batch_size, seeds, record_every, halt, cblist
                )
            else:
                loss_sum, metric_sum, rows, halted = net.train_epoch(
                    x_arr, y_arr, perm, batch_size, seeds, record_every, halt
                )
            logs = model._logs(loss_sum, metric_sum, rows)
            if halted:
                logs["loss"] = math.nan
            if feed is not None:
                feed.epoch_done(epoch)
            if val is not None and (epoch + 1 - initial_epoch) % validation_freq == 0:
                vl, vm, vr = net.evaluate(val[0], val[1], val_bs)
                for key, value in model._logs(vl, vm, vr).items():
                    logs[f"val_{key}"] = value
            cblist.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        if feed is not None:
            feed.flush()
        cblist.on_train_end(logs)
    finally:
        # Also on Ctrl-C or an exception from a callback: the finished epochs'
        # statistics still reach the callbacks (a report of the run so far),
        # and those of an unfinished epoch must not stay pending in the
        # network (the next probe, e.g. flow.analyze, requires none).
        model._flow_feed = None
        if feed is not None and feed.epochs:
            feed.drain()
        net.clear_stats()
        model._fit_data = None
    return history


def fit_batches(
    model: Any,
    net: Any,
    x: np.ndarray,
    y: np.ndarray,
    perm: np.ndarray | None,
    batch_size: int,
    seeds: np.ndarray | None,
    record_every: int,
    halt: bool,
    cblist: CallbackList,
) -> tuple[float, float, int, bool]:
    """The per-batch path: the same native steps as ``train_epoch``, with batch hooks."""
    n = x.shape[0]
    loss_sum = metric_sum = 0.0
    rows = 0
    nonfinite_seen = False
    for b, start in enumerate(range(0, n, batch_size)):
        cblist.on_train_batch_begin(b)
        stop = min(start + batch_size, n)
        seed = int(seeds[b]) if seeds is not None else 0
        # As train_epoch does: the strided batches, and the first batch of the
        # epoch whose loss is not finite (re-measured natively) when sparse.
        record = 0
        if record_every > 0 and b % record_every == 0:
            record = 1
        elif record_every > 1 and not nonfinite_seen:
            record = 2
        if perm is None:
            result = net.train_batch(x[start:stop], y[start:stop], None, seed, record, halt, b)
        else:
            result = net.train_batch(x, y, perm[start:stop], seed, record, halt, b)
        nonfinite_seen = nonfinite_seen or not math.isfinite(result[0])
        loss_sum += result[0]
        metric_sum += result[1]
        rows += result[2]
        cblist.on_train_batch_end(b, model._logs(loss_sum, metric_sum, rows))
        if result[3]:
            return loss_sum, metric_sum, rows, True
        if model.stop_training:
            break
    return loss_sum, metric_sum, rows, False
