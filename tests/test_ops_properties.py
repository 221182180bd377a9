"""Property tests: over random shapes and values, every op returns a correct
finite result or raises a clear ValueError/TypeError; it never crashes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import TOL, assert_close
from reference import ref_backward, ref_forward
from vgp_native import ops
from vgp_native.activations import ACTIVATIONS

SETTINGS = settings(max_examples=40, deadline=None)
DTYPES = st.sampled_from([np.float32, np.float64])
SHAPES = st.tuples(st.integers(1, 9), st.integers(1, 9))


def finite_arrays(dtype, shape, bound=1e4):
    width = 32 if dtype == np.float32 else 64
    return hnp.arrays(dtype, shape, elements=st.floats(-bound, bound, width=width))


@st.composite
def activation_case(draw):
    dtype = draw(DTYPES)
    shape = draw(SHAPES)
    return (
        draw(st.sampled_from(list(ACTIVATIONS))),
        draw(finite_arrays(dtype, shape)),
        draw(finite_arrays(dtype, shape, 10.0)),
    )


@SETTINGS
@given(activation_case())
def test_activations_are_finite_and_correct(case) -> None:
    name, x, dy = case
    tol = TOL[x.dtype.type]
    y = ops.activation_forward(x, name)
    dx = ops.activation_backward(x, y, dy, name)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    with np.errstate(over="ignore", under="ignore"):
        assert_close(y, ref_forward(x, name), tol)
        # The derivative at the relu-family kink (x = 0 exactly) is a convention.
        if not np.any(x == 0):
            assert_close(dx, ref_backward(x, dy, name), tol, 10.0)


@st.composite
def dense_case(draw):
    dtype = draw(DTYPES)
    batch, n_in, n_out = draw(st.integers(1, 8)), draw(st.integers(1, 8)), draw(st.integers(1, 8))
    x = draw(finite_arrays(dtype, (batch, n_in), 100.0))
    w = draw(finite_arrays(dtype, (n_in, n_out), 100.0))
    b = draw(finite_arrays(dtype, (n_out,), 100.0))
    return x, w, b, draw(st.sampled_from(list(ACTIVATIONS)))


@SETTINGS
@given(dense_case())
def test_dense_matches_numpy(case) -> None:
    x, w, b, name = case
    tol = TOL[x.dtype.type]
    z, y = ops.dense_forward(x, w, b, name, return_preactivation=True)
    z_ref = x.astype(np.float64) @ w + b
    scale = float(np.abs(x).max()) * float(np.abs(w).max()) * x.shape[1] + 100.0
    assert_close(z, z_ref, tol, scale)
    assert np.all(np.isfinite(y))
    dx, dw, db = ops.dense_backward(x, w, y)
    assert_close(db, y.astype(np.float64).sum(axis=0), tol, float(np.abs(y).sum()) + 1.0)
    assert dx.shape == x.shape and dw.shape == w.shape


@SETTINGS
@given(DTYPES.flatmap(lambda dt: SHAPES.flatmap(lambda s: finite_arrays(dt, s))))
def test_batchnorm_is_finite_and_normalises(x) -> None:
    ones, zeros = np.ones(x.shape[1]), np.zeros(x.shape[1])
    y, mean, invstd, mm, mv = ops.batchnorm_forward_train(x, ones, zeros, zeros, ones)
    for a in (y, mean, invstd, mm, mv):
        assert np.all(np.isfinite(a))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(axis=0), rtol=1e-5, atol=1e-3)
    dx, dgamma, _ = ops.batchnorm_backward(x, np.ones_like(x), ones, mean, invstd)
    assert np.all(np.isfinite(dx)) and np.all(np.isfinite(dgamma))
    # The gradient of sum(y) w.r.t. x is 0: shifting every row shifts the mean.
    assert np.abs(dx).max() <= 1e-3 * np.abs(invstd).max() + 1e-6


@SETTINGS
@given(
    DTYPES.flatmap(
        lambda dt: SHAPES.flatmap(
            lambda s: st.tuples(
                finite_arrays(dt, s, 1e4), hnp.arrays(dt, s, elements=st.sampled_from([0.0, 1.0]))
            )
        )
    )
)
def test_sigmoid_bce_is_finite_for_any_logits(case) -> None:
    logits, target = case
    loss, grad = ops.sigmoid_binary_crossentropy(logits, target)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    # |dl/dz| <= 1 / (batch * k): sigmoid(z) - t lies in [-1, 1].
    assert np.abs(grad).max() <= 1.0 / logits.size * (1 + 1e-6)


any_array = st.one_of(
    hnp.arrays(
        st.sampled_from([np.float32, np.float64, np.int32, np.bool_, np.float16]),
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    ),
    st.lists(st.floats(allow_nan=True), max_size=4),
    st.text(max_size=3),
    st.none(),
)
any_scalar = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5), st.text(max_size=2)
)


@SETTINGS
@given(any_array, any_array, any_array, st.sampled_from([None, "relu", "softmax", "nope"]))
def test_garbage_in_gives_a_result_or_a_clear_error(a, b, c, activation) -> None:
    calls = [
        lambda: ops.dense_forward(a, b, c, activation),
        lambda: ops.dense_backward(a, b, c),
        lambda: ops.activation_backward(a, b, c, activation),
        lambda: ops.batchnorm_forward_train(a, b, c, c, c),
        lambda: ops.residual_add_forward(a, b),
        lambda: ops.softmax_sparse_categorical_crossentropy(a, b),
        lambda: ops.categorical_crossentropy(a, b),
        lambda: ops.adam_update(a, b, c, c),
        lambda: ops.buffer_stats(a),
        lambda: ops.activation_stats(a, activation),
    ]
    for call in calls:
        try:
            call()
        except (ValueError, TypeError) as exc:
            assert str(exc)


@SETTINGS
@given(any_scalar, any_scalar, any_scalar)
def test_bad_scalars_give_a_result_or_a_clear_error(s1, s2, s3) -> None:
    x = np.ones((3, 2))
    calls = [
        lambda: ops.dropout_forward(x, s1, 1),
        lambda: ops.batchnorm_forward_train(
            x, np.ones(2), np.zeros(2), np.zeros(2), np.ones(2), s1, s2
        ),
        lambda: ops.adam_update(x, x, step=2, learning_rate=s1, beta_1=s2, beta_2=0.9, epsilon=s3),
        lambda: ops.rmsprop_update(x, x, learning_rate=s1, rho=s2, momentum=0.1, epsilon=s3),
        lambda: ops.sgd_update(x, x, learning_rate=s1, momentum=s2),
        lambda: ops.clip_by_norm(x, s1),
        lambda: ops.activation_stats(x, "relu", range=(s1, s2)),
    ]
    for call in calls:
        try:
            result = call()
        except (ValueError, TypeError) as exc:
            assert str(exc)
        else:
            arrays = result if isinstance(result, tuple) else (result,)
            for r in arrays:
                if isinstance(r, np.ndarray):
                    assert np.all(np.isfinite(r))
