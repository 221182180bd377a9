"""The epoch loop of ``Sequential.fit``.

Each epoch is one native call (``train_epoch``: gather the shuffled batch,
forward, fused loss, backward, optimizer step, statistics) unless a callback
implements batch hooks; then ``fit_batches`` makes one native call per batch,
with the same permutation and dropout seeds, so both paths train bit for bit
alike. The permutation and the dropout seeds come from the model's own
seeded generators.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._planning import all_layers
from ._progress import ProgressLogger
from .callbacks import Callback, CallbackList, History
from .layers import Dropout


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
            if record:
                model._flow_stats = net.stats()
                net.clear_stats()
            if val is not None and (epoch + 1 - initial_epoch) % validation_freq == 0:
                vl, vm, vr = net.evaluate(val[0], val[1], val_bs)
                for key, value in model._logs(vl, vm, vr).items():
                    logs[f"val_{key}"] = value
            cblist.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        cblist.on_train_end(logs)
    finally:
        # Also on Ctrl-C or an exception from a callback: statistics of an
        # unfinished epoch must not stay pending in the network (the next
        # probe, e.g. flow.analyze, requires none).
        net.clear_stats()
        model._fit_data = None
        model._flow_stats = None
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
