"""Number formatting shared by plot annotations and the HTML report (no matplotlib)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def eng(value: Any, digits: int = 3) -> str:
    """Format a number in engineering notation: a mantissa in [1, 1000), exponent a multiple of 3.

    ``eng(7.3167e-07)`` is ``"732e-9"``, ``eng(0.0561)`` is ``"56.1e-3"``,
    ``eng(12.5)`` is ``"12.5"``. Integers print as they are (``eng(64)`` is
    ``"64"``), zero as ``"0"``, non-finite values as ``"nan"``, ``"inf"`` and
    ``"-inf"``, and ``None`` as ``"-"``.

    Args:
        value: a real number (or None).
        digits: significant digits of the mantissa (at least 1).
    """
    if value is None:
        return "-"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    x = float(value)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"
    digits = max(1, int(digits))
    exponent = 3 * math.floor(math.log10(abs(x)) / 3)
    mantissa = x / 10.0**exponent
    # Rounding can carry the mantissa to 1000 (999.96 -> "1000"): move up a step.
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(mantissa))))
    if abs(round(mantissa, decimals)) >= 1000.0:
        exponent += 3
        mantissa = x / 10.0**exponent
        decimals = max(0, digits - 1)
    text = f"{mantissa:.{decimals}f}"
    return text if exponent == 0 else f"{text}e{exponent}"


def percent(value: Any) -> str:
    """Format a fraction in [0, 1] as a percentage with one decimal (``0.973`` -> ``"97.3%"``)."""
    if value is None:
        return "-"
    x = float(value)
    if not math.isfinite(x):
        return eng(x)
    return f"{100.0 * x:.1f}%"
