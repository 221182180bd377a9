"""Checked wrapper of the general matrix product (cpp/ops/gemm).

Public through :mod:`vgp_native.ops`; see there for the conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .. import activations as _activations
from .._validation import common_dtype as _dtype_of
from .._validation import float_array, resolve_dtype


def gemm(
    a: Any,
    b: Any,
    trans_a: bool = False,
    trans_b: bool = False,
    c: Any = None,
    bias: Any = None,
    activation: str | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """General matrix product ``op(a) @ op(b) (+ c) (+ bias)``, optionally ``act(...)``.

    Args:
        a: ``(m, k)``, or ``(k, m)`` with ``trans_a``.
        b: ``(k, n)``, or ``(n, k)`` with ``trans_b``.
        trans_a, trans_b: use the transpose of ``a`` / ``b``.
        c: optional ``(m, n)`` array added to the product (not modified).
        bias: optional ``(n,)`` vector added to every row.
        activation: optional elementwise activation name applied last.

    Returns:
        The ``(m, n)`` product; with ``activation``, the pair ``(pre, post)``.
    """
    dtype = _dtype_of(a, b, c, bias)
    a = float_array(a, "a", dtype, ndim=2)
    b = float_array(b, "b", dtype, ndim=2)
    m = a.shape[1] if trans_a else a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    if c is None:
        out = np.empty((m, n), dtype=dtype)
        accumulate = False
    else:
        out = float_array(c, "c", dtype, ndim=2).copy()
        accumulate = True
    bias_arr = None if bias is None else float_array(bias, "bias", dtype, ndim=1)
    act = 0
    post = None
    if activation is not None:
        name = _activations.get(activation)
        if name == "softmax":
            raise ValueError("activation must be elementwise for gemm, received 'softmax'")
        act = _activations.code(name)
        post = np.empty((m, n), dtype=dtype)
    _core.gemm(a, b, out, bool(trans_a), bool(trans_b), accumulate, bias_arr, act, post)
    return out if post is None else (out, post)


def gemm_kernel_name(dtype: Any = "float32") -> str:
    """Name of the GEMM micro-kernel used for ``dtype`` on this CPU (avx512, avx2, scalar)."""
    return _core.gemm_kernel_name(np.empty(1, dtype=resolve_dtype(dtype)))


#: ``cpu_info() -> dict``: the CPU as the GEMM sees it (vendor, caches, vector ISA,
#: FMA throughput) and the kernel, register tile and blocks chosen per dtype.
cpu_info = _core.cpu_info
