"""Checked wrappers of the loss and metric kernels (Keras 3 semantics).

Public through :mod:`vgp_native.ops`; see there for the conventions. Each loss
returns the batch-mean loss and the gradient of that mean with respect to its
first argument; the metrics return sums over rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._validation import check_shape, float_array, numeric_array
from .._validation import common_dtype as _dtype_of


def _target(value: Any, a: np.ndarray, a_name: str) -> np.ndarray:
    """A target the shape of ``a``; ``(batch,)`` is accepted for one output unit (Keras)."""
    t = float_array(value, "target", a.dtype, ndim=(1, 2))
    if t.ndim == 1 and a.shape[1] == 1:
        t = t.reshape(-1, 1)
    check_shape(t, "target", a.shape, f"the shape of {a_name}")
    return t


def _labels(value: Any, a: np.ndarray, a_name: str) -> np.ndarray:
    """One integer class index in [0, classes) per row of ``a``, stored in ``a.dtype``."""
    raw = numeric_array(value, "labels")
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    check_shape(raw, "labels", (a.shape[0],), f"one class index per row of {a_name}")
    classes = a.shape[1]
    f = raw.astype(np.float64)
    bad = ~np.isfinite(f) | (f != np.floor(f)) | (f < 0) | (f >= classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"labels must be integer class indices in [0, {classes}), received {raw[i].item()!r} "
            f"at index {i}"
        )
    return np.ascontiguousarray(raw, dtype=a.dtype)


def _inputs_and_target(
    a: Any, target: Any, a_name: str, sparse: bool
) -> tuple[np.ndarray, np.ndarray]:
    dtype = _dtype_of(a) if sparse else _dtype_of(a, target)
    a = float_array(a, a_name, dtype, ndim=2)
    t = _labels(target, a, a_name) if sparse else _target(target, a, a_name)
    return a, t


def _loss(kernel: str, a: Any, target: Any, a_name: str, sparse: bool = False):
    """(batch-mean loss, gradient of the batch mean) from a forward/backward kernel pair."""
    a, t = _inputs_and_target(a, target, a_name, sparse)
    batch = a.shape[0]
    total = getattr(_core, f"{kernel}_forward")(a, t)
    grad = np.empty_like(a)
    getattr(_core, f"{kernel}_backward")(a, t, grad, 1.0 / batch)
    return total / batch, grad


def sigmoid_binary_crossentropy(logits: Any, target: Any) -> tuple[float, np.ndarray]:
    """Sigmoid + binary cross-entropy from logits, fused.

    Per row: ``l = (1/k) Σ_j [max(z, 0) − z t + log1p(e^−|z|)]``,
    ``∂l/∂z = (σ(z) − t) / k``. Exact when a unit saturates: at ``z = 300`` the
    gradient is ``1 − t``, not NaN (Keras' TensorFlow backend,
    ``sigmoid_cross_entropy_with_logits``).

    Args:
        logits: ``(batch, k)``.
        target: ``(batch, k)`` in [0, 1], or ``(batch,)`` when ``k == 1``.

    Returns:
        ``(loss, dlogits)``: the batch-mean loss and its gradient.
    """
    a, t = _inputs_and_target(logits, target, "logits", False)
    grad = np.empty_like(a)
    total = _core.sigmoid_bce_forward_backward(a, t, grad, 1.0 / a.shape[0])
    return total / a.shape[0], grad


def binary_crossentropy(prob: Any, target: Any) -> tuple[float, np.ndarray]:
    """Binary cross-entropy of probabilities (Keras ``from_logits=False``).

    ``p' = clip(p, 1e-7, 1 − 1e-7)``, ``l = −(1/k) Σ_j [t log p' + (1 − t) log(1 − p')]``;
    the gradient is zero where the clip is active.

    Args:
        prob: ``(batch, k)`` probabilities.
        target: ``(batch, k)``, or ``(batch,)`` when ``k == 1``.

    Returns:
        ``(loss, dprob)``.
    """
    return _loss("bce", prob, target, "prob")


def softmax_categorical_crossentropy(logits: Any, target: Any) -> tuple[float, np.ndarray]:
    """Softmax + categorical cross-entropy from logits, fused.

    Per row: ``l = Σ_j t_j (logsumexp(z) − z_j)``, ``∂l/∂z = softmax(z) Σ_j t_j − t``.

    Args:
        logits: ``(batch, classes)``.
        target: ``(batch, classes)``, one-hot or soft labels.

    Returns:
        ``(loss, dlogits)``.
    """
    return _loss("softmax_cce", logits, target, "logits")


def softmax_sparse_categorical_crossentropy(logits: Any, labels: Any) -> tuple[float, np.ndarray]:
    """Softmax + sparse categorical cross-entropy from logits, fused.

    Per row: ``l = logsumexp(z) − z_label``, ``∂l/∂z = softmax(z) − onehot(label)``.

    Args:
        logits: ``(batch, classes)``.
        labels: ``(batch,)`` integer class indices in [0, classes).

    Returns:
        ``(loss, dlogits)``.
    """
    return _loss("softmax_sparse_cce", logits, labels, "logits", sparse=True)


def categorical_crossentropy(prob: Any, target: Any) -> tuple[float, np.ndarray]:
    """Categorical cross-entropy of probabilities (Keras ``from_logits=False``).

    Keras first normalises each row: ``q = clip(p / Σ p, 1e-7, 1 − 1e-7)``,
    ``l = −Σ_j t_j log q_j``; the gradient includes the normalisation.

    Args:
        prob: ``(batch, classes)`` non-negative scores.
        target: ``(batch, classes)``.

    Returns:
        ``(loss, dprob)``.
    """
    return _loss("cce", prob, target, "prob")


def sparse_categorical_crossentropy(prob: Any, labels: Any) -> tuple[float, np.ndarray]:
    """Sparse categorical cross-entropy of probabilities: ``−log q_label`` (see
    :func:`categorical_crossentropy` for ``q``).

    Args:
        prob: ``(batch, classes)``.
        labels: ``(batch,)`` integer class indices in [0, classes).

    Returns:
        ``(loss, dprob)``.
    """
    return _loss("sparse_cce", prob, labels, "prob", sparse=True)


def mean_squared_error(y: Any, target: Any) -> tuple[float, np.ndarray]:
    """Mean squared error: per row ``l = (1/k) Σ_j (y_j − t_j)²``, ``∂l/∂y = 2 (y − t) / k``.

    Args:
        y: predictions, ``(batch, k)``.
        target: ``(batch, k)``, or ``(batch,)`` when ``k == 1``.

    Returns:
        ``(loss, dy)``.
    """
    return _loss("mse", y, target, "y")


def _row_sum(kernel: str, prob: Any, target: Any, sparse: bool = False) -> float:
    prob, t = _inputs_and_target(prob, target, "prob", sparse)
    return float(getattr(_core, kernel)(prob, t))


def binary_accuracy_sum(prob: Any, target: Any) -> float:
    """Σ_rows (1/k) Σ_j [(p_j > 0.5) = t_j] (Keras ``binary_accuracy``, threshold 0.5)."""
    return _row_sum("binary_accuracy_sum", prob, target)


def categorical_accuracy_sum(prob: Any, target: Any) -> float:
    """Number of rows with ``argmax p = argmax t`` (first maximum wins)."""
    return _row_sum("categorical_accuracy_sum", prob, target)


def sparse_categorical_accuracy_sum(prob: Any, labels: Any) -> float:
    """Number of rows with ``argmax p = label``."""
    return _row_sum("sparse_categorical_accuracy_sum", prob, labels, sparse=True)
