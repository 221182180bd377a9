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

The Python side stays off the per-epoch path: ``on_epoch_end`` only keeps the
epoch's per-batch records; they are folded into records (averaged, maxima,
summed counts, update ratios, the NaN scan) in vectorized chunks of up to
``FLUSH_BATCHES`` batches and when the history is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..callbacks import Callback
from .history import (
    _F,
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

__all__ = [
    "FIELDS",
    "HIST_BINS",
    "FlowHistory",
    "GradientFlow",
    "RowInfo",
    "aggregate",
    "first_step_norms",
    "locate_nonfinite",
    "probe_record",
    "row_infos",
    "sample_rows",
    "update_ratios",
]


def _containers(layers: list[Any]) -> list[list[Any]]:
    """``layers`` and every residual block's inner layer list, recursively."""
    out = [layers]
    for layer in layers:
        if layer.sublayers():
            out.extend(_containers(layer.sublayers()))
    return out


def model_structure(model: Any) -> dict[str, bool]:
    """Whether the model holds batch normalization, residual or dropout layers."""
    from ..layers import BatchNormalization, Dropout, Residual

    kinds = {type(layer) for c in _containers(model.layers) for layer in c}
    return {
        "batchnorm": BatchNormalization in kinds,
        "residual": Residual in kinds,
        "dropout": Dropout in kinds,
    }


def _normalized_kernels(model: Any) -> set[int]:
    """ids of Dense layers followed by a BatchNormalization before the next kernel."""
    from ..layers import BatchNormalization

    out: set[int] = set()
    for container in _containers(model.layers):
        for i, layer in enumerate(container):
            if not layer.has_kernel():
                continue
            for nxt in container[i + 1 :]:
                if nxt.has_kernel() or nxt.sublayers():
                    break
                if isinstance(nxt, BatchNormalization):
                    out.add(id(layer))
    return out


def _serialized(initializer: Any) -> dict[str, Any] | None:
    from .. import initializers

    try:
        return initializers.serialize(initializer)
    except TypeError:
        return None


def row_infos(model: Any) -> list[RowInfo]:
    """``RowInfo`` for each statistics row of a compiled model."""
    from ..models import _HIST_RANGES

    normalized = _normalized_kernels(model)
    return [
        RowInfo(
            name=r.name,
            activation=r.activation,
            fan_in=r.fan_in,
            fan_out=r.fan_out,
            in_residual=r.in_residual,
            hist_range=_HIST_RANGES.get(r.activation, (-4.0, 4.0)),
            kernel_initializer=_serialized(r.layer.kernel_initializer),
            bias_initializer=_serialized(r.layer.bias_initializer) if r.layer.use_bias else None,
            normalized=id(r.layer) in normalized,
        )
        for r in model.flow_rows
    ]


def sample_rows(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` rows of ``(x, y)``, the same ones every time (sorted, seed 0)."""
    n = x.shape[0]
    if n <= limit:
        return x, y
    idx = np.sort(np.random.default_rng(0).choice(n, limit, replace=False))
    return x[idx], y[idx]


def first_step_norms(model: Any, grads: list[np.ndarray | None]) -> np.ndarray:
    """``||dW||`` per row of the first step a fresh optimizer would take with ``grads``.

    ``grads`` are the model's gradients in weight order. The model's optimizer
    (its class, learning rate, moments, clipping) is run by the native
    optimizer kernels on a copy of each kernel with zeroed state, so Adam's
    first step ``lr g / (|g| + eps)`` shows how it rescales a vanishing
    gradient into a full-size step, where SGD's ``lr g`` stays as small as ``g``.
    """
    from .. import ops

    opt = model.optimizer
    cfg = opt.get_config()
    slots = model._weight_slots()
    index = {id(owner._weights[i]): k for k, (owner, i) in enumerate(slots)}
    out = np.zeros(len(model.flow_rows))
    for r, row in enumerate(model.flow_rows):
        kernel = row.layer.kernel
        g = grads[index[id(kernel)]]
        if g is None:
            continue
        if opt.clipnorm:
            g = ops.clip_by_norm(g, opt.clipnorm)
        elif opt.clipvalue:
            g = ops.clip_by_value(g, opt.clipvalue)
        lr = cfg["learning_rate"]
        if opt.kind == "sgd":
            sq = ops.sgd_update(kernel, g, None, lr, cfg["momentum"], cfg["nesterov"])[2]
        elif opt.kind == "adam":
            sq = ops.adam_update(
                kernel, g, None, None, 1, lr, cfg["beta_1"], cfg["beta_2"], cfg["epsilon"]
            )[3]
        else:
            sq = ops.rmsprop_update(
                kernel,
                g,
                learning_rate=lr,
                rho=cfg["rho"],
                momentum=cfg["momentum"],
                epsilon=cfg["epsilon"],
                centered=cfg["centered"],
            )[4]
        out[r] = np.sqrt(sq)
    return out


def probe_record(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Statistics ``(rows, width)`` and loss of one probe pass at the current weights.

    The whole of ``x`` is one batch; batch norm uses batch statistics without
    updating its moving averages, dropout is off, no weight changes. ``x`` and
    ``y`` are validated and converted as ``fit`` does. The ``update_norm``
    field holds the first step a fresh optimizer would take (``first_step_norms``).
    """
    model._check_compiled("probe_record")
    x = model._prepare_x(x)
    net = model._ensure_native(x.shape[1])
    y = model._prepare_y(y, x.shape[0])
    if net.stats()[0].shape[0]:
        raise RuntimeError("statistics were pending when the probe ran")
    net.compute_gradients(x, y, "probe", True)
    rec, losses, _ = net.stats()
    net.clear_stats()
    record = rec[0]
    record[:, _F["update_norm"]] = first_step_norms(model, net.grads())
    return record, float(losses[0])


#: Per-batch records kept before they are folded into epoch records.
FLUSH_BATCHES = 4096


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
            sample. The probe is one forward/backward pass over them, paid once.

    After training, ``report()`` returns a ``vgp_native.flow.GradientFlowReport``
    and ``history`` holds the raw ``FlowHistory``.
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
        self.history: FlowHistory | None = None
        self._reset()

    def _reset(self) -> None:
        self._stats: list[np.ndarray] = []
        self._ratios: list[np.ndarray] = []
        self._epoch: list[np.ndarray] = []
        self._batch: list[np.ndarray] = []
        self._loss: list[np.ndarray] = []
        self._logs: list[dict[str, float]] = []
        self._weights: list[np.ndarray] = []
        self._track_idx: list[np.ndarray] = []
        self._first_nonfinite: dict[str, Any] | None = None
        # Epochs not yet turned into records: (epoch, per-batch records, batch
        # losses, epoch loss, sampled weights), folded in by _flush.
        self._pending: list[tuple[int, np.ndarray, np.ndarray, float, np.ndarray | None]] = []
        self._pending_batches = 0

    def _sample_weights(self) -> np.ndarray | None:
        if not self.n_track:
            return None
        out = np.full((len(self._track_idx), self._track_width), np.nan)
        for r, (row, idx) in enumerate(zip(self.model.flow_rows, self._track_idx, strict=True)):
            out[r, : idx.size] = row.layer.kernel.ravel()[idx]
        return out

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._reset()
        model = self.model
        x, y = sample_rows(*model._fit_data, self.probe_samples)
        self._sample = (np.array(x, copy=True), np.array(y, copy=True))
        self._rows = row_infos(model)
        if self.n_track:
            picker = np.random.default_rng(1)
            self._track_idx = []
            for row in model.flow_rows:
                size = row.layer.kernel.size
                k = min(self.n_track, size)
                self._track_idx.append(np.sort(picker.choice(size, k, replace=False)))
            self._track_width = max(len(i) for i in self._track_idx)
        rec, loss = probe_record(model, *self._sample)
        self._pending.append(
            (0, rec[None], np.array([loss]), np.array([-1]), loss, self._sample_weights())
        )
        self._flush()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = dict(logs or {})
        self._logs.append(logs)
        stats = self.model._flow_stats
        if stats is None or stats[0].shape[0] == 0:
            return
        rec, losses, ids = stats
        loss = float(logs.get("loss", np.nan))
        self._pending.append((epoch + 1, rec, losses, ids, loss, self._sample_weights()))
        self._pending_batches += rec.shape[0]
        if self._pending_batches >= FLUSH_BATCHES:
            self._flush()

    def _flush(self) -> None:
        """Turn the pending epochs into records, all at once (vectorized over epochs)."""
        if not self._pending:
            return
        epochs, recs, losses, ids, epoch_loss, weights = zip(*self._pending, strict=True)
        self._pending, self._pending_batches = [], 0
        counts = np.array([r.shape[0] for r in recs])
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        batches = np.concatenate(recs)
        batch_ids = np.concatenate(ids)
        if self._first_nonfinite is None and (where := locate_nonfinite(batches)) is not None:
            b, row, what = where
            k = int(np.searchsorted(starts, b, side="right")) - 1
            self._first_nonfinite = {
                "epoch": int(epochs[k]),
                "batch": int(batch_ids[b]) if epochs[k] > 0 else -1,
                "row": row,
                "name": self._rows[row].name,
                "where": what,
            }
        ratios = batch_update_ratios(batches)
        if self.every == "epoch" or epochs == (0,):
            self._stats.append(aggregate(batches, starts))
            self._ratios.append(group_reduce(ratios, starts, lambda block: block.mean(axis=1)))
            self._epoch.append(np.array(epochs, dtype=np.int64))
            self._batch.append(np.full(len(epochs), -1, dtype=np.int64))
            self._loss.append(np.array(epoch_loss, dtype=np.float64))
            if self.n_track:
                self._weights.append(np.stack(weights))
            return
        self._stats.append(batches)
        self._ratios.append(ratios)
        self._epoch.append(np.repeat(np.array(epochs, dtype=np.int64), counts))
        self._batch.append(batch_ids.astype(np.int64))
        self._loss.append(np.concatenate(losses))
        if self.n_track:
            # The weights are sampled once, at the end of each epoch.
            self._weights.append(np.repeat(np.stack(weights), counts, axis=0))

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self.history = self._build_history()

    def _build_history(self) -> FlowHistory:
        self._flush()
        model = self.model
        rows = self._rows
        nf = len(FIELDS)
        empty = np.zeros((0, len(rows), nf + HIST_BINS))
        full = np.concatenate(self._stats) if self._stats else empty
        return FlowHistory(
            rows=rows,
            stats=full[:, :, :nf],
            hist=full[:, :, nf:],
            update_ratio=np.concatenate(self._ratios) if self._ratios else empty[:, :, 0],
            epoch=np.concatenate(self._epoch) if self._epoch else np.zeros(0, np.int64),
            batch=np.concatenate(self._batch) if self._batch else np.zeros(0, np.int64),
            loss=np.concatenate(self._loss) if self._loss else np.zeros(0),
            logs=list(self._logs),
            weights=np.concatenate(self._weights) if self._weights else None,
            optimizer={
                "class_name": type(model.optimizer).__name__,
                **model.optimizer.get_config(),
            },
            loss_name=model.loss or "",
            every=self.every,
            sample_x=self._sample[0],
            sample_y=self._sample[1],
            first_nonfinite=self._first_nonfinite,
            structure=model_structure(model),
        )

    def report(self, **thresholds: Any) -> Any:
        """The ``GradientFlowReport`` of the recorded run (see ``vgp_native.flow``)."""
        if self.history is None:
            if self.model is None or not self._stats:
                raise ValueError("GradientFlow has recorded nothing yet: pass it to fit() first")
            self.history = self._build_history()
        from .report import GradientFlowReport

        return GradientFlowReport.from_history(self.history, model=self.model, **thresholds)
