"""The probe: forward/backward passes at fixed weights, nothing changed.

A probe records the same statistics as a training step without changing
anything: ``GradientFlow`` probes the network as initialized (epoch 0 of its
history; the initial weights often decide trainability), ``flow.analyze``
probes a model as it is. Each statistic is measured as training measures it,
on batches of the training batch size: the sample is shuffled once (a fixed
permutation) and cut into such batches, one pass each, and the passes are
averaged like the batches of an epoch (``history.aggregate``). So the
fraction of units off for every sample of a batch, or batch normalization's
batch statistics, mean the same at the probe as in any training record. Each
pass's ``update_norm`` field holds the first step a fresh optimizer would take
from its gradient (``first_step``). The layout of the rows is in ``layout``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._engine import (
    build_network,
    check_compiled,
    evaluate,
    native_network,
    prepare_inputs,
    prepare_targets,
    probe_pass,
)
from .first_step import optimizer_first_step_norms
from .history import FIELD_INDEX

__all__ = ["InitialState", "mode_comparison", "probe_batches", "probe_record", "sample_rows"]


def sample_rows(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` rows of ``(x, y)``, the same ones every time (sorted, seed 0)."""
    n = x.shape[0]
    if n <= limit:
        return x, y
    idx = np.sort(np.random.default_rng(0).choice(n, limit, replace=False))
    return x[idx], y[idx]


def probe_batches(n: int, batch_size: int) -> list[slice]:
    """Consecutive batches of ``batch_size`` rows over a sample of ``n`` rows.

    A remainder smaller than a batch is left out, unless the whole sample is
    smaller than one batch (then it is the one batch).
    """
    if n <= batch_size:
        return [slice(0, n)]
    return [slice(s, s + batch_size) for s in range(0, n - batch_size + 1, batch_size)]


def _probe(
    net: Any, x: np.ndarray, y: np.ndarray, opt: Any, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The probe on native network ``net`` (prepared ``x``, ``y``); see ``probe_record``."""
    order = np.random.default_rng(0).permutation(x.shape[0])
    x, y = x[order], y[order]
    records, losses = [], []
    for batch in probe_batches(x.shape[0], batch_size):
        record, loss, kernels, grads = probe_pass(net, x[batch], y[batch])
        record[:, FIELD_INDEX["update_norm"]] = optimizer_first_step_norms(opt, kernels, grads)
        records.append(record)
        losses.append(loss)
    return np.stack(records), np.array(losses)


def probe_record(
    model: Any, x: np.ndarray, y: np.ndarray, batch_size: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Per-batch statistics ``(batches, rows, width)`` and losses of a probe at the current weights.

    ``x`` is shuffled once (a fixed permutation) and cut into batches of
    ``batch_size`` rows (``probe_batches``), one pass each; batch norm uses
    each batch's statistics without updating its moving averages, dropout is
    off, no weight changes. ``x`` and ``y`` are validated and converted as
    ``fit`` does. The ``update_norm`` field holds the first step a fresh
    optimizer would take from each batch's gradient (``first_step_norms``).
    """
    check_compiled(model, "probe_record")
    feed = model.engine.feed
    if feed is not None:
        # Inside fit (a callback): hand the network's pending records on first.
        feed.drain()
    x = prepare_inputs(model, x)
    net = native_network(model, x.shape[1])
    y = prepare_targets(model, y, x.shape[0])
    return _probe(net, x, y, model.optimizer, batch_size)


class InitialState:
    """What the probe at initialization needs, taken when training begins.

    The probe itself (forward/backward passes over up to ``probe_samples``
    rows, in batches of the fit's batch size) runs only when the history is
    first needed, on a native network of its own built from these: the
    model's plan, weights (moving statistics included), loss and optimizer
    configuration as they were when ``fit`` started. It gives the same
    numbers, bit for bit, as a probe run on the model itself at that moment,
    whatever happened to the model since.
    """

    def __init__(self, model: Any) -> None:
        self.n_rows = len(model.flow_rows)  # attaches the native network if needed
        engine = model.engine
        self.plan = engine.plan
        self.weights = model.get_weights()
        self.loss_codes = engine.loss_codes
        # The optimizer as a class and configuration (a copy of the object is
        # several times dearer), made again for the probe's first-step norms.
        self.optimizer = (type(model.optimizer), model.optimizer.get_config())

    def probe(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """``probe_record`` at the initial weights, for the prepared sample ``(x, y)``."""
        net = build_network(self.plan, self.weights, loss=self.loss_codes)
        cls, config = self.optimizer
        return _probe(net, x, y, cls.from_config(config), batch_size)


def mode_comparison(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int) -> dict[str, Any]:
    """Loss and metric on the same data in training mode and in inference mode.

    Training mode normalizes each batch of ``batch_size`` rows with its own
    statistics, as ``fit`` does (no moving average is touched); inference mode
    uses the moving statistics, as ``evaluate`` and ``predict`` do. A large gap
    means the moving statistics disagree with what the network was trained on
    (Ioffe & Szegedy 2015, section 3.1).

    Returns:
        ``{"metric", "train_loss", "train_metric", "infer_loss", "infer_metric",
        "samples"}`` (``metric`` is the compiled metric's name, or None and the
        metric values NaN).
    """
    order = np.random.default_rng(0).permutation(x.shape[0])
    x, y = x[order], y[order]
    engine = model.engine
    net = native_network(model, x.shape[1])
    out: dict[str, Any] = {"metric": engine.metric_key, "samples": int(x.shape[0])}
    for mode, prefix in (("probe", "train"), ("infer", "infer")):
        logs = engine.logs(*evaluate(net, x, y, batch_size, mode))
        out[f"{prefix}_loss"] = logs["loss"]
        out[f"{prefix}_metric"] = (
            logs.get(engine.metric_key, math.nan) if engine.metric_key else math.nan
        )
    return out
