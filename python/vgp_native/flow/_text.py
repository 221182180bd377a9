"""Small formatting helpers shared by the findings and the report table."""

from __future__ import annotations

import math

__all__ = ["epochs_text", "layer_text", "num", "pct"]


def num(value: float, short: bool = False) -> str:
    """A compact number: 3 significant digits in [0.01, 1000), else ``1.2e-05``.

    ``short`` drops the exponent's leading zero (``1.2e-5``: at most 7 characters).
    """
    value = float(value)
    if math.isnan(value):
        return "nan" if short else "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0.0:
        return "0"
    if 1e-2 <= abs(value) < 1e3:
        return f"{value:.3g}"
    text = f"{value:.1e}"
    return text.replace("e+0", "e+").replace("e-0", "e-") if short else text


def pct(fraction: float) -> str:
    """A fraction as a whole percentage, ``"97%"``."""
    return "n/a" if math.isnan(fraction) else f"{100.0 * fraction:.0f}%"


def layer_text(index: int, name: str) -> str:
    """``"layer 3 (dense_2)"``: 1-based position among the kernel layers and name."""
    return f"layer {index + 1} ({name})"


def epochs_text(epochs: list[int]) -> str:
    """``"epoch 0 (initialization)"``, ``"epochs 0-12 and 15"``: sorted unique epochs as ranges."""
    values = sorted(set(int(e) for e in epochs))
    if not values:
        return "no epoch"
    ranges: list[tuple[int, int]] = []
    for e in values:
        if ranges and e == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], e)
        else:
            ranges.append((e, e))
    parts = [str(a) if a == b else f"{a}-{b}" for a, b in ranges]
    if len(parts) > 4:
        parts = [*parts[:3], f"{len(parts) - 3} more ranges up to {values[-1]}"]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    word = "epoch" if len(values) == 1 else "epochs"
    note = (
        " (initialization)" if values == [0] else " (0 = initialization)" if values[0] == 0 else ""
    )
    return f"{word} {text}{note}"
