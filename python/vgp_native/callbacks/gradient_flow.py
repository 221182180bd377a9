"""``GradientFlow``: the callback that records per-layer gradient-flow statistics.

It asks ``fit`` for the statistics the native pass computes (``records_flow``,
``record_every``), receives them many epochs at a time
(``receive_flow_stats``) and hands them to a ``flow.recording.Recording``,
which folds them into a ``flow.FlowHistory``; ``report()`` turns that into a
``flow.GradientFlowReport``. See :mod:`vgp_native.flow.recording` for what
is measured and when.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..flow.history import FlowHistory
from ..flow.recording import Recording
from ..flow.report import GradientFlowReport
from .base import Callback

__all__ = ["GradientFlow"]


class GradientFlow(Callback):
    """Records per-layer gradient-flow statistics during ``fit``.

    Args:
        every: "epoch": one record per epoch, the statistics of the epoch's first
            batch (a fresh random sample of the data each epoch when fit shuffles),
            which keeps recording nearly free; "batch": one record per batch
            (every batch is measured).
        track_weights: False, True (16 kernel entries per layer) or a number of
            kernel entries per layer to sample every record, for plots of
            weights against epochs.
        probe_samples: rows of the training data used for the probe at
            initialization (and kept for Jacobians); at most this many, a fixed
            sample. The probe passes over them in batches of the fit's batch
            size (so that it measures what a training record measures) at the
            weights ``fit`` started from, paid once, when the history is first
            needed (not inside ``fit``).

    After training, ``report()`` returns a ``vgp_native.flow.GradientFlowReport``
    and ``history`` holds the raw ``FlowHistory`` (None until a ``fit`` has
    ended); both are assembled on first access.
    """

    records_flow = True

    def record_every(self, steps: int) -> int:
        """Which batches the native pass records: all (1) or the first of each epoch."""
        return 1 if self.every == "batch" else max(int(steps), 1)

    def __init__(
        self, every: str = "epoch", track_weights: bool | int = False, probe_samples: int = 512
    ) -> None:
        super().__init__()
        if every not in ("epoch", "batch"):
            raise ValueError(f"every must be 'epoch' or 'batch', received {every!r}")
        if isinstance(track_weights, bool):
            n_track = 16 if track_weights else 0
        elif isinstance(track_weights, (int, np.integer)) and track_weights >= 0:
            n_track = int(track_weights)
        else:
            raise ValueError(
                f"track_weights must be a bool or a non-negative int, received {track_weights!r}"
            )
        if isinstance(probe_samples, bool) or not isinstance(probe_samples, (int, np.integer)):
            raise TypeError(f"probe_samples must be an int, received {probe_samples!r}")
        if probe_samples < 1:
            raise ValueError(f"probe_samples must be >= 1, received {probe_samples}")
        self.every = every
        self.n_track = n_track
        self.probe_samples = int(probe_samples)
        self._run: Recording | None = None  # the fit in progress, or the last one
        self._ended: Recording | None = None  # the last fit that ended, its history not yet built
        self._history: FlowHistory | None = None
        self._track_idx: list[np.ndarray] = []

    @property
    def history(self) -> FlowHistory | None:
        """The ``FlowHistory`` of the last ended ``fit`` (None before); built when first read."""
        if self._history is None and self._ended is not None:
            self._history = self._ended.build(self.model)
            self._ended = None
        return self._history

    @history.setter
    def history(self, value: FlowHistory | None) -> None:
        self._history = value
        self._ended = None

    def _sample_weights(self) -> np.ndarray | None:
        if not self.n_track:
            return None
        out = np.full((len(self._track_idx), self._track_width), np.nan)
        for r, (row, idx) in enumerate(zip(self.model.flow_rows, self._track_idx, strict=True)):
            out[r, : idx.size] = row.layer.kernel.ravel()[idx]
        return out

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        """Start the recording (first record: the network as initialized); pick tracked weights."""
        model = self.model
        batch_size = int(self.params.get("batch_size", 32)) if self.params else 32
        self._run = Recording(self.every, self.probe_samples, model, batch_size)
        if self.n_track:
            picker = np.random.default_rng(1)
            self._track_idx = []
            for row in model.flow_rows:
                size = row.layer.kernel.size
                k = min(self.n_track, size)
                self._track_idx.append(np.sort(picker.choice(size, k, replace=False)))
            self._track_width = max(len(i) for i in self._track_idx)
            self._run.probe_weights = self._sample_weights()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Keep the epoch's logs and tracked weights (statistics come by ``receive_flow_stats``)."""
        run = self._run
        if run is None:
            return
        run.logs.append(dict(logs or {}))
        if self.n_track:
            run.end_weights.append(self._sample_weights())

    def receive_flow_stats(
        self,
        epochs: np.ndarray,
        records: np.ndarray,
        losses: np.ndarray,
        batch_ids: np.ndarray,
        starts: np.ndarray | None,
    ) -> None:
        """Per-batch records of finished epochs, from ``fit`` (see ``vgp_native._engine.feed``)."""
        if self._run is not None:
            self._run.receive(epochs, records, losses, batch_ids, starts)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        """Finish the recording into the history ``report()`` reads."""
        if self._run is None:
            return
        self._run.finish(self.model)
        self._ended, self._history = self._run, None

    def report(self, **thresholds: Any) -> Any:
        """The ``GradientFlowReport`` of the recorded run (see ``vgp_native.flow``)."""
        history = self.history
        if history is None:
            # During fit (e.g. from another callback): the epochs so far.
            if self.model is None or self._run is None:
                raise ValueError("GradientFlow has recorded nothing yet: pass it to fit() first")
            feed = self.model.engine.feed
            if feed is not None:
                feed.drain()  # the epochs fit has not handed over yet
            history = self._history = self._run.build(self.model)
        return GradientFlowReport.from_history(history, model=self.model, **thresholds)
