"""The epoch loop of ``Sequential.fit``.

Each epoch is one native call (``train_epoch``: gather the shuffled batch,
forward, fused loss, backward, optimizer step, statistics) unless a callback
implements batch hooks; then ``fit_batches`` makes one native call per batch,
with the same permutation and dropout seeds. When nothing in Python acts
between two epochs (only the History records them), ``fit_epochs`` runs many
epochs per native call (``train_epochs``). All three paths train bit for bit
alike. The permutation and the dropout seeds come from the model's own
seeded generators, held by its ``Engine``, the explicit state ``run_fit``
works on, and are drawn many epochs ahead (``order``), except the orders of
``fit_epochs``, which its native loop draws itself, each right before its
epoch. Gradient-flow
statistics stay in the network for many epochs and reach the callbacks that
record them through a ``FlowFeed``. A learning rate a callback assigns to
``model.optimizer.learning_rate`` (a schedule, as in Keras) reaches the
native optimizer before the next epoch or batch, its state (momenta, moments,
step count) kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_batch_size, check_float, check_int, check_verbose
from . import order
from .feed import FlowFeed
from .order import DropoutSeeds, EpochOrders
from .state import Engine

__all__ = ["FitOptions", "LearningRate", "fit_batches", "fit_epochs", "run_fit"]


class FitOptions(NamedTuple):
    """``fit``'s arguments about the loop, checked (see ``Sequential.fit``).

    A named tuple: immutable as a frozen dataclass, and built in a quarter of
    its time (once per ``fit``, which for a small network lasts milliseconds).
    """

    epochs: int
    initial_epoch: int
    batch_size: int
    verbose: int
    validation_freq: int
    validation_split: float
    shuffle: bool
    validation_batch_size: int = 0

    @classmethod
    def check(
        cls,
        epochs: Any,
        initial_epoch: Any,
        batch_size: Any,
        verbose: Any,
        validation_freq: Any,
        validation_split: Any,
        shuffle: Any,
    ) -> FitOptions:
        """The checked options; a ValueError or TypeError naming the first bad argument."""
        epochs = check_int(epochs, "epochs", minimum=0)
        initial_epoch = check_int(initial_epoch, "initial_epoch", minimum=0)
        batch_size = check_batch_size(batch_size)
        verbose = check_verbose(verbose)
        validation_freq = check_int(validation_freq, "validation_freq", minimum=1)
        validation_split = check_float(
            validation_split, "validation_split", minimum=0.0, maximum=1.0, max_inclusive=False
        )
        if type(shuffle) is not bool and not isinstance(shuffle, np.bool_):
            raise TypeError(f"shuffle must be a bool, received {shuffle!r}")
        return cls(
            epochs, initial_epoch, batch_size, verbose, validation_freq, validation_split,
            bool(shuffle), batch_size,
        )  # fmt: skip

    def with_validation_batch_size(self, value: Any) -> FitOptions:
        """These options with ``validation_batch_size`` checked (None: ``batch_size``)."""
        if value is None:
            return self
        size = check_batch_size(value, "validation_batch_size")
        return self._replace(validation_batch_size=size)


class LearningRate:
    """Hands ``optimizer.learning_rate`` to the native network whenever it has changed."""

    def __init__(self, optimizer: Any, net: Any) -> None:
        self.optimizer = optimizer
        self.net = net
        self.applied: float | None = None  # unknown at first: set once

    def sync(self) -> None:
        """Before a step: the native optimizer gets the rate if it differs from the last one."""
        value = self.optimizer.learning_rate
        if value != self.applied:
            self.net.set_learning_rate(value)
            self.applied = value


def run_fit(
    engine: Engine,
    x_arr: np.ndarray,
    y_arr: np.ndarray,
    val: tuple[np.ndarray, np.ndarray] | None,
    opts: FitOptions,
    *,
    cbs: list[Any],
    cblist: Any,
    has_dropout: bool,
    stop_training: Callable[[], bool],
    history: Any = None,
) -> None:
    """Train on ``engine``'s network (arguments already validated).

    Args:
        engine: the model's native side (network, generators, logs).
        x_arr, y_arr: prepared training data; val: prepared validation data or None.
        opts: the loop's options (epochs, batch sizes, shuffling, validation frequency).
        cbs: the user's callbacks (asked whether they record gradient flow or
            halt on a non-finite step); cblist: every callback, dispatched in order.
        has_dropout: whether a layer draws dropout masks (one seed per batch).
        stop_training: whether a callback asked training to stop.
        history: the fit's ``History``; when it is the only callback acting at
            the end of an epoch, many epochs run per native call (``fit_epochs``).
    """
    net = engine.net
    epochs, initial_epoch, batch_size = opts.epochs, opts.initial_epoch, opts.batch_size
    n = x_arr.shape[0]
    steps = -(-n // batch_size)
    # A fit whose only callback is its History (no user callback, silent)
    # calls the two hooks History implements, on_train_begin and on_epoch_end
    # (a test holds it to these), itself rather than through the
    # CallbackList's dispatch: a few dozen Python calls fewer, a few percent
    # of a small network's whole fit.
    alone = history is not None and cblist.callbacks == [history]
    # Gradient-flow statistics: every batch when a callback asks for batches,
    # one batch per epoch (the first) when callbacks only want epochs, else none.
    strides = [cb.record_every(steps) for cb in cbs if cb.records_flow]
    record_every = min(strides) if strides else 0
    record = record_every > 0
    halt = any(cb.halts_on_nonfinite for cb in cbs)
    per_batch = not alone and cblist.implements_batch_hooks
    engine.fit_data = (x_arr, y_arr)
    net.clear_stats()
    feed = FlowFeed(net, cbs, record_every, steps) if record else None
    engine.feed = feed
    logs: dict[str, float] = {}
    lr = LearningRate(engine.optimizer, net)
    orders = EpochOrders(engine.shuffle_rng, n, epochs - initial_epoch) if opts.shuffle else None
    dropout_seeds = (
        DropoutSeeds(engine.dropout_rng, steps, epochs - initial_epoch) if has_dropout else None
    )
    try:
        # The epoch hooks the callbacks implement, taken once: an epoch of a
        # small network lasts tens of microseconds, as long as a few dozen
        # Python calls.
        if alone:
            history.on_train_begin()
            epoch_begin: tuple[Any, ...] = ()
            epoch_end: tuple[Any, ...] = (history.on_epoch_end,)
        else:
            cblist.on_train_begin()
            epoch_begin = cblist.overriding("on_epoch_begin")
            epoch_end = cblist.overriding("on_epoch_end")
        # Nothing in Python between two epochs but the History's record: no
        # other epoch or batch hook, no validation, no statistics, no halting.
        chunked = (
            history is not None
            and not (per_batch or record or halt or val is not None or epoch_begin)
            and all(getattr(hook, "__self__", None) is history for hook in epoch_end)
            and not stop_training()
        )
        if chunked:
            logs = fit_epochs(
                engine, x_arr, y_arr, range(initial_epoch, epochs), batch_size, orders,
                dropout_seeds, lr, history,
            )  # fmt: skip
        else:
            for epoch in range(initial_epoch, epochs):
                for hook in epoch_begin:
                    hook(epoch)
                lr.sync()
                perm = orders.next() if orders is not None else None
                seeds = dropout_seeds.next() if dropout_seeds is not None else None
                if per_batch:
                    loss_sum, metric_sum, rows, halted = fit_batches(
                        engine,
                        x_arr,
                        y_arr,
                        perm,
                        batch_size,
                        seeds,
                        record_every,
                        halt,
                        cblist,
                        stop_training,
                        lr,
                    )
                else:
                    loss_sum, metric_sum, rows, halted = net.train_epoch(
                        x_arr, y_arr, perm, batch_size, seeds, record_every, halt
                    )
                logs = engine.logs(loss_sum, metric_sum, rows)
                if halted:
                    logs["loss"] = math.nan
                if feed is not None:
                    feed.epoch_done(epoch)
                if val is not None and (epoch + 1 - initial_epoch) % opts.validation_freq == 0:
                    val_logs = engine.evaluate(val[0], val[1], opts.validation_batch_size)
                    for key, value in val_logs.items():
                        logs[f"val_{key}"] = value
                for hook in epoch_end:
                    hook(epoch, logs)
                if stop_training():
                    break
        if feed is not None:
            feed.flush()
        if not alone:
            cblist.on_train_end(logs)
    finally:
        # Also on Ctrl-C or an exception from a callback: the finished epochs'
        # statistics still reach the callbacks (a report of the run so far),
        # and those of an unfinished epoch must not stay pending in the
        # network (the next probe, e.g. flow.analyze, requires none).
        engine.feed = None
        for draws in (orders, dropout_seeds):
            if draws is not None:
                draws.close()
        if feed is not None and feed.epochs:
            feed.drain()
        net.clear_stats()
        engine.fit_data = None


def fit_epochs(
    engine: Engine,
    x: np.ndarray,
    y: np.ndarray,
    epochs: range,
    batch_size: int,
    orders: EpochOrders | None,
    seeds: DropoutSeeds | None,
    lr: LearningRate,
    history: Any,
) -> dict[str, float]:
    """``epochs`` in native calls of many epochs each (``train_epochs``); returns the last logs.

    The same draws, steps and sums as one ``train_epoch`` call per epoch,
    without an epoch's worth of Python between two epochs (a few
    microseconds, a tenth of an epoch of the seed network). The native loop
    draws each epoch's order from the shuffling generator right before the
    epoch (under the generator's lock), so no block of orders is drawn ahead;
    the dropout seeds of a call's epochs are one block of ``seeds``. The
    History records each call's epochs after it, also when Ctrl-C ends one:
    then the epochs it completed, as the per-epoch loop would have.
    """
    net = engine.net
    logs: dict[str, float] = {}
    lr.sync()
    first = epochs.start
    bits = orders.bit_generator if orders is not None else None
    # Calls of as many epochs as a block of orders would hold: `out` stays
    # small whatever `epochs` is.
    per_call = max(1, order.BLOCK_ELEMENTS // max(x.shape[0], 1))
    while first < epochs.stop:
        k = min(epochs.stop - first, per_call)
        if seeds is not None:
            k = min(k, seeds.ready())
        # (loss, metric, rows) per epoch, loss and metric the means over its
        # rows; rows -1: not begun, -2: begun (its draws made) and stopped by
        # Ctrl-C.
        out = np.empty((k, 3))
        out.fill(-1.0)
        block_seeds = None
        done = -1  # unknown until the call returns
        try:
            if seeds is not None:
                block_seeds = seeds.take(k)
            if bits is None:
                net.train_epochs(x, y, None, batch_size, block_seeds, out)
            else:
                with bits.lock:
                    net.train_epochs(x, y, None, batch_size, block_seeds, out, bits.capsule)
            done = k
        finally:
            if done < 0:  # interrupted: the epochs it completed have their rows
                done = int(np.count_nonzero(out[:, 2] >= 0))
            if done:
                columns = engine.log_columns(out[:done])
                history.record_epochs(range(first, first + done), columns)
                logs = {key: values[-1] for key, values in columns.items()}
            if done < k and block_seeds is not None:
                # Interrupted (Ctrl-C): the seeds of the epochs that did not
                # begin go back, so that both generators end where the
                # per-epoch loop leaves them (it draws an epoch's order and
                # seeds before running it); all of them when the call never began.
                begun = done + int(out[done, 2] == -2.0)
                seeds.give_back(k - begun)
        first += k
    return logs


def fit_batches(
    engine: Engine,
    x: np.ndarray,
    y: np.ndarray,
    perm: np.ndarray | None,
    batch_size: int,
    seeds: np.ndarray | None,
    record_every: int,
    halt: bool,
    cblist: Any,
    stop_training: Callable[[], bool],
    lr: LearningRate,
) -> tuple[float, float, int, bool]:
    """The per-batch path: the same native steps as ``train_epoch``, with batch hooks."""
    net = engine.net
    n = x.shape[0]
    loss_sum = metric_sum = 0.0
    rows = 0
    nonfinite_seen = False
    for b, start in enumerate(range(0, n, batch_size)):
        cblist.on_train_batch_begin(b)
        lr.sync()
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
        cblist.on_train_batch_end(b, engine.logs(loss_sum, metric_sum, rows))
        if result[3]:
            return loss_sum, metric_sum, rows, True
        if stop_training():
            break
    return loss_sum, metric_sum, rows, False
