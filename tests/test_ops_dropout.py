"""Inverted dropout (Srivastava et al. 2014): counter-based masks, Keras scaling."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TOL
from gradcheck import check_grad
from vgp_native import _core, ops


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 0.9])
def test_kept_fraction_matches_rate(rate) -> None:
    n = 200_000
    _, mask = ops.dropout_forward(np.ones(n), rate, seed=7)
    kept = mask.mean()
    sigma = np.sqrt(rate * (1 - rate) / n)
    assert abs(kept - (1 - rate)) < 5 * sigma


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (33, 257), (129, 257)], ids=str)
def test_forward_and_backward_match_numpy(shape, dtype, rng) -> None:
    x = rng.standard_normal(shape).astype(dtype)
    y, mask = ops.dropout_forward(x, 0.25, seed=123)
    assert y.dtype == dtype and mask.dtype == np.bool_ and mask.shape == shape
    scale = dtype(1.0 / 0.75)
    np.testing.assert_array_equal(y, np.where(mask, x * scale, 0))
    dy = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_array_equal(
        ops.dropout_backward(dy, mask, 0.25), np.where(mask, dy * scale, 0)
    )


def test_same_seed_same_mask_other_seed_other_mask() -> None:
    x = np.ones((64, 64))
    a = ops.dropout_forward(x, 0.5, seed=1)[1]
    np.testing.assert_array_equal(a, ops.dropout_forward(x, 0.5, seed=1)[1])
    b = ops.dropout_forward(x, 0.5, seed=2)[1]
    # Independent masks agree on about half the elements.
    assert 0.45 < np.mean(a == b) < 0.55


def test_mask_is_not_shifted_between_neighbouring_seeds() -> None:
    m1 = ops.dropout_forward(np.ones(4096), 0.5, seed=10)[1]
    m2 = ops.dropout_forward(np.ones(4096), 0.5, seed=11)[1]
    for shift in range(1, 8):
        assert 0.44 < np.mean(m1[shift:] == m2[:-shift]) < 0.56


def test_counter_uniform_is_uniform() -> None:
    u = np.array([_core.counter_uniform(99, i) for i in range(20_000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    expected = len(u) / 10
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 30.0  # 9 degrees of freedom: p < 1e-3 beyond 27.9


def test_rate_zero_is_identity(rng) -> None:
    x = rng.standard_normal((5, 5))
    y, mask = ops.dropout_forward(x, 0.0, seed=3)
    np.testing.assert_array_equal(y, x)
    assert mask.all()


def test_hand_worked_example() -> None:
    # rate 0.5: kept elements are doubled (1 / (1 - 0.5) = 2), dropped ones are 0,
    # so the expected output equals the input and inference needs no rescaling.
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    y, mask = ops.dropout_forward(x, 0.5, seed=5)
    np.testing.assert_array_equal(y, np.where(mask, 2 * x, 0.0))
    np.testing.assert_array_equal(
        ops.dropout_backward(np.ones(8), mask, 0.5), np.where(mask, 2.0, 0.0)
    )


def test_gradient_matches_finite_differences(rng) -> None:
    # With a fixed seed the mask is fixed, so dropout is linear in x.
    def forward(x):
        return ops.dropout_forward(x, 0.3, seed=11)[0]

    def backward(r, x):
        return {"x": ops.dropout_backward(r, ops.dropout_forward(x, 0.3, seed=11)[1], 0.3)}

    check_grad(forward, backward, {"x": rng.standard_normal((4, 6))}, rng)


def test_float32_and_float64_share_the_mask(rng) -> None:
    x = rng.standard_normal((20, 20))
    y64, m64 = ops.dropout_forward(x, 0.4, seed=9)
    y32, m32 = ops.dropout_forward(x.astype(np.float32), 0.4, seed=9)
    np.testing.assert_array_equal(m32, m64)
    np.testing.assert_allclose(y32, y64, rtol=TOL[np.float32], atol=TOL[np.float32])


def test_one_and_two_threads_are_bitwise_equal(dtype, rng, assert_thread_invariant) -> None:
    x = rng.standard_normal((300, 257)).astype(dtype)
    assert_thread_invariant(lambda: ops.dropout_forward(x, 0.3, seed=17))
    mask = ops.dropout_forward(x, 0.3, seed=17)[1]
    assert_thread_invariant(lambda: ops.dropout_backward(x, mask, 0.3))


def test_mask_of_any_numeric_kind_is_accepted(rng) -> None:
    dy = rng.standard_normal(6)
    mask = np.array([1, 0, 2, 0, 1, 1])
    np.testing.assert_array_equal(
        ops.dropout_backward(dy, mask, 0.5), np.where(mask != 0, 2 * dy, 0)
    )
