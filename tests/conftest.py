"""Shared fixtures: a seeded generator, the two dtypes, their tolerances, and
helpers that run a computation at 1 and 2 threads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import vgp_native as vn

DTYPES = (np.float32, np.float64)
#: Relative tolerance of a kernel result against a float64 NumPy reference.
TOL = {np.float32: 1e-5, np.float64: 1e-10}
#: Elements per block and per reduction chunk of the kernels' flat loops (parallel.h kBlock).
BLOCK = 4096


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


@pytest.fixture(params=DTYPES, ids=["float32", "float64"])
def dtype(request: pytest.FixtureRequest) -> type:
    return request.param


@pytest.fixture
def tol(dtype: type) -> float:
    return TOL[dtype]


@pytest.fixture
def restore_threads() -> Iterator[None]:
    before = vn.get_num_threads()
    yield
    vn.set_num_threads(before)


@contextmanager
def native_threads(n: int) -> Iterator[None]:
    """n native threads, and with more than one, every loop of more than one block
    split among them: the kernels' work threshold (64 us of single-core work) is
    set to 0, so that test-sized inputs take the threaded paths. Both are restored."""
    threads, min_ns = vn.get_num_threads(), vn._core.get_parallel_min_ns()
    vn.set_num_threads(n)
    if n > 1:
        vn._core.set_parallel_min_ns(0.0)
    try:
        yield
    finally:
        vn.set_num_threads(threads)
        vn._core.set_parallel_min_ns(min_ns)


def at_threads(n: int, fn: Callable[[], Any]) -> Any:
    """fn() run with n native threads, every loop split when n > 1 (native_threads)."""
    with native_threads(n):
        return fn()


def _flatten(result: Any) -> list[np.ndarray]:
    if isinstance(result, dict):
        return [np.asarray(result[k]) for k in sorted(result)]
    if isinstance(result, tuple | list):
        return [a for r in result if r is not None for a in _flatten(r)]
    return [np.asarray(result)]


@pytest.fixture
def assert_thread_invariant(restore_threads: None) -> Callable[[Callable[[], Any]], None]:
    """Asserts that fn() gives bitwise identical results with 1 and 2 threads."""

    def check(fn: Callable[[], Any]) -> None:
        one = _flatten(at_threads(1, fn))
        two = _flatten(at_threads(2, fn))
        assert len(one) == len(two)
        for a, b in zip(one, two, strict=True):
            assert a.dtype == b.dtype
            assert a.tobytes() == b.tobytes()

    return check


def assert_close(actual: Any, expected: Any, tol: float, scale: float = 1.0) -> None:
    """|actual - expected| <= tol * (|expected| + scale), elementwise."""
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64), expected, rtol=tol, atol=tol * scale
    )
