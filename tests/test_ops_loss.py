"""Losses and metrics: Keras 3 formulas, exact gradients at saturation, labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import TOL, assert_close, native_threads
from gradcheck import check_grad
from reference import sigmoid
from vgp_native import _core, ops

KERAS_EPS = 1e-7


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def clip(p, dtype):
    """Keras clips in the tensor's dtype."""
    lo, hi = dtype(KERAS_EPS), dtype(1.0 - KERAS_EPS)
    return np.clip(p.astype(dtype), lo, hi).astype(np.float64), (p >= lo) & (p <= hi)


def ref_sigmoid_bce(z, t, dtype):
    z, t = z.astype(np.float64), t.astype(np.float64)
    per = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    n, k = z.shape
    return per.mean(axis=1).mean(), (sigmoid(z) - t) / (n * k)


def ref_bce(p, t, dtype):
    q, inside = clip(p, dtype)
    t = t.astype(np.float64)
    n, k = p.shape
    loss = -(t * np.log(q) + (1 - t) * np.log(1 - q)).mean(axis=1).mean()
    return loss, np.where(inside, -(t / q - (1 - t) / (1 - q)), 0.0) / (n * k)


def ref_softmax_cce(z, t, dtype):
    z, t = z.astype(np.float64), t.astype(np.float64)
    lse = z.max(axis=1, keepdims=True) + np.log(
        np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)
    )
    n = z.shape[0]
    loss = (t * (lse - z)).sum(axis=1).mean()
    return loss, (softmax(z) * t.sum(axis=1, keepdims=True) - t) / n


def one_hot(labels, k):
    return np.eye(k)[np.asarray(labels, dtype=np.int64)]


def ref_softmax_sparse_cce(z, labels, dtype):
    return ref_softmax_cce(z, one_hot(labels, z.shape[1]), dtype)


def ref_cce(p, t, dtype):
    p, t = p.astype(np.float64), t.astype(np.float64)
    s = p.sum(axis=1, keepdims=True)
    q, inside = clip(p / s, dtype)
    n = p.shape[0]
    loss = -(t * np.log(q)).sum(axis=1).mean()
    g = np.where(inside, -t / q, 0.0)  # dl/dq
    return loss, (g - (g * p / s).sum(axis=1, keepdims=True)) / s / n


def ref_sparse_cce(p, labels, dtype):
    return ref_cce(p, one_hot(labels, p.shape[1]), dtype)


def ref_mse(y, t, dtype):
    y, t = y.astype(np.float64), t.astype(np.float64)
    n, k = y.shape
    return ((y - t) ** 2).mean(axis=1).mean(), 2 * (y - t) / (n * k)


# name -> (function, reference, input kind, target kind)
LOSSES = {
    "sigmoid_bce": (ops.sigmoid_binary_crossentropy, ref_sigmoid_bce, "logits", "binary"),
    "bce": (ops.binary_crossentropy, ref_bce, "prob", "binary"),
    "softmax_cce": (ops.softmax_categorical_crossentropy, ref_softmax_cce, "logits", "soft"),
    "softmax_sparse_cce": (
        ops.softmax_sparse_categorical_crossentropy,
        ref_softmax_sparse_cce,
        "logits",
        "labels",
    ),
    "cce": (ops.categorical_crossentropy, ref_cce, "scores", "soft"),
    "sparse_cce": (ops.sparse_categorical_crossentropy, ref_sparse_cce, "scores", "labels"),
    "mse": (ops.mean_squared_error, ref_mse, "logits", "real"),
}


def make(rng, kind, shape, dtype):
    n, k = shape
    values = {
        "logits": lambda: 3 * rng.standard_normal(shape),
        "prob": lambda: rng.uniform(0.02, 0.98, shape),
        "scores": lambda: rng.uniform(0.1, 1.0, shape),
        "binary": lambda: (rng.random(shape) < 0.5).astype(np.float64),
        "soft": lambda: rng.dirichlet(np.ones(k), n),
        "labels": lambda: rng.integers(0, k, n).astype(np.float64),
        "real": lambda: rng.standard_normal(shape),
    }[kind]()
    return values.astype(dtype)


SHAPES = [(1, 1), (1, 7), (33, 10), (5000, 10)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", LOSSES)
def test_loss_and_gradient_match_numpy(name, shape, dtype, tol, rng) -> None:
    fn, ref, input_kind, target_kind = LOSSES[name]
    a = make(rng, input_kind, shape, dtype)
    t = make(rng, target_kind, shape, dtype)
    loss, grad = fn(a, t)
    want_loss, want_grad = ref(a, t, dtype)
    assert isinstance(loss, float)
    assert grad.dtype == dtype and grad.shape == shape
    assert loss == pytest.approx(want_loss, rel=tol, abs=tol)
    assert_close(grad, want_grad, tol, float(np.abs(want_grad).max()))


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_matches_finite_differences(name, rng) -> None:
    fn, _, input_kind, target_kind = LOSSES[name]
    a = make(rng, input_kind, (4, 3), np.float64)
    t = make(rng, target_kind, (4, 3), np.float64)
    check_grad(lambda a: fn(a, t)[0], lambda r, a: {"a": r * fn(a, t)[1]}, {"a": a}, rng)


@pytest.mark.parametrize("name", LOSSES)
def test_float32_agrees_with_float64(name, rng) -> None:
    fn, _, input_kind, target_kind = LOSSES[name]
    a = make(rng, input_kind, (20, 6), np.float32)
    t = make(rng, target_kind, (20, 6), np.float32)
    l32, g32 = fn(a, t)
    l64, g64 = fn(a.astype(np.float64), t.astype(np.float64))
    assert l32 == pytest.approx(l64, rel=TOL[np.float32])
    assert_close(g32, g64, TOL[np.float32], float(np.abs(g64).max()))


@pytest.mark.parametrize("name", LOSSES)
def test_one_and_two_threads_are_bitwise_equal(name, dtype, rng, assert_thread_invariant) -> None:
    fn, _, input_kind, target_kind = LOSSES[name]
    a = make(rng, input_kind, (5000, 10), dtype)
    t = make(rng, target_kind, (5000, 10), dtype)
    assert_thread_invariant(lambda: fn(a, t))


def test_hand_worked_examples() -> None:
    # sigmoid BCE at z = 0, t = 1: log(1 + e^0) = ln 2; gradient sigmoid(0) - 1 = -1/2.
    loss, grad = ops.sigmoid_binary_crossentropy(np.array([[0.0]]), np.array([[1.0]]))
    assert loss == pytest.approx(math.log(2.0), rel=1e-15)
    assert grad[0, 0] == -0.5
    # softmax CCE at z = [0, ln 3], t = [0, 1]: softmax = [1/4, 3/4], loss = -ln(3/4),
    # gradient softmax - t = [1/4, -1/4].
    loss, grad = ops.softmax_categorical_crossentropy(
        np.array([[0.0, math.log(3.0)]]), np.array([[0.0, 1.0]])
    )
    assert loss == pytest.approx(-math.log(0.75), rel=1e-14)
    np.testing.assert_allclose(grad, [[0.25, -0.25]], rtol=1e-15)
    # MSE at y = [1, 3], t = [0, 1]: (1 + 4) / 2 = 2.5; gradient 2 (y - t) / 2 = [1, 2].
    loss, grad = ops.mean_squared_error(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]]))
    assert loss == 2.5
    np.testing.assert_array_equal(grad, [[1.0, 2.0]])
    # CCE of unnormalised scores [1, 3], t = [0, 1]: q = [1/4, 3/4], loss = -ln(3/4).
    loss, _ = ops.categorical_crossentropy(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]]))
    assert loss == pytest.approx(-math.log(0.75), rel=1e-15)


@pytest.mark.parametrize("z", [300.0, 700.0, 1e4])
def test_sigmoid_bce_gradient_is_exact_when_saturated(z, dtype) -> None:
    # Rows: confidently wrong (+z, t=0), (-z, t=1) and confidently right.
    logits = np.array([[z], [-z], [z], [-z]], dtype=dtype)
    target = np.array([[0.0], [1.0], [1.0], [0.0]], dtype=dtype)
    loss, grad = ops.sigmoid_binary_crossentropy(logits, target)
    # Wrong rows lose z each, right rows lose log1p(e^-z) = 0: mean z / 2.
    assert loss == pytest.approx(float(dtype(z)) / 2, rel=1e-15)
    # (sigmoid(z) - t) / batch: exactly [1, -1] / 4 on the wrong rows, and on the
    # right ones 0 or a tiny positive e^-z / 4 (no cancellation, no NaN).
    want = ((sigmoid(logits.astype(np.float64)) - target) / 4).astype(dtype)
    np.testing.assert_array_equal(grad[:2], [[0.25], [-0.25]])
    np.testing.assert_allclose(grad, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("k", [1, 3, 300])
def test_sigmoid_bce_loss_is_accurate_to_a_few_ulp_over_the_range(k, rng) -> None:
    # Each element's term max(z, 0) - z t + log1p(e^-|z|) comes from one
    # vectorized loop (vecmath's exp and log1p in double): against numpy's
    # libm per element, across magnitudes from 1e-30 to 700, both signs, hard
    # and soft targets, in rows longer than one piece of terms (300).
    n = 2048 // k + 1
    magnitude = 10.0 ** rng.uniform(-30, np.log10(700), (n, k))
    z = magnitude * rng.choice([-1.0, 1.0], (n, k))
    t = np.where(rng.random((n, k)) < 0.5, rng.integers(0, 2, (n, k)), rng.random((n, k)))
    per = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    loss, _ = ops.sigmoid_binary_crossentropy(z, t)
    assert loss == pytest.approx(per.mean(axis=1).mean(), rel=1e-14)
    # Row by row: a batch of one row is that row's mean.
    for row in range(0, n, max(1, n // 16)):
        one, _ = ops.sigmoid_binary_crossentropy(z[row : row + 1], t[row : row + 1])
        assert one == pytest.approx(per[row].mean(), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize(
    ("z", "t", "want"),
    [(-np.inf, 1.0, np.inf), (-np.inf, 0.0, np.nan), (np.inf, 1.0, np.nan), (np.nan, 1.0, np.nan)],
)
def test_sigmoid_bce_loss_carries_infinities_and_nan(z, t, want, dtype) -> None:
    # TensorFlow's formula, as Keras computes it: an infinite logit gives
    # max(z, 0) - z t: infinite, or NaN where z t is inf times 0 (as in Keras),
    # never a finite wrong value.
    loss, _ = ops.sigmoid_binary_crossentropy(np.array([[z]], dtype), np.array([[t]], dtype))
    np.testing.assert_array_equal(loss, want)


def test_softmax_cce_is_stable_at_large_logits(dtype) -> None:
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], dtype=dtype)
    target = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=dtype)
    loss, grad = ops.softmax_categorical_crossentropy(logits, target)
    # Row 1 loses 1e4; row 2 loses 1e4 + ln 2.
    assert loss == pytest.approx((2e4 + math.log(2.0)) / 2, rel=1e-12)
    np.testing.assert_allclose(grad, [[0.5, -0.5, 0.0], [-0.5, 0.25, 0.25]], rtol=1e-6, atol=0)
    sparse_loss, sparse_grad = ops.softmax_sparse_categorical_crossentropy(logits, [1, 0])
    assert sparse_loss == loss
    np.testing.assert_array_equal(sparse_grad, grad)


def test_probability_losses_clip_like_keras(dtype) -> None:
    p = np.array([[0.0], [1.0]], dtype=dtype)
    t = np.array([[1.0], [0.0]], dtype=dtype)
    loss, grad = ops.binary_crossentropy(p, t)
    # Both rows are clipped: -log(eps) and -log(1 - (1 - eps)) in the tensor's dtype.
    lo, hi = dtype(KERAS_EPS), dtype(1 - KERAS_EPS)
    want = (-math.log(float(lo)) - math.log(1.0 - float(hi))) / 2
    assert loss == pytest.approx(want, rel=1e-6)
    np.testing.assert_array_equal(grad, 0.0)


def test_one_dimensional_target_for_one_unit(rng) -> None:
    z = rng.standard_normal((6, 1))
    t = (rng.random(6) < 0.5).astype(np.float64)
    a = ops.sigmoid_binary_crossentropy(z, t)
    b = ops.sigmoid_binary_crossentropy(z, t[:, None])
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


def test_sparse_labels_accept_integers_and_columns(rng) -> None:
    z = rng.standard_normal((4, 3))
    ref = ops.softmax_sparse_categorical_crossentropy(z, np.array([0.0, 2.0, 1.0, 2.0]))
    for labels in ([0, 2, 1, 2], np.array([[0], [2], [1], [2]], dtype=np.int8)):
        got = ops.softmax_sparse_categorical_crossentropy(z, labels)
        assert got[0] == ref[0]
        np.testing.assert_array_equal(got[1], ref[1])


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        ([0, 1, 3], r"labels must be integer class indices in \[0, 3\), received 3 at index 2"),
        ([0, -1, 1], r"received -1 at index 1"),
        ([0.5, 1, 1], r"received 0.5 at index 0"),
        ([0, np.nan, 1], r"received nan at index 1"),
        ([0, 1], r"labels must have shape \(3,\)"),
    ],
)
def test_bad_sparse_labels_are_rejected(labels, match) -> None:
    z = np.zeros((3, 3))
    for fn in (ops.softmax_sparse_categorical_crossentropy, ops.sparse_categorical_crossentropy):
        with pytest.raises(ValueError, match=match):
            fn(z, labels)


def test_accuracy_sums_match_numpy(rng) -> None:
    p = rng.random((50, 4))
    t = (rng.random((50, 4)) < 0.5).astype(np.float64)
    assert ops.binary_accuracy_sum(p, t) == pytest.approx(
        np.mean((p > 0.5) == t, axis=1).sum(), rel=1e-14
    )
    onehot = np.eye(4)[rng.integers(0, 4, 50)]
    labels = onehot.argmax(axis=1)
    want = float(np.sum(p.argmax(axis=1) == labels))
    assert ops.categorical_accuracy_sum(p, onehot) == want
    assert ops.sparse_categorical_accuracy_sum(p, labels) == want


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 16, 33, 1000])
def test_binary_accuracy_of_one_output_counts_the_hits(rng, dtype, n: int) -> None:
    # One output: the count of rows whose thresholded probability equals the
    # target, exactly (0.5 is not above the threshold; a soft target never hits).
    p = rng.choice(np.array([0.1, 0.5, 0.5000001, 0.9, np.nan], dtype), size=(n, 1))
    t = rng.choice(np.array([0.0, 1.0, 0.7], dtype), size=(n, 1))
    want = float(np.count_nonzero((p > 0.5).astype(dtype) == t))
    assert ops.binary_accuracy_sum(p, t) == want


def test_accuracy_ties_take_the_first_maximum() -> None:
    # argmax [0.5, 0.5] is 0, as numpy's argmax: row 1 matches label 0, row 2 does not match 1.
    p = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert ops.sparse_categorical_accuracy_sum(p, [0, 1]) == 1.0


def test_accuracy_threads_bitwise(rng, assert_thread_invariant) -> None:
    p = rng.random((5000, 10))
    t = (rng.random((5000, 10)) < 0.5).astype(np.float64)
    assert_thread_invariant(lambda: ops.binary_accuracy_sum(p, t))


def _torch_loss(torch, name, a, t):
    f = torch.nn.functional
    return {
        "sigmoid_bce": lambda: f.binary_cross_entropy_with_logits(a, t),
        "bce": lambda: f.binary_cross_entropy(a, t),
        "softmax_cce": lambda: f.cross_entropy(a, t),
        "softmax_sparse_cce": lambda: f.cross_entropy(a, t.long()),
        "cce": lambda: -(t * torch.log(a / a.sum(1, keepdim=True))).sum(1).mean(),
        "sparse_cce": lambda: f.nll_loss(torch.log(a / a.sum(1, keepdim=True)), t.long()),
        "mse": lambda: f.mse_loss(a, t),
    }[name]()


@pytest.mark.parametrize("name", LOSSES)
def test_gradient_matches_torch_autograd(name, rng) -> None:
    # Probabilities stay inside Keras' clip range, where both definitions agree.
    torch = pytest.importorskip("torch")
    fn, _, input_kind, target_kind = LOSSES[name]
    a = make(rng, input_kind, (7, 5), np.float64)
    t = make(rng, target_kind, (7, 5), np.float64)
    ta = torch.tensor(a, requires_grad=True)
    out = _torch_loss(torch, name, ta, torch.tensor(t))
    out.backward()
    loss, grad = fn(a, t)
    assert loss == pytest.approx(out.item(), rel=1e-12)
    np.testing.assert_allclose(grad, ta.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("n", [1, 7, 32, 257, 1000])
def test_one_output_loss_sums_the_rows_as_wider_rows_do(n, dtype, rng) -> None:
    # A batch of one logit a row takes its own summation (no division by the
    # row length); a second column of exact zero terms (z = 1000, t = 1: the
    # log term underflows to 0) takes the general one, each row's sum halved,
    # which halves the batch's sum exactly. Both must agree bit for bit.
    z = (3 * rng.standard_normal((n, 1))).astype(dtype)
    t = (rng.random((n, 1)) < 0.5).astype(dtype)
    wide_z = np.hstack([z, np.full((n, 1), 1000, dtype)])
    wide_t = np.hstack([t, np.ones((n, 1), dtype)])
    assert _core.sigmoid_bce_forward(z, t) == 2 * _core.sigmoid_bce_forward(wide_z, wide_t)


@pytest.mark.parametrize("shape", [(1, 1), (7, 1), (32, 1), (33, 3), (300, 7), (5000, 2)])
def test_sigmoid_bce_in_one_pass_gives_the_bits_of_the_two(shape, dtype, rng) -> None:
    # The training step's one pass (the sum and the gradient) against the
    # forward and the backward, bit for bit: logits across the range (the
    # clamps of the exponentials included), soft and hard targets, batches of
    # one and several reduction chunks, one thread and two.
    z = (rng.standard_normal(shape) * rng.choice([0.1, 3.0, 40.0, 1e4], size=shape)).astype(dtype)
    t = np.where(rng.random(shape) < 0.3, rng.random(shape), rng.random(shape) < 0.5).astype(dtype)
    for threads in (1, 2):
        with native_threads(threads):
            grad = np.full_like(z, np.nan)
            total = _core.sigmoid_bce_forward_backward(z, t, grad, 0.25)
            want = np.empty_like(z)
            _core.sigmoid_bce_backward(z, t, want, 0.25)
            assert total == _core.sigmoid_bce_forward(z, t)
            np.testing.assert_array_equal(grad, want)
