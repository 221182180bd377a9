"""Bad calls raise a clear ValueError/TypeError naming the argument; numeric
array-likes of another dtype or layout are converted, not rejected."""

from __future__ import annotations

import numpy as np
import pytest

from vgp_native import _core, ops

X = np.ones((2, 3))
W = np.ones((3, 4))
V3 = np.ones(3)

BAD_CALLS = [
    (
        lambda: ops.activation_forward([1e39, 1.0], "relu"),
        ValueError,
        r"x holds values beyond the float32 range .*pass a float64 array",
    ),
    # (call, exception, message)
    (
        lambda: ops.dense_forward(np.ones(3), W),
        ValueError,
        r"x must have 2 dimension\(s\), received shape \(3,\)",
    ),
    (
        lambda: ops.dense_forward(X, np.ones((4, 3))),
        ValueError,
        r"w must have shape \(in_features, out_features\) with in_features = x.shape\[1\] = 3, "
        r"received \(4, 3\)",
    ),
    (
        lambda: ops.dense_forward(X, W, np.ones(3)),
        ValueError,
        r"b must have shape \(4,\) \(out_features = w.shape\[1\]\), received \(3,\)",
    ),
    (lambda: ops.dense_forward(np.ones((0, 3)), W), ValueError, r"x must not be empty"),
    (
        lambda: ops.dense_forward([["a", "b", "c"]], W),
        TypeError,
        r"x must hold real numbers.*strings",
    ),
    (
        lambda: ops.dense_forward(np.array([[1, None, 2]], dtype=object), W),
        TypeError,
        r"x must hold real numbers.*Python objects",
    ),
    (lambda: ops.dense_forward(X + 1j, W), TypeError, r"x must hold real numbers.*complex"),
    (
        lambda: ops.dense_forward(X, W, activation="sigmoidal"),
        ValueError,
        r"Unknown activation: 'sigmoidal'",
    ),
    (
        lambda: ops.dense_forward(X, W, activation=3),
        TypeError,
        r"activation must be a string name or None",
    ),
    (
        lambda: ops.dense_forward([[1.0], [1.0, 2.0]], W),
        TypeError,
        r"x must be a numeric array-like",
    ),
    (
        lambda: ops.dense_backward(X, W, np.ones((2, 3))),
        ValueError,
        r"dz must have shape \(batch, out_features\) = \(2, 4\), received \(2, 3\)",
    ),
    (
        lambda: ops.activation_forward(np.ones((2, 2, 2)), "relu"),
        ValueError,
        r"x must have 1 or 2 dimension\(s\)",
    ),
    (
        lambda: ops.activation_backward(X, X, np.ones((3, 2)), "relu"),
        ValueError,
        r"dy must have shape \(2, 3\) \(the shape of x\), received \(3, 2\)",
    ),
    (
        lambda: ops.activation_backward(X, np.ones(3), X, "relu"),
        ValueError,
        r"y must have shape \(2, 3\) \(the shape of x\)",
    ),
    (
        lambda: ops.batchnorm_forward_train(X, np.ones(2), V3, V3, V3),
        ValueError,
        r"gamma must have shape \(3,\) \(features = x.shape\[1\]\), received \(2,\)",
    ),
    (
        lambda: ops.batchnorm_forward_train(X, V3, V3, V3, V3, epsilon=0.0),
        ValueError,
        r"epsilon must be > 0.0, received 0.0",
    ),
    (
        lambda: ops.batchnorm_forward_train(X, V3, V3, V3, V3, momentum=1.5),
        ValueError,
        r"momentum must be <= 1.0, received 1.5",
    ),
    (
        lambda: ops.batchnorm_forward_infer(X, V3, V3, V3, np.ones(4)),
        ValueError,
        r"moving_variance must have shape \(3,\)",
    ),
    (
        lambda: ops.batchnorm_backward(X, X, V3, V3, np.ones((3, 1))),
        ValueError,
        r"save_invstd must have 1 dimension\(s\)",
    ),
    (
        lambda: ops.batchnorm_backward_infer(X, V3, V3, epsilon=-1.0),
        ValueError,
        r"epsilon must be > 0.0",
    ),
    (
        lambda: ops.residual_add_forward(X, np.ones((3, 2))),
        ValueError,
        r"fx must have shape \(2, 3\) \(the shape of x\)",
    ),
    (lambda: ops.residual_add_backward(X, "oops"), TypeError, r"d_inner must hold real numbers"),
    (lambda: ops.dropout_forward(X, 1.0, 0), ValueError, r"rate must be < 1.0, received 1.0"),
    (lambda: ops.dropout_forward(X, -0.1, 0), ValueError, r"rate must be >= 0.0, received -0.1"),
    (lambda: ops.dropout_forward(X, 0.5, -1), ValueError, r"seed must be >= 0, received -1"),
    (lambda: ops.dropout_forward(X, 0.5, 2**64), ValueError, r"seed must be < 2\*\*64"),
    (lambda: ops.dropout_forward(X, 0.5, 1.5), TypeError, r"seed must be an integer, received 1.5"),
    (lambda: ops.dropout_forward(X, "half", 1), TypeError, r"rate must be a number"),
    (
        lambda: ops.dropout_backward(X, np.ones(3), 0.5),
        ValueError,
        r"mask must have shape \(2, 3\) \(the shape of dy\)",
    ),
    (
        lambda: ops.sigmoid_binary_crossentropy(X, np.ones((2, 2))),
        ValueError,
        r"target must have shape \(2, 3\) \(the shape of logits\), received \(2, 2\)",
    ),
    (
        lambda: ops.mean_squared_error(np.ones(3), np.ones(3)),
        ValueError,
        r"y must have 2 dimension\(s\)",
    ),
    (
        lambda: ops.softmax_sparse_categorical_crossentropy(X, [0, 3]),
        ValueError,
        r"labels must be integer class indices in \[0, 3\), received 3 at index 1",
    ),
    (
        lambda: ops.sparse_categorical_crossentropy(X, ["a", "b"]),
        TypeError,
        r"labels must hold real numbers",
    ),
    (
        lambda: ops.categorical_accuracy_sum(X, np.ones((2, 4))),
        ValueError,
        r"target must have shape \(2, 3\) \(the shape of prob\)",
    ),
    (
        lambda: ops.sgd_update(V3, V3, learning_rate=-0.1),
        ValueError,
        r"learning_rate must be >= 0.0, received -0.1",
    ),
    (
        lambda: ops.sgd_update(V3, V3, learning_rate=float("nan")),
        ValueError,
        r"learning_rate must be finite",
    ),
    (
        lambda: ops.sgd_update(V3, V3, learning_rate="0.1"),
        TypeError,
        r"learning_rate must be a number",
    ),
    (
        lambda: ops.sgd_update(V3, V3, momentum=2.0),
        ValueError,
        r"momentum must be <= 1.0, received 2.0",
    ),
    (
        lambda: ops.sgd_update(V3, np.ones(4)),
        ValueError,
        r"g must have shape \(3,\) \(the shape of w\), received \(4,\)",
    ),
    (
        lambda: ops.sgd_update(V3, V3, np.ones(2), momentum=0.5),
        ValueError,
        r"velocity must have shape \(3,\) \(the shape of w\)",
    ),
    (lambda: ops.adam_update(V3, V3, step=0), ValueError, r"step must be >= 1, received 0"),
    (
        lambda: ops.adam_update(V3, V3, beta_1=1.0),
        ValueError,
        r"beta_1 must be < 1.0, received 1.0",
    ),
    (lambda: ops.adam_update(V3, V3, epsilon=0.0), ValueError, r"epsilon must be > 0.0"),
    (
        lambda: ops.adam_update(V3, V3, np.ones((3, 1))),
        ValueError,
        r"m must have shape \(3,\) \(the shape of w\), received \(3, 1\)",
    ),
    (lambda: ops.rmsprop_update(V3, V3, rho=1.0), ValueError, r"rho must be < 1.0"),
    (lambda: ops.rmsprop_update(V3, V3, momentum=-0.5), ValueError, r"momentum must be >= 0.0"),
    (lambda: ops.clip_by_norm(V3, 0.0), ValueError, r"clipnorm must be > 0.0, received 0.0"),
    (lambda: ops.clip_by_value(V3, -1.0), ValueError, r"clipvalue must be > 0.0"),
    (lambda: ops.buffer_stats([]), ValueError, r"x must not be empty"),
    (lambda: ops.buffer_norm([]), ValueError, r"x must not be empty"),
    (lambda: ops.buffer_stats({"a": 1}), TypeError, r"x must hold real numbers"),
    (lambda: ops.activation_stats(V3, "relu"), ValueError, r"y must have 2 dimension\(s\)"),
    (lambda: ops.activation_stats(X, "relu", bins=0), ValueError, r"bins must be >= 1, received 0"),
    (
        lambda: ops.activation_stats(X, "relu", range=(1.0, 0.0)),
        ValueError,
        r"range must satisfy lo < hi",
    ),
    (lambda: ops.activation_stats(X, "relu", range=3.0), TypeError, r"range must be a pair"),
    (
        lambda: ops.activation_stats(X, "relu", range=(0.0, np.inf)),
        ValueError,
        r"range\[1\] must be finite",
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), BAD_CALLS)
def test_bad_call_raises_clear_error(call, exc, match) -> None:
    with pytest.raises(exc, match=match):
        call()


# The bindings check what the Python wrappers guarantee, for direct callers.
CORE_BAD_CALLS = [
    (
        lambda: _core.dense_forward(X, np.ones((4, 3)), None, np.empty((2, 3)), None, 0),
        r"dense_forward: expected w.shape=\(3, 3\), received \(4, 3\)",
    ),
    (
        lambda: _core.dense_forward(X, W, None, np.empty((2, 4)), None, 1),
        r"dense_forward: y is required when act is not linear",
    ),
    (
        lambda: _core.dense_forward(X, W, None, np.empty((2, 4)), None, 99),
        r"dense_forward: expected act to be an activation code, received 99",
    ),
    (
        lambda: _core.activation_forward(X, np.empty((2, 4)), 0),
        r"activation_forward: expected y.shape=\(2, 3\) \(the shape of x\), received \(2, 4\)",
    ),
    (
        lambda: _core.batchnorm_backward(X, X, V3, V3, V3, X, V3.copy(), V3.copy()),
        r"batchnorm_backward: dx and dy must not share memory",
    ),
    (
        lambda: _core.dropout_forward(X, np.empty_like(X), np.empty((2, 3), np.uint8), 1.0, 0),
        r"dropout_forward: expected rate in \[0, 1\), received 1",
    ),
    (
        lambda: _core.softmax_sparse_cce_forward(X, np.array([0.0, 3.0])),
        r"softmax_sparse_cce_forward: expected labels to hold class indices in \[0, 3\), "
        r"received 3 at index 1",
    ),
    (
        lambda: _core.adam_update(V3.copy(), V3, V3.copy(), V3.copy(), 0.1, 0.9, 0.999, 1e-7, 0),
        r"adam_update: expected step >= 1, received 0",
    ),
    (
        lambda: _core.sgd_update(V3.copy(), V3, None, 0.1, 0.9, False),
        r"sgd_update: velocity is required when momentum != 0",
    ),
    (
        lambda: _core.activation_stats(X, 3, np.zeros(0, np.int64), 0.0, 1.0),
        r"activation_stats: expected hist.size >= 1",
    ),
]


@pytest.mark.parametrize(("call", "match"), CORE_BAD_CALLS)
def test_binding_rejects_bad_call(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_binding_rejects_aliased_gemm_output() -> None:
    x = np.ones((3, 3))
    with pytest.raises(ValueError, match="dense_forward: z and x must not share memory"):
        _core.dense_forward(x, np.ones((3, 3)), None, x, None, 0)


def test_binding_rejects_read_only_output() -> None:
    y = np.empty((2, 3))
    y.setflags(write=False)
    with pytest.raises(ValueError, match="activation_forward: y must be writeable"):
        _core.activation_forward(X, y, 0)


def test_binding_does_not_convert_dtype_or_layout() -> None:
    # noconvert: a silent copy would make the kernel write into a temporary.
    with pytest.raises(TypeError):
        _core.activation_forward(X.astype(np.float32), np.empty((2, 3)), 0)
    with pytest.raises(TypeError):
        _core.activation_forward(np.ones((3, 2)).T, np.empty((2, 3)), 0)


CONVERTED = [
    ("non-contiguous view", np.arange(24.0).reshape(4, 6)[:, ::2], np.float64),
    ("Fortran order", np.asfortranarray(np.arange(12.0).reshape(4, 3)), np.float64),
    ("integers", np.arange(12).reshape(4, 3), np.float32),
    ("booleans", np.arange(12).reshape(4, 3) % 2 == 0, np.float32),
    ("float16", np.arange(12, dtype=np.float16).reshape(4, 3), np.float32),
    ("nested lists", [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32),
]


@pytest.mark.parametrize(("label", "x", "dtype"), CONVERTED, ids=[c[0] for c in CONVERTED])
def test_numeric_array_likes_are_converted(label, x, dtype) -> None:
    reference = np.ascontiguousarray(x, dtype=dtype)
    y = ops.activation_forward(x, "tanh")
    assert y.dtype == dtype and y.flags.c_contiguous
    np.testing.assert_array_equal(y, ops.activation_forward(reference, "tanh"))
    w = np.ones((3, 2), dtype=dtype)
    np.testing.assert_array_equal(ops.dense_forward(x, w), ops.dense_forward(reference, w))
    assert ops.buffer_stats(x) == ops.buffer_stats(reference)
