"""Keras-like console output: per-epoch progress lines and the model summary."""

from __future__ import annotations

import sys
import time
from typing import Any

from .callbacks import Callback


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


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


def print_summary(model: Any, print_fn: Any = None) -> None:
    """Keras-like table: layers (nested ones indented), output shapes, parameter counts."""
    print_fn = print_fn or print
    rows = []
    for layer in model.layers:
        out = f"(None, {layer.output_dim})" if layer.built else "?"
        params = layer.count_params() if layer.built else 0
        rows.append((f"{layer.name} ({type(layer).__name__})", out, f"{params:,}"))
        for sub in layer.sublayers():
            sub_out = f"(None, {sub.output_dim})" if sub.built else "?"
            rows.append((f"  └ {sub.name} ({type(sub).__name__})", sub_out, ""))
    w0 = max([len("Layer (type)")] + [len(r[0]) for r in rows]) + 2
    w1 = max([len("Output Shape")] + [len(r[1]) for r in rows]) + 2
    w2 = max([len("Param #")] + [len(r[2]) for r in rows]) + 2
    line = "─" * (w0 + w1 + w2 + 4)
    print_fn(f'Model: "{model.name}"')
    print_fn(line)
    print_fn(f" {'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>{w2}}")
    print_fn("═" * (w0 + w1 + w2 + 4))
    for r in rows:
        print_fn(f" {r[0]:<{w0}}{r[1]:<{w1}}{r[2]:>{w2}}")
    print_fn(line)
    total = trainable = 0
    for owner, i in model._weight_slots():
        size = owner._weights[i].size
        total += size
        name = owner.all_weight_names()[i]
        if name not in ("moving_mean", "moving_variance"):
            trainable += size
    item = model.dtype.itemsize
    print_fn(f" Total params: {total:,} ({human_bytes(total * item)})")
    print_fn(f" Trainable params: {trainable:,} ({human_bytes(trainable * item)})")
    non = total - trainable
    print_fn(f" Non-trainable params: {non:,} ({human_bytes(non * item)})")
