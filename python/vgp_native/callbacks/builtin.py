"""The built-in callbacks: ``History``, ``EarlyStopping``, ``TerminateOnNaN`` (Keras names).

``fit_callbacks`` adds what every ``fit`` runs besides the user's callbacks.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._validation import check_float, check_int
from .base import Callback, CallbackList
from .progress import progress_callback


class History(Callback):
    """Records the logs of every epoch: ``history.history["loss"][epoch]``.

    ``fit`` returns it, as Keras does; ``history.epoch`` lists the epoch indices.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        """Start a new record (``epoch`` and ``history`` empty)."""
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Append the epoch's number and every value of ``logs``."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def record_epochs(self, epochs: range, columns: dict[str, list[float]]) -> None:
        """What ``on_epoch_end`` records for each of ``epochs``, given each key's values.

        ``fit`` calls it after running many epochs in one native call, when no
        other callback acts at the end of an epoch.
        """
        self.epoch.extend(epochs)
        for key, values in columns.items():
            self.history.setdefault(key, []).extend(values)


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
        """Reset the wait count, the best value and the best weights."""
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Stop training once the monitored value has not improved for ``patience`` epochs."""
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
        """Report the stop (when verbose); restore the best weights (``restore_best_weights``)."""
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
        """Stop training when the epoch's loss is NaN or infinite."""
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Epoch {epoch + 1}: invalid loss, terminating training")
            self.terminated_epoch = epoch
            self.model.stop_training = True


def fit_callbacks(
    callbacks: list[Callback],
    model: Any,
    *,
    epochs: int,
    batch_size: int,
    samples: int,
    verbose: int,
) -> tuple[History, CallbackList]:
    """The ``History`` of a ``fit`` and the list dispatching its events, as Keras builds them.

    The user's callbacks come first, then the ``History`` and, when ``verbose``,
    the progress logger; each gets the model and ``params``
    (``{"epochs", "steps", "verbose", "batch_size", "samples"}``).
    """
    steps = -(-samples // batch_size)
    history = History()
    progress = progress_callback(verbose, steps, epochs)
    params = {
        "epochs": epochs,
        "steps": steps,
        "verbose": verbose,
        "batch_size": batch_size,
        "samples": samples,
    }
    everyone = callbacks + [history] + ([progress] if progress else [])
    return history, CallbackList(everyone, model, params)
