"""Checked wrappers of the residual-addition kernels (cpp/ops/residual): ``y = x + f(x)``.

Public through :mod:`vgp_native.ops`; see there for the conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._validation import common_dtype as _dtype_of
from .._validation import float_array, float_like


def _sum_pair(kernel: Any, a: Any, b: Any, a_name: str, b_name: str) -> np.ndarray:
    dtype = _dtype_of(a, b)
    a = float_array(a, a_name, dtype)
    b = float_like(b, b_name, dtype, a, a_name)
    out = np.empty_like(a)
    kernel(a, b, out)
    return out


def residual_add_forward(x: Any, fx: Any) -> np.ndarray:
    """Skip connection ``y = x + f(x)`` (He et al. 2016).

    Args:
        x: the block's input.
        fx: the inner layers' output, the shape of ``x``.

    Returns:
        ``y = x + fx``.
    """
    return _sum_pair(_core.residual_add_forward, x, fx, "x", "fx")


def residual_add_backward(d_skip: Any, d_inner: Any) -> np.ndarray:
    """Input gradient of a residual block: ``dx = d_skip + d_inner``.

    The identity path passes the upstream gradient through unchanged, so ``dx``
    never vanishes however small the inner layers' Jacobian becomes (He et al. 2016).

    Args:
        d_skip: gradient reaching ``x`` through the skip path.
        d_inner: gradient reaching ``x`` through the inner layers, the same shape.

    Returns:
        ``dx``.
    """
    return _sum_pair(_core.residual_add_backward, d_skip, d_inner, "d_skip", "d_inner")
