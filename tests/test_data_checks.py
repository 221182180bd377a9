"""The data checks of fit / evaluate / predict: one native scan of each array.

``_core.scan_values`` counts NaN and +-Inf and gives the finite range in one
pass; fit's checks read it instead of numpy's boolean temporaries. Checked
against numpy on every kind of value, across chunk boundaries and on threads,
and through the errors a user sees.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

import vgp_native as vn
from vgp_native import _core
from vgp_native._validation import scan_values
from vgp_native.layers import Dense
from vgp_native.models import Sequential


def _reference(a: np.ndarray) -> tuple[int, float, float]:
    finite = a[np.isfinite(a)]
    bad = int(a.size - finite.size)
    if finite.size == 0:
        return bad, math.inf, -math.inf
    return bad, float(finite.min()), float(finite.max())


def _special_values(dtype) -> np.ndarray:
    info = np.finfo(dtype)
    return np.array(
        [0.0, -0.0, info.max, -info.max, info.tiny, info.smallest_subnormal, -1.5, np.nan,
         np.inf, -np.inf],
        dtype=dtype,
    )  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 7, 16, 65535, 65536, 65537, 300_001])
@pytest.mark.parametrize("threads", [1, 2])
def test_scan_matches_numpy(dtype, n: int, threads: int) -> None:
    rng = np.random.default_rng(n)
    a = (rng.standard_normal(n) * 1e3).astype(dtype)
    if n:
        where = rng.integers(0, n, size=min(n, 9))
        a[where] = rng.choice(_special_values(dtype), size=where.size)
    old_threads, old_min = vn.get_num_threads(), _core.get_parallel_min_ns()
    try:
        vn.set_num_threads(threads)
        _core.set_parallel_min_ns(0.0)  # every buffer of more than one chunk on threads
        got = _core.scan_values(a)
    finally:
        vn.set_num_threads(old_threads)
        _core.set_parallel_min_ns(old_min)
    assert got == _reference(a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scan_of_special_values(dtype) -> None:
    values = _special_values(dtype)
    assert _core.scan_values(values) == _reference(values)
    assert _core.scan_values(np.array([np.nan, np.inf, -np.inf], dtype)) == (3, math.inf, -math.inf)
    assert _core.scan_values(np.zeros((0, 4), dtype)) == (0, math.inf, -math.inf)
    # Signed zeros: the range is what numpy's min and max give.
    assert _core.scan_values(np.array([-0.0, 0.0], dtype))[1:] == (0.0, 0.0)


def test_scan_takes_only_float_arrays_in_c_order() -> None:
    with pytest.raises(TypeError):
        _core.scan_values(np.arange(4))
    with pytest.raises(TypeError):
        _core.scan_values(np.ones((4, 4), np.float32).T)
    # The Python front end takes everything numeric, natively or through numpy.
    a = np.arange(12.0).reshape(3, 4)
    a[1, 2] = np.nan
    for view in (a.T, a.astype(np.float16), a[:, ::2], a.astype(np.float32)):
        assert scan_values(view) == _reference(view)
    assert scan_values(np.arange(5)) == (0, 0.0, 4.0)


def _model(loss: str, units: int = 1, act: str = "sigmoid") -> Sequential:
    model = Sequential([Dense(units, act, input_dim=2)], seed=0)
    model.compile(loss=loss, optimizer="sgd")
    return model


def test_fit_names_the_count_and_range_it_found() -> None:
    x = np.ones((6, 2), np.float32)
    bad_x = x.copy()
    bad_x[[0, 2, 5], 1] = [np.nan, np.inf, -np.inf]
    with pytest.raises(ValueError, match=r"x contains 3 NaN or Inf value\(s\)"):
        _model("binary_crossentropy").fit(bad_x, np.ones(6), verbose=0)
    with pytest.raises(ValueError, match=r"y contains 1 NaN or Inf value\(s\)"):
        _model("binary_crossentropy").fit(x, [0, 1, np.nan, 1, 0, 1], verbose=0)
    with pytest.raises(ValueError, match=r"received values in \[-0\.25, 1\.0\]"):
        _model("binary_crossentropy").fit(x, [0, 1, -0.25, 1, 0, 1], verbose=0)
    with pytest.raises(ValueError, match=r"received values in \[0\.0, 1\.5\]"):
        _model("binary_crossentropy").fit(x, [0, 1, 1.5, 1, 0, 1], verbose=0)
    sparse = _model("sparse_categorical_crossentropy", 3, "softmax")
    with pytest.raises(ValueError, match=r"received values in \[-1\.0, 2\.0\]"):
        sparse.fit(x, [0, 1, -1, 2, 0, 1], verbose=0)
    with pytest.raises(ValueError, match=r"y contains 2 NaN or Inf"):
        sparse.fit(x, [0, np.nan, 1, np.inf, 0, 1], verbose=0)
    # The edges of the ranges are accepted.
    _model("binary_crossentropy").fit(x, [0, 1, 0.0, 1, -0.0, 1], verbose=0)
    sparse.fit(x, [0, 1, 2, 2, 0, 1], verbose=0)


def test_the_checks_allocate_no_copy_of_the_data() -> None:
    # numpy's isfinite and comparisons allocated a byte per element each (a
    # quarter of a float32 x, three quarters of binary targets at their peak).
    n = 200_000
    x = np.random.default_rng(0).standard_normal((n, 8)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = Sequential([Dense(1, "sigmoid", input_dim=8)], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    model.fit(x[:64], y[:64], epochs=1, verbose=0)
    tracemalloc.start()
    try:
        model.evaluate(x, y, batch_size=n, verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < y.nbytes // 4, peak
