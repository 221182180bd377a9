"""Batch normalization kernels (Ioffe & Szegedy 2015), Keras semantics."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TOL, assert_close
from gradcheck import check_grad
from vgp_native import ops

EPS = 1e-3
SHAPES = [(1, 1), (1, 7), (7, 1), (33, 257), (128, 256), (129, 257)]


def ref_train(x, gamma, beta, mm, mv, eps=EPS, momentum=0.99):
    x = x.astype(np.float64)
    mean = x.mean(axis=0)
    var = x.var(axis=0)  # biased, as Keras normalises
    invstd = 1.0 / np.sqrt(var + eps)
    y = gamma * (x - mean) * invstd + beta
    return (
        y,
        mean,
        invstd,
        momentum * mm + (1 - momentum) * mean,
        momentum * mv + (1 - momentum) * var,
    )


def ref_backward(x, dy, gamma, eps=EPS):
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    n = x.shape[0]
    invstd = 1.0 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) * invstd
    dbeta = dy.sum(axis=0)
    dgamma = (dy * xhat).sum(axis=0)
    dx = gamma * invstd / n * (n * dy - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def params(rng, features, dtype):
    gamma = (1 + 0.5 * rng.standard_normal(features)).astype(dtype)
    beta = rng.standard_normal(features).astype(dtype)
    mm = rng.standard_normal(features).astype(dtype)
    mv = (0.5 + rng.random(features)).astype(dtype)
    return gamma, beta, mm, mv


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_train_forward_matches_numpy(shape, dtype, tol, rng) -> None:
    x = (2 + 3 * rng.standard_normal(shape)).astype(dtype)
    gamma, beta, mm, mv = params(rng, shape[1], dtype)
    out = ops.batchnorm_forward_train(x, gamma, beta, mm, mv, EPS, 0.99)
    ref = ref_train(x, gamma.astype(np.float64), beta.astype(np.float64), mm, mv)
    for got, want in zip(out, ref, strict=True):
        assert got.dtype == dtype
        assert_close(got, want, tol, 10.0)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_infer_forward_matches_numpy(shape, dtype, tol, rng) -> None:
    x = rng.standard_normal(shape).astype(dtype)
    gamma, beta, mm, mv = params(rng, shape[1], dtype)
    y = ops.batchnorm_forward_infer(x, gamma, beta, mm, mv, EPS)
    g, b, m, v = (a.astype(np.float64) for a in (gamma, beta, mm, mv))
    assert_close(y, g * (x - m) / np.sqrt(v + EPS) + b, tol, 10.0)
    dy = rng.standard_normal(shape).astype(dtype)
    assert_close(ops.batchnorm_backward_infer(dy, gamma, mv, EPS), dy * g / np.sqrt(v + EPS), tol)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_matches_numpy(shape, dtype, tol, rng) -> None:
    x = (1 + 2 * rng.standard_normal(shape)).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    gamma = params(rng, shape[1], dtype)[0]
    zeros, ones = np.zeros(shape[1], dtype), np.ones(shape[1], dtype)
    _, save_mean, save_invstd, _, _ = ops.batchnorm_forward_train(x, gamma, zeros, zeros, ones)
    got = ops.batchnorm_backward(x, dy, gamma, save_mean, save_invstd)
    want = ref_backward(x, dy, gamma.astype(np.float64))
    scale = 10.0 * np.sqrt(shape[0])  # the sums over the batch
    for g, w in zip(got, want, strict=True):
        assert g.dtype == dtype
        assert_close(g, w, tol, scale)


def test_train_gradient_matches_finite_differences(rng) -> None:
    x = 1 + 2 * rng.standard_normal((6, 4))
    gamma, beta = 1 + rng.random(4), rng.standard_normal(4)
    zeros, ones = np.zeros(4), np.ones(4)

    def forward(x, gamma, beta):
        return ops.batchnorm_forward_train(x, gamma, beta, zeros, ones)[0]

    def backward(r, x, gamma, beta):
        _, mean, invstd, _, _ = ops.batchnorm_forward_train(x, gamma, beta, zeros, ones)
        dx, dgamma, dbeta = ops.batchnorm_backward(x, r, gamma, mean, invstd)
        return {"x": dx, "gamma": dgamma, "beta": dbeta}

    check_grad(forward, backward, {"x": x, "gamma": gamma, "beta": beta}, rng)


def test_infer_gradient_matches_finite_differences(rng) -> None:
    gamma, beta, mm, mv = params(rng, 3, np.float64)

    def forward(x):
        return ops.batchnorm_forward_infer(x, gamma, beta, mm, mv)

    def backward(r, x):
        return {"x": ops.batchnorm_backward_infer(r, gamma, mv)}

    check_grad(forward, backward, {"x": rng.standard_normal((5, 3))}, rng)


def test_hand_worked_example() -> None:
    # One feature, rows [1, 3]: mean 2, biased variance ((1-2)^2 + (3-2)^2) / 2 = 1,
    # invstd = 1 / sqrt(1 + 1e-3) = 0.99950037..., y = (x - 2) invstd = [-0.9995, 0.9995].
    # Moving statistics with momentum 0.99 from (0, 1): 0.99*0 + 0.01*2 = 0.02 and
    # 0.99*1 + 0.01*1 = 1.
    y, mean, invstd, mm, mv = ops.batchnorm_forward_train(
        np.array([[1.0], [3.0]]), [1.0], [0.0], np.array([0.0]), np.array([1.0])
    )
    inv = 1.0 / np.sqrt(1.001)
    np.testing.assert_allclose(y, [[-inv], [inv]], rtol=1e-15)
    np.testing.assert_allclose(
        [mean[0], invstd[0], mm[0], mv[0]], [2.0, inv, 0.02, 1.0], rtol=1e-15
    )
    # Backward with dy = [1, 0]: xhat = [-inv, inv], dbeta = 1, dgamma = 1 * xhat_0 = -inv,
    # dx = invstd / 2 * (2 dy - dbeta - xhat dgamma)
    #    = inv / 2 * ([2, 0] - 1 - [inv^2, -inv^2]) = inv / 2 * [1 - inv^2, inv^2 - 1].
    dx, dgamma, dbeta = ops.batchnorm_backward(
        np.array([[1.0], [3.0]]), np.array([[1.0], [0.0]]), [1.0], mean, invstd
    )
    np.testing.assert_allclose(dbeta, [1.0], rtol=1e-15)
    np.testing.assert_allclose(dgamma, [-inv], rtol=1e-15)
    np.testing.assert_allclose(dx[:, 0], inv / 2 * np.array([1 - inv**2, inv**2 - 1]), rtol=1e-9)


def test_moving_averages_over_several_steps(rng) -> None:
    mm, mv = np.zeros(5), np.ones(5)
    want_mm, want_mv = mm.copy(), mv.copy()
    for step in range(6):
        x = step + rng.standard_normal((16, 5))
        _, _, _, mm, mv = ops.batchnorm_forward_train(
            x, np.ones(5), np.zeros(5), mm, mv, momentum=0.9
        )
        want_mm = 0.9 * want_mm + 0.1 * x.mean(axis=0)
        want_mv = 0.9 * want_mv + 0.1 * x.var(axis=0)
    np.testing.assert_allclose(mm, want_mm, rtol=1e-13)
    np.testing.assert_allclose(mv, want_mv, rtol=1e-13)


def test_inputs_are_not_modified(rng) -> None:
    mm, mv = np.zeros(3), np.ones(3)
    ops.batchnorm_forward_train(rng.standard_normal((4, 3)), np.ones(3), np.zeros(3), mm, mv)
    np.testing.assert_array_equal(mm, 0.0)
    np.testing.assert_array_equal(mv, 1.0)


def test_single_row_batch_is_finite(dtype) -> None:
    # Variance 0: y = beta exactly and the gradient w.r.t. x is 0 (xhat = 0, dx = g - mean(g)).
    x = np.array([[5.0, -3.0]], dtype=dtype)
    y, mean, invstd, _, _ = ops.batchnorm_forward_train(
        x, [2.0, 2.0], [0.5, -0.5], [0.0, 0.0], [1.0, 1.0]
    )
    np.testing.assert_array_equal(y, [[0.5, -0.5]])
    dx, dgamma, dbeta = ops.batchnorm_backward(
        x, np.array([[1.0, 2.0]], dtype=dtype), [2.0, 2.0], mean, invstd
    )
    np.testing.assert_array_equal(dx, 0.0)
    np.testing.assert_array_equal(dgamma, 0.0)
    np.testing.assert_array_equal(dbeta, [1.0, 2.0])


def test_large_mean_small_spread_keeps_precision() -> None:
    # Two-pass statistics: E[x^2] - E[x]^2 would cancel catastrophically here.
    x = 1e8 + np.array([[1.0], [2.0], [3.0], [4.0]])
    invstd = ops.batchnorm_forward_train(x, [1.0], [0.0], [0.0], [1.0])[2]
    np.testing.assert_allclose(invstd, 1.0 / np.sqrt(1.25 + EPS), rtol=1e-12)


def test_float32_agrees_with_float64(rng) -> None:
    x = (3 + 2 * rng.standard_normal((40, 30))).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    gamma, beta, mm, mv = params(rng, 30, np.float32)

    def run(dt):
        args = [a.astype(dt) for a in (x, gamma, beta, mm, mv)]
        y, sm, si, nm, nv = ops.batchnorm_forward_train(*args)
        return (y, sm, si, nm, nv, *ops.batchnorm_backward(args[0], dy.astype(dt), args[1], sm, si))

    for a, b in zip(run(np.float32), run(np.float64), strict=True):
        assert_close(a, b, TOL[np.float32], 10.0)


def test_one_and_two_threads_are_bitwise_equal(dtype, rng, assert_thread_invariant) -> None:
    x = rng.standard_normal((257, 200)).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    gamma, beta, mm, mv = params(rng, 200, dtype)

    def run():
        y, sm, si, nm, nv = ops.batchnorm_forward_train(x, gamma, beta, mm, mv)
        return (
            y,
            sm,
            si,
            nm,
            nv,
            ops.batchnorm_backward(x, dy, gamma, sm, si),
            ops.batchnorm_forward_infer(x, gamma, beta, mm, mv),
            ops.batchnorm_backward_infer(dy, gamma, mv),
        )

    assert_thread_invariant(run)


def test_gradient_matches_torch_autograd(rng) -> None:
    torch = pytest.importorskip("torch")
    x = 1 + 2 * rng.standard_normal((9, 5))
    gamma, beta = 1 + rng.random(5), rng.standard_normal(5)
    dy = rng.standard_normal(x.shape)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    out = torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=EPS)
    out.backward(torch.tensor(dy))
    y, mean, invstd, _, _ = ops.batchnorm_forward_train(x, gamma, beta, np.zeros(5), np.ones(5))
    np.testing.assert_allclose(y, out.detach().numpy(), rtol=1e-12, atol=1e-13)
    dx, dgamma, dbeta = ops.batchnorm_backward(x, dy, gamma, mean, invstd)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dgamma, tg.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dbeta, tb.grad.numpy(), rtol=1e-12, atol=1e-13)
