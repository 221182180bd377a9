"""Keras-like console output of training: the per-epoch progress lines."""

from __future__ import annotations

import sys
import time

from .base import Callback


def format_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


def progress_line(step: int, steps: int, elapsed: float, logs: dict[str, float], bar: bool) -> str:
    per_step = elapsed / max(step, 1)
    metrics = "".join(f" - {k}: {v:.4f}" for k, v in sorted(logs.items()))
    if bar:
        width = 20
        filled = round(width * step / max(steps, 1))
        return (
            f"{step}/{steps} {'━' * filled}{' ' * (width - filled)} "
            f"{elapsed:.0f}s {format_time(per_step)}/step{metrics}"
        )
    return f"{step}/{steps} - {elapsed:.0f}s - {format_time(per_step)}/step{metrics}"


class ProgressLogger(Callback):
    """Keras-like per-epoch output for verbose=1 and verbose=2."""

    def __init__(self, verbose: int, steps: int, epochs: int) -> None:
        super().__init__()
        self.verbose = verbose
        self.steps = steps
        self.epochs = epochs
        self._t0 = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        print(f"Epoch {epoch + 1}/{self.epochs}")
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        elapsed = time.perf_counter() - self._t0
        print(progress_line(self.steps, self.steps, elapsed, logs or {}, self.verbose == 1))
        sys.stdout.flush()


def print_pass(
    samples: int, batch_size: int, elapsed: float, logs: dict[str, float], verbose: int
) -> None:
    """The one progress line of a whole ``evaluate`` or ``predict`` pass (nothing when silent)."""
    if verbose:
        steps = -(-samples // batch_size)
        print(progress_line(steps, steps, elapsed, logs, bar=verbose == 1))
