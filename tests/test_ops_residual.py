"""Residual merge kernels (He et al. 2016): y = x + f(x), dx = d_skip + d_inner."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TOL, assert_close
from gradcheck import check_grad
from vgp_native import ops

SHAPES = [(1, 1), (1, 7), (33, 257), (128, 256), (129, 257), (5,), (2, 3, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_forward_and_backward_match_numpy(shape, dtype, tol, rng) -> None:
    a = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype)
    for out in (ops.residual_add_forward(a, b), ops.residual_add_backward(a, b)):
        assert out.dtype == dtype and out.shape == shape
        assert_close(out, a.astype(np.float64) + b, tol)


def test_gradient_matches_finite_differences(rng) -> None:
    def backward(r, x, fx):
        # The upstream gradient reaches x along the skip and fx along the inner path.
        return {"x": ops.residual_add_backward(r, np.zeros_like(r)), "fx": r}

    inputs = {"x": rng.standard_normal((3, 4)), "fx": rng.standard_normal((3, 4))}
    check_grad(ops.residual_add_forward, backward, inputs, rng)


def test_hand_worked_example() -> None:
    # x = [1, -2], f(x) = [0.5, 0.5]: y = [1.5, -1.5].
    np.testing.assert_array_equal(ops.residual_add_forward([1.0, -2.0], [0.5, 0.5]), [1.5, -1.5])
    # A vanishing inner gradient (1e-9) does not vanish the input gradient: the
    # skip path carries dy = 0.3 unchanged, dx = 0.3 + 1e-9.
    dx = ops.residual_add_backward(np.array([0.3]), np.array([1e-9]))
    assert dx[0] == 0.3 + 1e-9


def test_float32_agrees_with_float64(rng) -> None:
    a, b = rng.standard_normal((9, 9)), rng.standard_normal((9, 9))
    assert_close(
        ops.residual_add_forward(a.astype(np.float32), b.astype(np.float32)),
        ops.residual_add_forward(a, b),
        TOL[np.float32],
    )


def test_one_and_two_threads_are_bitwise_equal(dtype, rng, assert_thread_invariant) -> None:
    a = rng.standard_normal((300, 257)).astype(dtype)
    b = rng.standard_normal((300, 257)).astype(dtype)
    assert_thread_invariant(
        lambda: (ops.residual_add_forward(a, b), ops.residual_add_backward(a, b))
    )


def test_mixed_dtypes_promote_to_float64(rng) -> None:
    a = rng.standard_normal(4)
    out = ops.residual_add_forward(a.astype(np.float32), a)
    assert out.dtype == np.float64
