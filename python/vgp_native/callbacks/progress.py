"""Keras-like output of training: the per-epoch progress lines, and in a notebook a bar.

``in_notebook()`` says whether code runs in a Jupyter kernel. There ``fit(verbose=1)``
uses ``NotebookProgress``: one progress bar, updated in place (a display that is
replaced each epoch, not appended), over the epochs, with the elapsed time, the
time left and the last epoch's metrics; and under it one line per epoch, as Keras
prints them.
"""

from __future__ import annotations

import html
import sys
import time
from typing import Any

from .._format import num
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


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (an IPython kernel app, not a terminal)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def progress_callback(verbose: int, steps: int, epochs: int) -> Callback | None:
    """fit's progress output: none when silent, ``NotebookProgress`` for ``verbose=1`` in a
    notebook, else the Keras-like lines (``ProgressLogger``)."""
    if not verbose:
        return None
    if verbose == 1 and in_notebook():
        return NotebookProgress(steps, epochs)
    return ProgressLogger(verbose, steps, epochs)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{num(seconds, 2)}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s"


class NotebookProgress(Callback):
    """``fit(verbose=1)`` in a notebook: a bar over the epochs that updates in place,
    and one line per epoch under it (``Epoch 3/20 - 8/8 - 12ms/step - loss: 0.6931 ...``).

    Args:
        steps: batches per epoch.
        epochs: epochs of the fit.
        width: characters of the bar.
    """

    def __init__(self, steps: int, epochs: int, width: int = 30) -> None:
        super().__init__()
        self.steps = steps
        self.epochs = epochs
        self.width = width
        self._handle: Any = None
        self._start = 0.0
        self._t0 = 0.0

    def bar(self, done: int, elapsed: float, logs: dict[str, float]) -> str:
        """The bar's text after ``done`` of the epochs, ``elapsed`` seconds in."""
        filled = round(self.width * done / max(self.epochs, 1))
        left = elapsed / done * (self.epochs - done) if done else 0.0
        metrics = "".join(f" - {k}: {v:.4f}" for k, v in sorted(logs.items()))
        when = f"{_duration(elapsed)} elapsed" + (
            f", {_duration(left)} left" if done < self.epochs else ""
        )
        bar = "━" * filled + " " * (self.width - filled)
        return f"Epoch {done}/{self.epochs} {bar} {when}{metrics}"

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        from IPython.display import display

        self._start = time.perf_counter()
        self._handle = display(_Text(self.bar(0, 0.0, {})), display_id=True)

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        now = time.perf_counter()
        logs = logs or {}
        per_step = (now - self._t0) / max(self.steps, 1)
        metrics = "".join(f" - {k}: {v:.4f}" for k, v in sorted(logs.items()))
        print(
            f"Epoch {epoch + 1}/{self.epochs} - {self.steps}/{self.steps} - "
            f"{format_time(per_step)}/step{metrics}",
            flush=True,
        )
        if self._handle is not None:
            self._handle.update(_Text(self.bar(epoch + 1, now - self._start, logs)))


class _Text:
    """Plain text for ``display``: shown as it is, in a monospaced block."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre style='margin:0'>{html.escape(self.text)}</pre>"
