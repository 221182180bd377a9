"""``Sequential.summary()``: a Keras-like table of layers, shapes and parameter counts."""

from __future__ import annotations

from typing import Any

#: Weights a layer keeps but no optimizer updates (batch normalization's moving statistics).
NON_TRAINABLE = ("moving_mean", "moving_variance")


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


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
    for layer in model.layers:
        for name, w in zip(layer.weight_labels(), layer.weights, strict=True):
            total += w.size
            if name not in NON_TRAINABLE:
                trainable += w.size
    item = model.dtype.itemsize
    print_fn(f" Total params: {total:,} ({human_bytes(total * item)})")
    print_fn(f" Trainable params: {trainable:,} ({human_bytes(trainable * item)})")
    non = total - trainable
    print_fn(f" Non-trainable params: {non:,} ({human_bytes(non * item)})")
