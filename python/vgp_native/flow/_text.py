"""Small formatting helpers shared by the findings and the report table."""

from __future__ import annotations

import math

from .._format import num as _num

__all__ = ["epochs_text", "layer_text", "num", "pct"]


def num(value: float, short: bool = False) -> str:
    """A number as the package writes numbers (``vgp_native._format.num``, 3 digits).

    Fixed point from 1e-3 to 1e5, scientific notation outside (``3.69e-6``);
    ``short`` (table cells) keeps a column's numbers apart: 2 digits in scientific
    notation (``3.7e-6``), at most 7 characters, and NaN as ``nan`` (else ``n/a``).
    """
    value = float(value)
    if math.isnan(value):
        return "nan" if short else "n/a"
    text = _num(value, 3)
    return _num(value, 2) if short and ("e" in text or len(text) > 7) else text


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
