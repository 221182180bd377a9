"""Callbacks with Keras hook names: training loop events delivered to user code.

Hooks: ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)``,
``on_train_batch_begin/end(batch, logs)``, ``on_test_begin/end(logs)``,
``on_predict_begin/end(logs)``; ``logs`` is a plain dict of floats.

A whole epoch normally runs as one native call. A callback that overrides a
batch hook switches ``fit`` to a per-batch path (one native call per batch)
that trains bit-for-bit identically, so batch hooks never change results.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import check_float, check_int

if TYPE_CHECKING:
    from .models import Sequential

_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end")


class Callback:
    """Base class. Subclass and override the hooks you need.

    Attributes:
        model: the model being trained (set by ``fit``).
        params: ``{"epochs", "steps", "verbose", "batch_size", "samples"}``.
    """

    def __init__(self) -> None:
        self.model: Sequential | None = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Sequential) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        """Called once after the last epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Called at the start of each epoch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Called at the end of each epoch with the epoch's logs."""

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Called before each training batch (switches fit to the per-batch path)."""

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Called after each training batch with running epoch averages."""

    def on_test_begin(self, logs: dict[str, float] | None = None) -> None:
        """Called before evaluation."""

    def on_test_end(self, logs: dict[str, float] | None = None) -> None:
        """Called after evaluation."""

    def on_predict_begin(self, logs: dict[str, float] | None = None) -> None:
        """Called before prediction."""

    def on_predict_end(self, logs: dict[str, float] | None = None) -> None:
        """Called after prediction."""

    @property
    def implements_batch_hooks(self) -> bool:
        return any(getattr(type(self), h) is not getattr(Callback, h) for h in _BATCH_HOOKS)


class CallbackList:
    """Dispatches each event to a list of callbacks in order."""

    def __init__(
        self, callbacks: list[Callback], model: Sequential, params: dict[str, Any]
    ) -> None:
        self.callbacks = callbacks
        for cb in callbacks:
            cb.set_model(model)
            cb.set_params(params)

    @property
    def implements_batch_hooks(self) -> bool:
        return any(cb.implements_batch_hooks for cb in self.callbacks)

    def __getattr__(self, hook: str) -> Any:
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        # The callbacks' bound hooks, without those left as Callback's no-op,
        # looked up once: fit dispatches a few events per epoch, and on a
        # small network an epoch takes tens of microseconds.
        base = getattr(Callback, hook, None)
        methods = [
            method
            for method in (getattr(cb, hook) for cb in self.callbacks)
            if base is None or getattr(method, "__func__", None) is not base
        ]

        def call(*args: Any) -> None:
            for method in methods:
                method(*args)

        self.__dict__[hook] = call
        return call


def check_callbacks(callbacks: Any) -> list[Callback]:
    """Validate the ``callbacks`` argument of fit/evaluate/predict."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(
            f"callbacks must be a list of Callback objects, received {type(callbacks).__name__}"
        )
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks[{i}] must be a Callback, received {type(cb).__name__}")
    return list(callbacks)


class History(Callback):
    """Records the logs of every epoch: ``history.history["loss"][epoch]``.

    ``fit`` returns it, as Keras does; ``history.epoch`` lists the epoch indices.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class EarlyStopping(Callback):
    """Stops training when a monitored quantity has stopped improving.

    Args:
        monitor: quantity to watch (a key of the epoch logs), default "val_loss".
        min_delta: smallest change that counts as an improvement (>= 0).
        patience: epochs without improvement before stopping (>= 0).
        verbose: 1 prints a line when stopping.
        mode: "auto" (max for names containing "acc", else min), "min" or "max".
        baseline: training stops if the quantity does not beat it within patience.
        restore_best_weights: put back the weights of the best epoch when stopping
            (or at the end of training).
        start_from_epoch: epochs to wait before monitoring.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a string, received {monitor!r}")
        self.monitor = monitor
        self.min_delta = abs(check_float(min_delta, "min_delta"))
        self.patience = check_int(patience, "patience", minimum=0)
        self.verbose = check_int(verbose, "verbose", minimum=0)
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', received {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self.baseline = None if baseline is None else check_float(baseline, "baseline")
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = check_int(start_from_epoch, "start_from_epoch", minimum=0)
        self.stopped_epoch = 0
        self.best_epoch = 0

    def _improved(self, current: float, reference: float) -> bool:
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"EarlyStopping is conditioned on '{self.monitor}', which is not in the logs "
                f"(available: {', '.join(logs or {})})",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._improved(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stops training as soon as the loss becomes NaN or infinite.

    Checked natively after every batch: the step whose loss, gradients or
    updated weights are not finite is undone and training ends, so the model
    keeps the weights from before the blow-up. Combine with ``GradientFlow``
    to see in which layer and epoch it started.
    """

    #: Asks fit to check every step: a batch whose loss, gradients or updated
    #: weights are not finite is not applied and ends training.
    halts_on_nonfinite = True

    def __init__(self) -> None:
        super().__init__()
        self.terminated_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Epoch {epoch + 1}: invalid loss, terminating training")
            self.terminated_epoch = epoch
            self.model.stop_training = True


def __getattr__(name: str) -> Any:
    # GradientFlow lives with the rest of the gradient-flow code; import lazily
    # to keep callbacks importable on its own.
    if name == "GradientFlow":
        from .flow.recording import GradientFlow

        return GradientFlow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
