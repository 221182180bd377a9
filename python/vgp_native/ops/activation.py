"""Checked wrappers of the activation kernels (cpp/ops/activation), forward and backward.

Public through :mod:`vgp_native.ops`; see there for the conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .. import activations as _activations
from .._validation import common_dtype as _dtype_of
from .._validation import float_array, float_like


def _as_rows(arr: np.ndarray) -> np.ndarray:
    """A 1-D array as one row ``(1, n)``; a 2-D array unchanged."""
    return arr.reshape(1, -1) if arr.ndim == 1 else arr


def activation_forward(x: Any, activation: str | None) -> np.ndarray:
    """``y = act(x)`` elementwise, or per row for softmax (Keras 3 definitions).

    sigmoid is computed sign-split, softplus as ``max(x, 0) + log1p(e^-|x|)``
    and softmax with the row maximum subtracted, so ``|x|`` up to 1e4 gives
    finite values. The formulas are listed in :mod:`vgp_native.activations`.

    Args:
        x: ``(batch, features)``, or ``(features,)`` for one row.
        activation: activation name.

    Returns:
        ``y``, the shape of ``x``.
    """
    x = float_array(x, "x", _dtype_of(x), ndim=(1, 2))
    act = _activations.code(activation)
    y = np.empty_like(x)
    _core.activation_forward(_as_rows(x), _as_rows(y), act)
    return y


def activation_backward(x: Any, y: Any, dy: Any, activation: str | None) -> np.ndarray:
    """``dx = dy ⊙ act'(x)``; for softmax ``dx_i = y_i (dy_i − Σ_j dy_j y_j)`` per row.

    The sigmoid's derivative ``y (1 − y)`` never exceeds 1/4: a chain of
    sigmoid layers shrinks the gradient geometrically (Glorot & Bengio 2010).

    Args:
        x: the pre-activation, ``(batch, features)`` or ``(features,)``.
        y: the output ``act(x)``, used where cheaper.
        dy: the upstream gradient ``∂L/∂y``.
        activation: activation name.

    Returns:
        ``dx``, the shape of ``x``.
    """
    dtype = _dtype_of(x, y, dy)
    x = float_array(x, "x", dtype, ndim=(1, 2))
    y = float_like(y, "y", dtype, x, "x")
    dy = float_like(dy, "dy", dtype, x, "x")
    act = _activations.code(activation)
    dx = np.empty_like(x)
    _core.activation_backward(_as_rows(x), _as_rows(y), _as_rows(dy), _as_rows(dx), act)
    return dx
