"""``FlowFeed``: how the gradient-flow records reach the callbacks that asked for them.

The native pass appends one record per recorded batch to the network's own
buffer; ``fit`` takes them out many epochs at a time and hands them to every
callback with ``records_flow`` through ``Callback.receive_flow_stats``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core

__all__ = ["FEED_BYTES", "FlowFeed"]


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

    A receiver is a callback with ``records_flow``; its
    ``receive_flow_stats(epochs, records, losses, batch_ids, starts)`` gets the
    records of the finished ``epochs`` (0-based, increasing), epoch ``k``'s
    from ``starts[k]`` to the next start (``starts`` None: where ``batch_ids``
    is 0).
    """

    def __init__(self, net: Any, cbs: list[Any], record_every: int, steps: int) -> None:
        self.net = net
        self.receivers = [cb for cb in cbs if cb.records_flow]
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
