"""Checked wrappers of the inverted-dropout kernels (cpp/ops/dropout), Srivastava et al. 2014.

Public through :mod:`vgp_native.ops`; see there for the conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._validation import check_float, check_int, float_array, numeric_array
from .._validation import common_dtype as _dtype_of


def _rate(rate: Any) -> float:
    return check_float(rate, "rate", minimum=0.0, maximum=1.0, max_inclusive=False)


def dropout_forward(x: Any, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverted dropout (Srivastava et al. 2014): ``y = keep · x / (1 − rate)``.

    ``keep ~ Bernoulli(1 − rate)`` is a pure function of ``(seed, element
    index)``: the same seed gives the same mask for any thread count.

    Args:
        x: inputs, any shape.
        rate: fraction of elements dropped, in [0, 1).
        seed: non-negative integer below 2**64.

    Returns:
        ``(y, mask)`` with ``mask`` a boolean array (True = kept).
    """
    x = float_array(x, "x", _dtype_of(x))
    rate = _rate(rate)
    seed = check_int(seed, "seed", minimum=0)
    if seed >= 2**64:
        raise ValueError(f"seed must be < 2**64, received {seed}")
    y = np.empty_like(x)
    mask = np.empty(x.shape, dtype=np.uint8)
    _core.dropout_forward(x, y, mask, rate, seed)
    return y, mask.view(np.bool_)


def dropout_backward(dy: Any, mask: Any, rate: float) -> np.ndarray:
    """Gradient of inverted dropout: ``dx = mask · dy / (1 − rate)``.

    Args:
        dy: upstream gradient.
        mask: the mask from :func:`dropout_forward` (nonzero = kept), the shape of ``dy``.
        rate: the rate used forward, in [0, 1).

    Returns:
        ``dx``.
    """
    dy = float_array(dy, "dy", _dtype_of(dy))
    mask = numeric_array(mask, "mask")
    if mask.shape != dy.shape:
        raise ValueError(
            f"mask must have shape {dy.shape} (the shape of dy), received {mask.shape}"
        )
    keep = np.ascontiguousarray(mask != 0, dtype=np.uint8)
    dx = np.empty_like(dy)
    _core.dropout_backward(dy, keep, dx, _rate(rate))
    return dx
