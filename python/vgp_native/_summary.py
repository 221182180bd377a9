"""``Sequential.summary()``: a Keras-like table of layers, shapes and parameter counts.

``summary_rows`` gives its rows and totals; ``print_summary`` prints them as text and
``summary_html`` draws them as the HTML a notebook shows for a model.
"""

from __future__ import annotations

import html
from typing import Any

from .report_html import fragment, table_html

#: Weights a layer keeps but no optimizer updates (batch normalization's moving statistics).
NON_TRAINABLE = ("moving_mean", "moving_variance")


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


def summary_rows(model: Any) -> tuple[list[tuple[str, str, str, int]], int, int]:
    """The summary table: ``(rows, total, trainable)``.

    Each row is ``(name, type, output shape, parameters)``; a layer nested in a
    residual block has its name indented with "└" and no count of its own (its
    block counts it). ``total`` and ``trainable`` count the weights' entries.
    """
    rows = []
    for layer in model.layers:
        out = f"(None, {layer.output_dim})" if layer.built else "?"
        params = layer.count_params() if layer.built else 0
        rows.append((layer.name, type(layer).__name__, out, params))
        for sub in layer.sublayers():
            sub_out = f"(None, {sub.output_dim})" if sub.built else "?"
            rows.append((f"└ {sub.name}", type(sub).__name__, sub_out, -1))
    total = trainable = 0
    for layer in model.layers:
        if not layer.built:
            continue
        for label, w in zip(layer.weight_labels(), layer.weights, strict=True):
            total += w.size
            trainable += 0 if label in NON_TRAINABLE else w.size
    return rows, total, trainable


def print_summary(model: Any, print_fn: Any = None) -> None:
    """Keras-like table: layers (nested ones indented), output shapes, parameter counts."""
    print_fn = print_fn or print
    rows, total, trainable = summary_rows(model)
    cells = [
        (f"{'  ' if name.startswith('└') else ''}{name} ({kind})", shape, "" if n < 0 else f"{n:,}")
        for name, kind, shape, n in rows
    ]
    w0 = max([len("Layer (type)")] + [len(r[0]) for r in cells]) + 2
    w1 = max([len("Output Shape")] + [len(r[1]) for r in cells]) + 2
    w2 = max([len("Param #")] + [len(r[2]) for r in cells]) + 2
    line = "─" * (w0 + w1 + w2 + 4)
    print_fn(f'Model: "{model.name}"')
    print_fn(line)
    print_fn(f" {'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>{w2}}")
    print_fn("═" * (w0 + w1 + w2 + 4))
    for r in cells:
        print_fn(f" {r[0]:<{w0}}{r[1]:<{w1}}{r[2]:>{w2}}")
    print_fn(line)
    item = model.dtype.itemsize
    print_fn(f" Total params: {total:,} ({human_bytes(total * item)})")
    print_fn(f" Trainable params: {trainable:,} ({human_bytes(trainable * item)})")
    non = total - trainable
    print_fn(f" Non-trainable params: {non:,} ({human_bytes(non * item)})")


def summary_html(model: Any) -> str:
    """The model summary as self-contained HTML (a notebook's rich display of a model)."""
    esc = html.escape
    rows, total, trainable = summary_rows(model)
    head = '<tr><th class="name">Layer (type)</th><th class="name">Output shape</th>'
    head += "<th>Param #</th></tr>"
    body = "".join(
        f'<tr><td class="name">{esc(name)} ({esc(kind)})</td><td class="name">{esc(shape)}</td>'
        f'<td class="num">{"" if params < 0 else f"{params:,}"}</td></tr>'
        for name, kind, shape, params in rows
    )
    size = model.dtype.itemsize
    totals = "".join(
        f'<tr><th>{esc(label)}</th><td class="num">{count:,} '
        f"({esc(human_bytes(count * size))})</td></tr>"
        for label, count in (
            ("Total params", total),
            ("Trainable params", trainable),
            ("Non-trainable params", total - trainable),
        )
    )
    state = "compiled" if getattr(model, "compiled", False) else "not compiled"
    title = f'Model "{model.name}" ({len(model.layers)} layers, {model.dtype.name}, {state})'
    return fragment(table_html(head + body) + table_html(totals, "facts"), title)
