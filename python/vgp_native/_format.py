"""The package's one number formatter: figures, pages, tables and messages read alike.

Rules (``num``): a number keeps ``digits`` significant digits; it is written in
fixed point between ``SMALL`` (1e-3) and ``LARGE`` (1e5), and in scientific
notation with a one-digit mantissa outside (``3.7e-6``, ``1.2e5``), never in
engineering steps (``72e-3``). A non-zero value never prints as ``0``: 0.0035
at two digits is ``0.0035``. Trailing zeros are kept where they are digits of
a rounded value (0.6899 is ``0.690``) and dropped where the number is exact
(``0.001``, ``0.5``, ``1``); ``trim`` forces either. Columns
that need aligned decimals use ``fixed`` and ``plus_minus`` (``0.90 ± 0.00``),
and fractions ``percent`` (``97.3%``, ``<0.1%``).

Missing values (None) print as ``-``; NaN as ``nan``; infinities as ``inf``
and ``-inf``; integers as they are; strings pass through unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["LARGE", "SMALL", "fixed", "num", "percent", "plus_minus"]

#: Smallest magnitude written in fixed point (below: scientific notation).
SMALL = 1e-3
#: Magnitude from which scientific notation is used again.
LARGE = 1e5


def _special(value: Any, ints: bool = True) -> tuple[str | None, float]:
    """Text for values that need no digits (None, str, NaN, inf, 0 and, when ``ints``,
    integers), else the value as a float."""
    if value is None:
        return "-", math.nan
    if isinstance(value, str):
        return value, math.nan
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"expected a number, received the bool {value!r}")
    if ints and isinstance(value, (int, np.integer)):
        return str(int(value)), math.nan
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"expected a number, received {type(value).__name__}") from None
    if math.isnan(x):
        return "nan", x
    if math.isinf(x):
        return ("inf" if x > 0 else "-inf"), x
    if x == 0.0:
        return "0", x
    return None, x


def _check_count(count: Any, name: str, minimum: int) -> int:
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, received {count!r}")
    return int(count)


def _strip(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def num(value: Any, digits: int = 3, trim: bool | None = None) -> str:
    """A number with ``digits`` significant digits, fixed point in [1e-3, 1e5).

    ``num(0.0721, 2)`` is ``"0.072"``, ``num(3.7e-06, 2)`` ``"3.7e-6"``,
    ``num(0.6899)`` ``"0.690"``, ``num(0.001)`` ``"0.001"``,
    ``num(1.25e-19, 2)`` ``"1.3e-19"``, ``num(123456.0)`` ``"1.23e5"``,
    ``num(0.0035, 2)`` ``"0.0035"``. Digits left of the point are never rounded
    away (``num(12345.6)`` is ``"12346"``).

    Args:
        value: a real number, None, or a string (returned as it is).
        digits: significant digits (at least 1).
        trim: drop trailing zeros after the point (True), keep them (False), or
            drop them only when the shorter number is the value (None: to 1e-6,
            so a float32 0.001 counts as 0.001).
    """
    digits = _check_count(digits, "digits", 1)
    text, x = _special(value)
    if text is not None:
        return text
    # Round first, then choose the notation: 0.00099996 at 3 digits is 1.00e-3.
    mantissa, exponent = f"{abs(x):.{digits - 1}e}".split("e")
    power = int(exponent)
    sign = "-" if x < 0 else ""
    if SMALL <= abs(float(f"{mantissa}e{power}")) < LARGE:
        body = f"{abs(x):.{max(0, digits - 1 - power)}f}"
        return sign + (_strip(body) if _trims(trim, body, x) else body)
    short = _strip(mantissa) if _trims(trim, f"{mantissa}e{power}", x) else mantissa
    return f"{sign}{short}e{power}"


def _trims(trim: bool | None, text: str, x: float) -> bool:
    """Whether to drop trailing zeros: as asked, or (None) when the value is that number."""
    if trim is not None:
        return trim
    return math.isclose(float(text), abs(x), rel_tol=1e-6)


def fixed(value: Any, decimals: int = 2) -> str:
    """A number with ``decimals`` digits after the point (``fixed(0.9)`` is ``"0.90"``).

    For columns whose entries share a scale (accuracies, losses); ``-0.00`` prints
    as ``0.00``. Missing and non-finite values as in ``num``.
    """
    decimals = _check_count(decimals, "decimals", 0)
    text, x = _special(value, ints=False)
    if text is not None and text != "0":
        return text
    body = f"{0.0 if text == '0' else x:.{decimals}f}"
    return body[1:] if body.startswith("-") and float(body) == 0.0 else body


def plus_minus(mean: Any, spread: Any, decimals: int = 2) -> str:
    """``"0.90 ± 0.00"``: a mean and its spread with the same decimals."""
    return f"{fixed(mean, decimals)} ± {fixed(spread, decimals)}"


def percent(value: Any, decimals: int = 1) -> str:
    """A fraction as a percentage: ``0.973`` is ``"97.3%"``; a tiny non-zero one ``"<0.1%"``."""
    decimals = _check_count(decimals, "decimals", 0)
    text, x = _special(value, ints=False)
    if text is not None and text != "0":
        return text
    shown = 0.0 if text == "0" else 100.0 * x
    least = 10.0**-decimals
    if 0 < abs(shown) < 0.5 * least:
        return f"{'>-' if shown < 0 else '<'}{least:.{decimals}f}%"
    return f"{fixed(shown, decimals)}%"
