"""The one number formatter (vgp_native._format): a table of cases and its rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vgp_native._format import fixed, num, percent, plus_minus

NUM_CASES = [
    # (value, digits, trim, expected); trim None: trailing zeros only where rounded.
    (0.0721, 2, None, "0.072"),  # not 72e-3
    (0.767, 2, None, "0.77"),  # not 767e-3
    (1.254e-19, 2, None, "1.3e-19"),  # not 125e-21
    (3.7e-06, 2, None, "3.7e-6"),
    (0.0035, 2, None, "0.0035"),  # a small ratio never prints as 0
    (0.6899, 3, None, "0.690"),  # not 690e-3; the zero is a digit of the rounded value
    (0.6899, 3, True, "0.69"),
    (0.6931, 3, None, "0.693"),
    (0.001, 3, None, "0.001"),  # exact: no trailing zeros
    (float(np.float32(0.001)), 3, None, "0.001"),
    (0.001, 3, False, "0.00100"),
    (0.5, 3, None, "0.5"),
    (0.00099996, 3, None, "0.00100"),  # rounding carries into fixed point
    (0.00099, 2, None, "9.9e-4"),
    (1e-5, 3, None, "1e-5"),
    (1.00004e-5, 3, None, "1.00e-5"),
    (99999.7, 3, None, "1.00e5"),  # rounding carries into scientific notation
    (123456.0, 3, None, "1.23e5"),
    (12345.6, 3, None, "12346"),  # digits left of the point stay
    (2.5e4, 3, None, "25000"),
    (-0.0721, 2, None, "-0.072"),
    (-2.5e-7, 3, None, "-2.5e-7"),
    (1.0, 3, None, "1"),
    (1.0, 3, False, "1.00"),
    (0.9996, 3, None, "1.00"),
    (3.4, 2, None, "3.4"),
    (np.float32(0.5), 3, None, "0.5"),
    (64, 3, None, "64"),
    (np.int64(3), 3, None, "3"),
    (0.0, 3, None, "0"),
    (-0.0, 3, None, "0"),
    (None, 3, None, "-"),
    (math.nan, 3, None, "nan"),
    (math.inf, 3, None, "inf"),
    (-math.inf, 3, None, "-inf"),
    ("n/a", 3, None, "n/a"),
]


@pytest.mark.parametrize(("value", "digits", "trim", "expected"), NUM_CASES)
def test_num_table(value, digits, trim, expected):
    assert num(value, digits, trim=trim) == expected


def test_fixed_plus_minus_and_percent_table():
    assert [fixed(v) for v in (0.9, 0.834, 1, -0.001, 0.0, None, math.nan)] == [
        "0.90",
        "0.83",
        "1.00",
        "0.00",
        "0.00",
        "-",
        "nan",
    ]
    assert fixed(0.69314, 4) == "0.6931"
    assert plus_minus(0.9, 0.004) == "0.90 ± 0.00"
    assert plus_minus(0.8333, 0.0125) == "0.83 ± 0.01"
    assert [percent(v) for v in (0.973, 1, 0.0, 1e-5, None, math.nan)] == [
        "97.3%",
        "100.0%",
        "0.0%",
        "<0.1%",
        "-",
        "nan",
    ]
    assert percent(0.5, 0) == "50%"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="digits"):
        num(1.0, 0)
    with pytest.raises(ValueError, match="decimals"):
        fixed(1.0, -1)
    with pytest.raises(TypeError, match="expected a number"):
        num(object())
    with pytest.raises(TypeError, match="bool"):
        percent(True)


@given(
    st.floats(min_value=-1e300, max_value=1e300).filter(lambda v: v != 0.0),
    st.integers(1, 6),
)
def test_num_keeps_value_and_shape(value, digits):
    text = num(value, digits)
    # Never engineering notation (a mantissa of several digits before "e"),
    # never a non-zero shown as zero, and the value read back is the value rounded.
    mantissa = text.split("e")[0].lstrip("-")
    if "e" in text:
        assert len(mantissa.split(".")[0]) == 1
    assert float(text) != 0.0
    assert math.isclose(float(text), value, rel_tol=0.51 * 10.0 ** (1 - digits))
