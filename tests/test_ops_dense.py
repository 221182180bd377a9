"""Dense kernels: forward with the fused epilogue, backward GEMMs and column sums."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TOL, assert_close
from gradcheck import check_grad
from reference import ref_backward, ref_forward
from vgp_native import ops

# (batch, in_features, out_features): a 1-row batch, odd sizes, and a db sum
# over 129 x 257 = 33153 elements (threaded) next to 33 x 257 (serial).
SHAPES = [(1, 1, 1), (1, 7, 33), (7, 1, 257), (33, 7, 257), (129, 33, 257)]


def reference(x, w, b, activation):
    z = x.astype(np.float64) @ w.astype(np.float64)
    if b is not None:
        z = z + b
    return z, ref_forward(z, activation or "linear")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "gelu", "softmax"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_forward_matches_numpy(shape, activation, bias, dtype, tol, rng) -> None:
    batch, n_in, n_out = shape
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    w = rng.standard_normal((n_in, n_out)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype) if bias else None
    z, y = ops.dense_forward(x, w, b, activation, return_preactivation=True)
    assert z.dtype == y.dtype == dtype and y.shape == (batch, n_out)
    z_ref, y_ref = reference(x, w, b, activation)
    scale = float(np.sqrt(n_in))  # rounding of a length-n_in dot product
    assert_close(z, z_ref, tol, scale)
    # The activation's own error plus the propagated error of z.
    assert_close(y, y_ref, tol, scale)
    if activation is None:
        assert y is z


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_matches_numpy(shape, dtype, tol, rng) -> None:
    batch, n_in, n_out = shape
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    w = rng.standard_normal((n_in, n_out)).astype(dtype)
    dz = rng.standard_normal((batch, n_out)).astype(dtype)
    dx, dw, db = ops.dense_backward(x, w, dz)
    x64, w64, dz64 = (a.astype(np.float64) for a in (x, w, dz))
    assert dx.dtype == dw.dtype == db.dtype == dtype
    assert_close(dw, x64.T @ dz64, tol, np.sqrt(batch))
    assert_close(db, dz64.sum(axis=0), tol, np.sqrt(batch))
    assert_close(dx, dz64 @ w64.T, tol, np.sqrt(n_out))


def test_backward_without_dx(rng) -> None:
    x, w, dz = rng.standard_normal((3, 2)), rng.standard_normal((2, 4)), rng.standard_normal((3, 4))
    dx, dw, db = ops.dense_backward(x, w, dz, need_dx=False)
    assert dx is None
    np.testing.assert_allclose(dw, x.T @ dz, rtol=1e-12)
    np.testing.assert_allclose(db, dz.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu", "softmax", None])
def test_gradient_matches_finite_differences(activation, rng) -> None:
    x = rng.standard_normal((5, 4))
    w = rng.standard_normal((4, 3))
    b = rng.standard_normal(3)
    if activation == "relu":  # keep every pre-activation away from the kink
        b = b + np.where(np.abs(x @ w + b).min(axis=0) < 1e-2, 0.5, 0.0)
        assert np.abs(x @ w + b).min() > 1e-3

    def forward(x, w, b):
        return ops.dense_forward(x, w, b, activation)

    def backward(r, x, w, b):
        z, y = ops.dense_forward(x, w, b, activation, return_preactivation=True)
        dz = ops.activation_backward(z, y, r, activation)
        dx, dw, db = ops.dense_backward(x, w, dz)
        return {"x": dx, "w": dw, "b": db}

    check_grad(forward, backward, {"x": x, "w": w, "b": b}, rng)


def test_hand_worked_example() -> None:
    # x = [1, 2], w = [[1, 0, -1], [0, 1, 1]], b = [0.5, -0.5, 0]:
    # z = [1*1 + 2*0 + 0.5, 1*0 + 2*1 - 0.5, 1*(-1) + 2*1 + 0] = [1.5, 1.5, 1].
    x = np.array([[1.0, 2.0]])
    w = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]])
    b = np.array([0.5, -0.5, 0.0])
    np.testing.assert_array_equal(ops.dense_forward(x, w, b), [[1.5, 1.5, 1.0]])
    # With dz = [1, 1, 1]: dw = x^T dz = [[1, 1, 1], [2, 2, 2]], db = [1, 1, 1],
    # dx = dz w^T = [1 + 0 - 1, 0 + 1 + 1] = [0, 2].
    dx, dw, db = ops.dense_backward(x, w, np.ones((1, 3)))
    np.testing.assert_array_equal(dw, [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(db, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(dx, [[0.0, 2.0]])


def test_float32_agrees_with_float64(rng) -> None:
    x = rng.standard_normal((20, 9)).astype(np.float32)
    w = rng.standard_normal((9, 11)).astype(np.float32)
    b = rng.standard_normal(11).astype(np.float32)
    dz = rng.standard_normal((20, 11)).astype(np.float32)
    y32 = ops.dense_forward(x, w, b, "tanh")
    y64 = ops.dense_forward(
        x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), "tanh"
    )
    assert_close(y32, y64, TOL[np.float32], 3.0)
    for g32, g64 in zip(
        ops.dense_backward(x, w, dz),
        ops.dense_backward(*(a.astype(np.float64) for a in (x, w, dz))),
        strict=True,
    ):
        assert_close(g32, g64, TOL[np.float32], 5.0)


def test_one_and_two_threads_are_bitwise_equal(dtype, rng, assert_thread_invariant) -> None:
    x = rng.standard_normal((300, 40)).astype(dtype)
    w = rng.standard_normal((40, 257)).astype(dtype)
    b = rng.standard_normal(257).astype(dtype)
    dz = rng.standard_normal((300, 257)).astype(dtype)
    assert_thread_invariant(
        lambda: ops.dense_forward(x, w, b, "sigmoid", return_preactivation=True)
    )
    assert_thread_invariant(lambda: ops.dense_backward(x, w, dz))


def test_softmax_output_rows_are_distributions(rng) -> None:
    y = ops.dense_forward(
        rng.standard_normal((8, 5)), 30 * rng.standard_normal((5, 4)), None, "softmax"
    )
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-14)
    assert np.all(y >= 0)


def test_inputs_are_not_modified(rng) -> None:
    x, w, b = rng.standard_normal((3, 2)), rng.standard_normal((2, 2)), rng.standard_normal(2)
    copies = [a.copy() for a in (x, w, b)]
    ops.dense_forward(x, w, b, "relu")
    ops.dense_backward(x, w, np.ones((3, 2)))
    for a, c in zip((x, w, b), copies, strict=True):
        np.testing.assert_array_equal(a, c)


def test_relu_layer_derivative_matches_reference(rng) -> None:
    x = rng.standard_normal((6, 3))
    w = rng.standard_normal((3, 5))
    z, y = ops.dense_forward(x, w, None, "relu", return_preactivation=True)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(
        ops.activation_backward(z, y, dy, "relu"), ref_backward(z, dy, "relu")
    )
