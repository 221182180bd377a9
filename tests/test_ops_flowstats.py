"""Gradient-flow statistics against direct NumPy computation."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import BLOCK
from vgp_native import ops

REL = 1e-6  # float64 statistics against NumPy, relative (sums in another order)
MANY = 8 * BLOCK  # elements in several reduction chunks


def numpy_buffer_stats(x):
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):
        return {
            "l2": np.sqrt(np.sum(x * x)) if finite.all() else np.nan,
            "sumsq": np.sum(x * x),
            "mean_abs": np.mean(np.abs(x)),
            "max_abs": np.max(np.abs(x)),
            "nonfinite": int(np.count_nonzero(~finite)),
        }


def numpy_activation_stats(y, name, bins, lo, hi):
    y = np.asarray(y, dtype=np.float64)
    if name == "sigmoid":
        saturated = np.mean((y < 0.01) | (y > 0.99))
    elif name == "tanh":
        saturated = np.mean(np.abs(y) > 0.99)
    else:
        saturated = 0.0
    if name == "relu":
        dead = np.mean(np.all(y <= 0, axis=0))
    elif name in ("leaky_relu", "elu", "selu"):
        dead = np.mean(np.all(y < 0, axis=0))
    else:
        dead = 0.0
    finite = y[np.isfinite(y)]
    hist = np.histogram(np.clip(finite, lo, hi), bins=bins, range=(lo, hi))[0]
    with np.errstate(invalid="ignore", over="ignore"):
        mean, std = y.mean(), y.std()
    return {
        "mean": mean,
        "std": std,
        "saturated": saturated,
        "dead": dead,
        "nonfinite": int(np.count_nonzero(~np.isfinite(y))),
        "hist": hist,
    }


def assert_stats(got, want):
    for key, value in want.items():
        if key == "hist" or key == "nonfinite":
            np.testing.assert_array_equal(got[key], value, err_msg=key)
        else:
            np.testing.assert_allclose(got[key], value, rtol=REL, atol=1e-300, err_msg=key)


SIZES = [1, 7, 33, 257, MANY, MANY + 1, 100_003]


@pytest.mark.parametrize("n", SIZES)
def test_buffer_stats_match_numpy(n, dtype, rng) -> None:
    x = (rng.standard_normal(n) * 1e-3).astype(dtype)
    got = ops.buffer_stats(x)
    assert_stats(got, numpy_buffer_stats(x))
    assert isinstance(got["nonfinite"], int)


@pytest.mark.parametrize("n", [*SIZES, 3 * MANY + 5])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf])
def test_buffer_norm_is_buffer_stats_l2(n, bad, dtype, rng) -> None:
    x = rng.standard_normal(n).astype(dtype)
    if bad is not None:
        x[n // 2] = bad
    got, full = ops.buffer_norm(x), ops.buffer_stats(x)
    assert sorted(got) == ["l2", "nonfinite", "sumsq"]
    for key, value in got.items():  # bit for bit (NaN where buffer_stats has NaN)
        np.testing.assert_array_equal(value, full[key], err_msg=key)
    np.testing.assert_allclose(got["sumsq"], numpy_buffer_stats(x)["sumsq"], rtol=REL)


def test_buffer_norm_hand_worked() -> None:
    # [3, -4]: sum of squares 25, l2 5; Inf: l2 NaN, one non-finite.
    assert ops.buffer_norm(np.array([3.0, -4.0])) == {"l2": 5.0, "sumsq": 25.0, "nonfinite": 0}
    got = ops.buffer_norm(np.array([3.0, np.inf]))
    assert np.isnan(got["l2"]) and got["nonfinite"] == 1
    assert ops.buffer_norm(np.array([1e200, 1e200]))["l2"] == np.inf  # overflow, all finite


def test_buffer_stats_count_and_flag_nonfinite() -> None:
    x = np.array([1.0, -np.inf, 2.0, np.nan, 3.0])
    got = ops.buffer_stats(x)
    assert got["nonfinite"] == 2
    assert np.isnan(got["l2"])  # never mistaken for a finite large norm
    assert np.isnan(got["max_abs"])  # NaN propagates as in numpy.max
    only_inf = ops.buffer_stats(np.array([1.0, np.inf]))
    assert only_inf["nonfinite"] == 1 and np.isnan(only_inf["l2"])
    assert only_inf["max_abs"] == np.inf


def test_buffer_stats_hand_worked() -> None:
    # [3, -4]: sum of squares 25, l2 5, mean |x| 3.5, max |x| 4.
    got = ops.buffer_stats(np.array([[3.0, -4.0]]))
    assert got == {"l2": 5.0, "sumsq": 25.0, "mean_abs": 3.5, "max_abs": 4.0, "nonfinite": 0}


ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "linear", "softmax", "gelu"]


# One chunk of 4096 elements (binned in the summing pass) and more (binned after).
@pytest.mark.parametrize(
    "shape", [(1, 1), (1, 7), (64, 64), (1, 4097), (33, 257), (129, 257)], ids=str
)
@pytest.mark.parametrize("name", ACTS)
def test_activation_stats_match_numpy(name, shape, dtype, rng) -> None:
    x = 3 * rng.standard_normal(shape)
    x[:, : shape[1] // 3] = -np.abs(x[:, : shape[1] // 3])  # some dead relu units
    y = ops.activation_forward(x.astype(dtype), name)
    got = ops.activation_stats(y, name, bins=13, range=(-1.5, 1.5))
    assert_stats(got, numpy_activation_stats(y, name, 13, -1.5, 1.5))
    np.testing.assert_allclose(got["bin_edges"], np.linspace(-1.5, 1.5, 14))


@pytest.mark.parametrize("shape", [(40, 10), (129, 257)], ids=str)
def test_activation_stats_spread_far_from_zero(shape, dtype, rng) -> None:
    # Values near 1000 with a spread of 1e-3: the shifted sums (c = y[0]) keep
    # the variance where sum y^2 - (sum y)^2 / n would lose all of it.
    y = (1000.0 + 1e-3 * rng.standard_normal(shape)).astype(dtype)
    got = ops.activation_stats(y, "linear", bins=7, range=(999.99, 1000.01))
    want = numpy_activation_stats(y, "linear", 7, 999.99, 1000.01)
    np.testing.assert_allclose(got["std"], want["std"], rtol=1e-9)
    assert_stats(got, want)


@pytest.mark.parametrize("shape", [(8, 5), (129, 257)], ids=str)
@pytest.mark.parametrize("first", [np.nan, np.inf, 0.25])
def test_activation_stats_nonfinite_match_numpy(shape, first, dtype, rng) -> None:
    # NaN and Inf anywhere, the first element too (the shift of the sums):
    # counted, left out of the histogram, std NaN, in one chunk or several.
    y = rng.random(shape).astype(dtype)
    y.flat[0] = first
    y.flat[[3, 17 % y.size]] = [np.nan, -np.inf]
    got = ops.activation_stats(y, "sigmoid", bins=20, range=(0.0, 1.0))
    assert_stats(got, numpy_activation_stats(y, "sigmoid", 20, 0.0, 1.0))
    assert np.isnan(got["std"])


def test_activation_stats_finite_values_beyond_shifted_squares() -> None:
    # (y - y[0])^2 = (1.6e154)^2 overflows double, the deviations from the mean
    # (0.8e154) do not: the std comes from a second pass, as numpy's.
    y = np.array([[-0.8e154, 0.8e154]])
    got = ops.activation_stats(y, "linear", bins=2, range=(-1e154, 1e154))
    assert got["std"] == 0.8e154 and got["nonfinite"] == 0
    np.testing.assert_array_equal(got["hist"], [1, 1])


def test_activation_stats_many_bins(rng) -> None:
    y = rng.standard_normal((50, 30))
    got = ops.activation_stats(y, "linear", bins=150, range=(-2.0, 2.0))
    assert_stats(got, numpy_activation_stats(y, "linear", 150, -2.0, 2.0))


@pytest.mark.parametrize("name", ["relu", "elu"])
def test_dead_units_seen_on_late_or_as_nan(name) -> None:
    # 37 rows x 130 units (two column chunks): unit j % 3 == 0 switches on in
    # the last row only, j % 3 == 1 is NaN once (counts as on), the rest stay off.
    y = np.full((37, 130), -1.0 if name == "elu" else 0.0)
    y[-1, 0::3] = 1.0
    y[5, 1::3] = np.nan
    got = ops.activation_stats(y, name)
    assert got["dead"] == np.mean(np.arange(130) % 3 == 2)


def test_buffer_stats_nonfinite_in_large_buffer(dtype, rng) -> None:
    x = rng.standard_normal(3 * MANY + 5).astype(dtype)
    x[[0, 100, MANY + 1]] = [np.inf, np.nan, -np.inf]
    assert_stats(ops.buffer_stats(x), numpy_buffer_stats(x))


def test_buffer_stats_squares_beyond_double() -> None:
    # Finite values whose squares overflow: l2 is inf (not NaN: nothing is non-finite).
    got = ops.buffer_stats(np.array([1e200, -1e200, 3.0]))
    assert got["l2"] == np.inf and got["nonfinite"] == 0 and got["max_abs"] == 1e200


def test_activation_stats_hand_worked() -> None:
    # relu outputs, 2 rows x 3 units: unit 0 is off in both rows (dead), unit 1 in one only.
    # mean = (0 + 2 + 1 + 0 + 0 + 3) / 6 = 1, std = sqrt((1+1+0+1+1+4)/6) = sqrt(4/3).
    y = np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 3.0]])
    got = ops.activation_stats(y, "relu", bins=3, range=(0.0, 3.0))
    assert got["mean"] == 1.0
    assert got["std"] == pytest.approx(np.sqrt(4 / 3), rel=1e-15)
    assert got["dead"] == pytest.approx(1 / 3, rel=1e-15)
    assert got["saturated"] == 0.0
    # Bins [0,1) [1,2) [2,3]: 0,0,0 -> 3; 1 -> 1; 2,3 -> 2.
    np.testing.assert_array_equal(got["hist"], [3, 1, 2])


def test_sigmoid_saturation_fraction() -> None:
    # 0.005 and 0.995 are within 1e-2 of the bounds; 0.5 and 0.02 are not.
    y = np.array([[0.005, 0.5, 0.995, 0.02]])
    assert ops.activation_stats(y, "sigmoid")["saturated"] == 0.5


def test_activation_stats_nonfinite_and_out_of_range() -> None:
    y = np.array([[np.nan, -5.0, 0.5, np.inf, 9.0]])
    got = ops.activation_stats(y, "linear", bins=2, range=(0.0, 1.0))
    assert got["nonfinite"] == 2
    assert np.isnan(got["mean"])
    # -5 falls in the first bin, 0.5 and 9 in the last; NaN/Inf are not counted.
    np.testing.assert_array_equal(got["hist"], [1, 2])


def test_default_histogram_ranges(rng) -> None:
    y = ops.activation_forward(rng.standard_normal((10, 4)), "sigmoid")
    assert ops.activation_stats(y, "sigmoid", bins=4)["bin_edges"][[0, -1]].tolist() == [0.0, 1.0]
    z = rng.standard_normal((10, 4))
    edges = ops.activation_stats(z, "linear", bins=4)["bin_edges"]
    assert edges[0] == z.min() and edges[-1] == z.max()
    const = ops.activation_stats(np.full((2, 2), 3.0), "relu", bins=2)
    assert const["bin_edges"][[0, -1]].tolist() == [2.5, 3.5]


def test_one_and_two_threads_are_bitwise_equal(dtype, rng, assert_thread_invariant) -> None:
    x = rng.standard_normal((300, 257)).astype(dtype)
    y = ops.activation_forward(x, "relu")
    assert_thread_invariant(lambda: ops.buffer_stats(x))
    assert_thread_invariant(lambda: ops.buffer_norm(x))
    assert_thread_invariant(lambda: ops.activation_stats(y, "relu", bins=50, range=(0.0, 3.0)))
    y[::97, 5] = np.nan  # the careful pass, its histogram over threads
    assert_thread_invariant(lambda: ops.activation_stats(y, "relu", bins=50, range=(0.0, 3.0)))


def test_float32_agrees_with_float64(rng) -> None:
    x = rng.standard_normal(5000)
    a = ops.buffer_stats(x.astype(np.float32))
    b = ops.buffer_stats(x.astype(np.float32).astype(np.float64))
    assert a == b  # float32 values summed in double give the same sums
    x32 = x.astype(np.float32)
    assert ops.buffer_norm(x32) == ops.buffer_norm(x32.astype(np.float64))
