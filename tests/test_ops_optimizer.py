"""Optimizer updates against the Keras 3 update_step formulas, written out in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TOL
from vgp_native import ops

STEPS = 5


def keras_sgd(w, grads, lr, momentum, nesterov):
    m = np.zeros_like(w)
    for g in grads:
        if momentum == 0:
            w = w - g * lr
        else:
            m = m * momentum - g * lr
            w = w + (m * momentum - g * lr) if nesterov else w + m
    return w


def keras_adam(w, grads, lr, beta_1, beta_2, epsilon):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g * g - v) * (1 - beta_2)
        w = w - (m * alpha) / (np.sqrt(v) + epsilon)
    return w


def keras_rmsprop(w, grads, lr, rho, momentum, epsilon, centered):
    v, mom, avg = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        if centered:
            avg = rho * avg + (1 - rho) * g
            den = v - avg * avg + epsilon
        else:
            den = v + epsilon
        inc = lr * g / np.sqrt(den)
        if momentum > 0:
            mom = momentum * mom + inc
            w = w - mom
        else:
            w = w - inc
    return w


def run_sgd(w, grads, lr, momentum, nesterov):
    vel, total = None, []
    for g in grads:
        new, vel, sq = ops.sgd_update(w, g, vel, lr, momentum, nesterov)
        total.append((sq, w, new))
        w = new
    return w, total


def run_adam(w, grads, lr, beta_1, beta_2, epsilon):
    m = v = None
    total = []
    for t, g in enumerate(grads, start=1):
        new, m, v, sq = ops.adam_update(w, g, m, v, t, lr, beta_1, beta_2, epsilon)
        total.append((sq, w, new))
        w = new
    return w, total


def run_rmsprop(w, grads, lr, rho, momentum, epsilon, centered):
    vel = mom = avg = None
    total = []
    for g in grads:
        new, vel, mom, avg, sq = ops.rmsprop_update(
            w, g, vel, mom, avg, lr, rho, momentum, epsilon, centered
        )
        total.append((sq, w, new))
        w = new
    return w, total


CASES = {
    "sgd": (run_sgd, keras_sgd, (0.1, 0.0, False)),
    "sgd_momentum": (run_sgd, keras_sgd, (0.1, 0.9, False)),
    "sgd_nesterov": (run_sgd, keras_sgd, (0.1, 0.9, True)),
    "adam": (run_adam, keras_adam, (0.01, 0.9, 0.999, 1e-7)),
    "adam_fast_decay": (run_adam, keras_adam, (0.05, 0.5, 0.6, 1e-3)),
    "rmsprop": (run_rmsprop, keras_rmsprop, (0.01, 0.9, 0.0, 1e-7, False)),
    "rmsprop_centered": (run_rmsprop, keras_rmsprop, (0.01, 0.9, 0.0, 1e-7, True)),
    "rmsprop_momentum": (run_rmsprop, keras_rmsprop, (0.01, 0.8, 0.5, 1e-7, False)),
    "rmsprop_centered_momentum": (run_rmsprop, keras_rmsprop, (0.01, 0.8, 0.5, 1e-7, True)),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("shape", [(1,), (7, 33), (129, 257)], ids=str)
def test_matches_keras_formulas_over_several_steps(case, shape, dtype, tol, rng) -> None:
    run, keras, hyper = CASES[case]
    w0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(STEPS)]
    w, steps = run(w0, grads, *hyper)
    assert w.dtype == dtype
    want = keras(w0.astype(np.float64), [g.astype(np.float64) for g in grads], *hyper)
    np.testing.assert_allclose(w, want, rtol=tol, atol=tol)
    for sq, before, after in steps:
        step = after.astype(np.float64) - before
        assert sq == pytest.approx(float(np.sum(step * step)), rel=1e-12)


def test_hand_worked_examples() -> None:
    # SGD, lr 0.1: w = 1 - 0.1 * 2 = 0.8; squared step 0.2^2 = 0.04.
    w, vel, sq = ops.sgd_update(np.array([1.0]), np.array([2.0]), learning_rate=0.1)
    assert w[0] == pytest.approx(0.8, rel=1e-15) and vel is None
    assert sq == pytest.approx(0.04, rel=1e-14)
    # Adam, step 1: m = 0.1 g, v = 0.001 g^2, alpha = lr sqrt(0.001) / 0.1, so
    # the step is lr * sign(g) (up to epsilon): w = 1 - 0.001 * (0.1 * 0.5 * sqrt(0.001) / 0.1)
    # / (sqrt(0.001) * 0.5 + 1e-7).
    w, m, v, _ = ops.adam_update(np.array([1.0]), np.array([0.5]), step=1)
    assert m[0] == pytest.approx(0.05, rel=1e-15)
    assert v[0] == pytest.approx(0.00025, rel=1e-12)
    assert w[0] == pytest.approx(1 - 0.001 * 0.5 * np.sqrt(0.001) / (np.sqrt(0.001) * 0.5 + 1e-7))
    # RMSprop, rho 0.9: v = 0.1 * 4 = 0.4, w = 1 - 0.001 * 2 / sqrt(0.4 + 1e-7).
    w, v, _, _, _ = ops.rmsprop_update(np.array([1.0]), np.array([2.0]))
    assert v[0] == pytest.approx(0.4, rel=1e-15)
    assert w[0] == pytest.approx(1 - 0.002 / np.sqrt(0.4 + 1e-7), rel=1e-15)


def test_inputs_are_not_modified(rng) -> None:
    w, g = rng.standard_normal(4), rng.standard_normal(4)
    m, v = np.ones(4), np.ones(4)
    copies = [a.copy() for a in (w, g, m, v)]
    ops.adam_update(w, g, m, v, step=3)
    ops.sgd_update(w, g, m, momentum=0.5)
    ops.rmsprop_update(w, g, m, v, np.zeros(4), momentum=0.5, centered=True)
    ops.clip_by_norm(g, 0.1)
    ops.clip_by_value(g, 0.1)
    for a, c in zip((w, g, m, v), copies, strict=True):
        np.testing.assert_array_equal(a, c)


def test_clip_by_norm_follows_keras(rng) -> None:
    g = rng.standard_normal((5, 7))
    norm = np.linalg.norm(g)
    # Above the threshold: g * c / ||g||, norm becomes c.
    clipped = ops.clip_by_norm(g, norm / 4)
    np.testing.assert_allclose(clipped, g * (norm / 4) / norm, rtol=1e-14)
    assert np.linalg.norm(clipped) == pytest.approx(norm / 4, rel=1e-13)
    # Within the threshold: unchanged, bit for bit.
    np.testing.assert_array_equal(ops.clip_by_norm(g, 2 * norm), g)
    # A zero gradient stays zero (Keras' two-tap where avoids 0/0).
    np.testing.assert_array_equal(ops.clip_by_norm(np.zeros(3), 1.0), 0.0)


def test_clip_by_norm_propagates_nan() -> None:
    assert np.all(np.isnan(ops.clip_by_norm(np.array([1.0, np.nan]), 1.0)))


def test_clip_by_value(dtype) -> None:
    g = np.array([-3.0, -0.5, 0.0, 0.5, 3.0, np.nan], dtype=dtype)
    np.testing.assert_array_equal(ops.clip_by_value(g, 1.0), [-1.0, -0.5, 0.0, 0.5, 1.0, np.nan])


def test_float32_agrees_with_float64(rng) -> None:
    w = rng.standard_normal(50)
    grads = [rng.standard_normal(50) for _ in range(STEPS)]
    w32, _ = run_adam(
        w.astype(np.float32), [g.astype(np.float32) for g in grads], 0.01, 0.9, 0.999, 1e-7
    )
    w64, _ = run_adam(w, grads, 0.01, 0.9, 0.999, 1e-7)
    np.testing.assert_allclose(w32, w64, rtol=TOL[np.float32], atol=TOL[np.float32])


@pytest.mark.parametrize("case", CASES)
def test_one_and_two_threads_are_bitwise_equal(case, dtype, rng, assert_thread_invariant) -> None:
    run, _, hyper = CASES[case]
    w0 = rng.standard_normal(100_000).astype(dtype)
    grads = [rng.standard_normal(100_000).astype(dtype) for _ in range(2)]
    assert_thread_invariant(lambda: run(w0, grads, *hyper))


def test_clipping_threads_bitwise(dtype, rng, assert_thread_invariant) -> None:
    g = rng.standard_normal(100_000).astype(dtype)
    assert_thread_invariant(lambda: (ops.clip_by_norm(g, 1.0), ops.clip_by_value(g, 0.5)))


def test_zero_learning_rate_takes_no_step(rng) -> None:
    w = rng.standard_normal(10)
    new, _, sq = ops.sgd_update(w, rng.standard_normal(10), learning_rate=0.0)
    np.testing.assert_array_equal(new, w)
    assert sq == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [0.0, 0.3, 0.5, 0.9, 0.99, 0.999])
def test_adam_bias_correction_keeps_the_bits_of_pow_at_every_step(beta, dtype, rng) -> None:
    # From zero moments, lr 1 and beta_1 = beta_2 = beta, the step is
    # w - (g (1 - beta) alpha) / (sqrt(g^2 (1 - beta)) + eps) with
    # alpha = sqrt(1 - beta^t) / (1 - beta^t): no product there can be fused
    # with an addition, so NumPy gives its bits. Late in a run 1 - beta^t is
    # exactly 1 and the native update skips its pow calls; the steps around
    # where it starts to (t (1 - beta) = 40) and far beyond must keep the bits.
    w = rng.normal(size=37).astype(dtype)
    g = rng.normal(size=37).astype(dtype)
    eps = 1e-7
    start = int(np.ceil(40.0 / (1.0 - beta)))
    steps = [1, 2, 10, *range(max(1, start - 25), start + 25), 10**6, 10**12]
    decay = dtype(1.0 - beta)
    for t in steps:
        c = 1.0 - beta**t
        alpha = dtype(np.sqrt(c) / c)
        m = g * decay
        v = (g * g) * decay
        want = w - (m * alpha) / (np.sqrt(v) + dtype(eps))
        got, _, _, _ = ops.adam_update(w, g, None, None, t, 1.0, beta, beta, eps)
        np.testing.assert_array_equal(got, want, err_msg=f"beta {beta}, step {t}")
