"""Recording gradient-flow statistics during training.

The native training pass computes, for every layer that owns a kernel (a
"row") and every batch: the kernel gradient's L2 norm, mean and max
magnitude and non-finite count, the kernel's norm, the norm of the optimizer
step actually taken, the backpropagated signal ``||dL/dh||`` at the layer's
output, and the mean, spread, saturated fraction, dead-unit fraction and a
20-bin histogram of the activations there. ``GradientFlow`` collects them
into a ``FlowHistory``: one record at initialization (epoch 0, a probe pass
at the initial weights, since the network as initialized often decides
trainability) and then one per epoch (or per batch with ``every="batch"``).
Recording is switched on only while a ``GradientFlow`` callback listens; a
plain ``fit`` computes none of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _core
from ..callbacks import Callback

#: Names of the recorded fields, in native order.
FIELDS: tuple[str, ...] = tuple(_core.STAT_FIELDS)
#: Number of histogram bins recorded per row.
HIST_BINS: int = int(_core.HIST_BINS)
_F = {name: i for i, name in enumerate(FIELDS)}
_MAX_FIELDS = ("grad_max_abs",)
_SUM_FIELDS = ("grad_nonfinite", "signal_nonfinite", "act_nonfinite")


def aggregate(batches: np.ndarray) -> np.ndarray:
    """Combine per-batch records ``(batches, rows, width)`` into one ``(rows, width)``.

    Norms, means and fractions are averaged over the batches, maxima take the
    maximum, non-finite counts and histogram counts are summed. A NaN in any
    batch survives into the average, on purpose.
    """
    if batches.shape[0] == 0:
        return np.full(batches.shape[1:], np.nan)
    out = batches.mean(axis=0)
    for name in _MAX_FIELDS:
        out[:, _F[name]] = batches[:, :, _F[name]].max(axis=0)
    for name in _SUM_FIELDS:
        out[:, _F[name]] = batches[:, :, _F[name]].sum(axis=0)
    nf = len(FIELDS)
    out[:, nf:] = batches[:, :, nf:].sum(axis=0)
    return out


def update_ratios(batches: np.ndarray) -> np.ndarray:
    """Mean over batches of ``||dW|| / ||W||`` per row, from per-batch records."""
    w = batches[:, :, _F["weight_norm"]]
    u = batches[:, :, _F["update_norm"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(w > 0, u / np.where(w > 0, w, 1.0), np.where(u > 0, np.inf, 0.0))
    return ratio.mean(axis=0)


@dataclass
class RowInfo:
    """Static description of one statistics row."""

    name: str
    activation: str
    fan_in: int
    fan_out: int
    in_residual: bool
    hist_range: tuple[float, float]


@dataclass
class FlowHistory:
    """Everything a ``GradientFlow`` callback recorded.

    Attributes:
        rows: one ``RowInfo`` per layer that owns a kernel, input to output.
        stats: ``(records, rows, fields)`` statistics (names in ``FIELDS``).
        hist: ``(records, rows, HIST_BINS)`` activation histogram counts.
        update_ratio: ``(records, rows)`` mean ``||dW|| / ||W||`` of the steps taken.
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

    def field(self, name: str) -> np.ndarray:
        """``(records, rows)`` values of one field, e.g. ``"grad_norm"``."""
        if name == "update_ratio":
            return self.update_ratio
        if name not in _F:
            raise KeyError(f"unknown field {name!r}; known: {', '.join(FIELDS)}, update_ratio")
        return self.stats[:, :, _F[name]]


def row_infos(model: Any) -> list[RowInfo]:
    """``RowInfo`` for each statistics row of a compiled model."""
    from ..models import _HIST_RANGES

    return [
        RowInfo(
            name=r.name,
            activation=r.activation,
            fan_in=r.fan_in,
            fan_out=r.fan_out,
            in_residual=r.in_residual,
            hist_range=_HIST_RANGES.get(r.activation, (-4.0, 4.0)),
        )
        for r in model.flow_rows
    ]


def probe_record(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Statistics ``(rows, width)`` and loss of one probe pass at the current weights.

    The whole of ``x`` is one batch; batch norm uses batch statistics without
    updating its moving averages, dropout is off, no weight changes.
    """
    net = model._net
    pending = net.stats()
    net.clear_stats()
    net.compute_gradients(x, y, "probe", True)
    rec, losses = net.stats()
    net.clear_stats()
    if pending[0].shape[0]:
        raise RuntimeError("statistics were pending when the probe ran")
    return rec[0], float(losses[0])


class GradientFlow(Callback):
    """Records per-layer gradient-flow statistics during ``fit``.

    Args:
        every: "epoch" (one aggregated record per epoch) or "batch" (one record
            per batch).
        track_weights: False, True (16 kernel entries per layer) or a number of
            kernel entries per layer to sample every record, for plots of
            weights against epochs.
        probe_samples: rows of the training data used for the probe at
            initialization (and kept for Jacobians); at most this many.

    After training, ``report()`` returns a ``vgp_native.flow.GradientFlowReport``
    and ``history`` holds the raw ``FlowHistory``.
    """

    records_flow = True

    def __init__(
        self, every: str = "epoch", track_weights: bool | int = False, probe_samples: int = 1024
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
        self.history: FlowHistory | None = None
        self._reset()

    def _reset(self) -> None:
        self._stats: list[np.ndarray] = []
        self._ratios: list[np.ndarray] = []
        self._epoch: list[int] = []
        self._batch: list[int] = []
        self._loss: list[float] = []
        self._logs: list[dict[str, float]] = []
        self._weights: list[np.ndarray] = []
        self._track_idx: list[np.ndarray] = []

    def _sample_weights(self) -> np.ndarray | None:
        if not self.n_track:
            return None
        kernels = [row.layer.kernel.ravel() for row in self.model.flow_rows]
        return np.stack(
            [
                np.asarray(k[idx], dtype=np.float64)
                for k, idx in zip(kernels, self._track_idx, strict=True)
            ]
        )

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._reset()
        model = self.model
        x, y = model._fit_data
        n = x.shape[0]
        if n > self.probe_samples:
            idx = np.sort(np.random.default_rng(0).choice(n, self.probe_samples, replace=False))
            x, y = x[idx], y[idx]
        self._sample = (np.array(x, copy=True), np.array(y, copy=True))
        if self.n_track:
            picker = np.random.default_rng(1)
            self._track_idx = []
            for row in model.flow_rows:
                size = row.layer.kernel.size
                k = min(self.n_track, size)
                self._track_idx.append(np.sort(picker.choice(size, k, replace=False)))
            width = max(len(i) for i in self._track_idx)
            self._track_width = width
        rec, loss = probe_record(model, *self._sample)
        self._append(rec[None], 0, -1, loss)

    def _append(self, batches: np.ndarray, epoch: int, batch: int, loss: float) -> None:
        self._stats.append(aggregate(batches))
        self._ratios.append(update_ratios(batches))
        self._epoch.append(epoch)
        self._batch.append(batch)
        self._loss.append(loss)
        if self.n_track:
            sample = self._sample_weights()
            padded = np.full((sample.shape[0], self._track_width), np.nan)
            padded[:, : sample.shape[1]] = sample
            self._weights.append(padded)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = dict(logs or {})
        self._logs.append(logs)
        stats = self.model._flow_stats
        if stats is None:
            return
        rec, losses = stats
        if rec.shape[0] == 0:
            return
        if self.every == "epoch":
            self._append(rec, epoch + 1, -1, float(logs.get("loss", np.nan)))
        else:
            for b in range(rec.shape[0]):
                self._append(rec[b : b + 1], epoch + 1, b, float(losses[b]))

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self.history = self._build_history()

    def _build_history(self) -> FlowHistory:
        model = self.model
        rows = row_infos(model)
        nf = len(FIELDS)
        full = np.stack(self._stats) if self._stats else np.zeros((0, len(rows), nf + HIST_BINS))
        return FlowHistory(
            rows=rows,
            stats=full[:, :, :nf],
            hist=full[:, :, nf:],
            update_ratio=np.stack(self._ratios) if self._ratios else np.zeros((0, len(rows))),
            epoch=np.asarray(self._epoch, dtype=np.int64),
            batch=np.asarray(self._batch, dtype=np.int64),
            loss=np.asarray(self._loss, dtype=np.float64),
            logs=list(self._logs),
            weights=np.stack(self._weights) if self._weights else None,
            optimizer={
                "class_name": type(model.optimizer).__name__,
                **model.optimizer.get_config(),
            },
            loss_name=model.loss or "",
            every=self.every,
            sample_x=self._sample[0],
            sample_y=self._sample[1],
        )

    def report(self, **thresholds: Any) -> Any:
        """The ``GradientFlowReport`` of the recorded run (see ``vgp_native.flow``)."""
        if self.history is None:
            if self.model is None or not self._stats:
                raise ValueError("GradientFlow has recorded nothing yet: pass it to fit() first")
            self.history = self._build_history()
        from .report import GradientFlowReport

        return GradientFlowReport.from_history(self.history, model=self.model, **thresholds)
