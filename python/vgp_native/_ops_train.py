"""Checked wrappers of the training kernels: losses, metrics, optimizer updates,
clipping and gradient-flow statistics.

Public through :mod:`vgp_native.ops`; see there for the conventions. Losses
return the batch-mean loss and its gradient; optimizer updates return new
arrays and leave their arguments untouched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from . import activations as _activations
from ._validation import (
    check_float,
    check_int,
    check_shape,
    float_array,
    float_like,
    numeric_array,
)
from ._validation import common_dtype as _dtype_of

# ------------------------------------------------------------ losses, metrics


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
    return _loss("sigmoid_bce", logits, target, "logits")


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


# ---------------------------------------------------------------- optimizers


def _weights(w: Any, g: Any, *state: Any) -> tuple[np.ndarray, np.ndarray]:
    """A fresh copy of ``w`` (updated in place by the kernel) and ``g`` of its shape."""
    dtype = _dtype_of(w, g, *state)
    w_new = np.array(float_array(w, "w", dtype), copy=True)
    return w_new, float_like(g, "g", dtype, w_new, "w")


def _state(value: Any, name: str, w: np.ndarray) -> np.ndarray:
    """A fresh copy of an optimizer state buffer (zeros when None), the shape of ``w``."""
    if value is None:
        return np.zeros_like(w)
    return np.array(float_like(value, name, w.dtype, w, "w"), copy=True)


def _learning_rate(value: Any) -> float:
    return check_float(value, "learning_rate", minimum=0.0)


def _epsilon(value: Any) -> float:
    return check_float(value, "epsilon", minimum=0.0, min_inclusive=False)


def _unit(value: Any, name: str, closed: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] when ``closed``)."""
    return check_float(value, name, minimum=0.0, maximum=1.0, max_inclusive=closed)


def sgd_update(
    w: Any,
    g: Any,
    velocity: Any = None,
    learning_rate: float = 0.01,
    momentum: float = 0.0,
    nesterov: bool = False,
) -> tuple[np.ndarray, np.ndarray | None, float]:
    """One SGD step, Keras 3 formulas.

    ``momentum = 0``: ``w ← w − lr g``. Otherwise ``v ← momentum v − lr g`` and
    ``w ← w + v``, or with Nesterov ``w ← w + momentum v − lr g``.

    Args:
        w: weights (any shape), g: gradient of the same shape.
        velocity: momentum buffer (zeros when None; unused when momentum is 0).
        learning_rate: >= 0. momentum: in [0, 1]. nesterov: Nesterov momentum.

    Returns:
        ``(w_new, velocity_new, step_sq_norm)``; ``velocity_new`` is None when
        momentum is 0, ``step_sq_norm = ‖w_new − w‖²``.
    """
    w, g = _weights(w, g, velocity)
    lr = _learning_rate(learning_rate)
    mom = _unit(momentum, "momentum", closed=True)
    vel = _state(velocity, "velocity", w) if mom != 0.0 else None
    sq = _core.sgd_update(w, g, vel, lr, mom, bool(nesterov))
    return w, vel, sq


def adam_update(
    w: Any,
    g: Any,
    m: Any = None,
    v: Any = None,
    step: int = 1,
    learning_rate: float = 0.001,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One Adam step (Kingma & Ba 2015), Keras 3 formulas.

    ``m ← m + (g − m)(1 − β₁)``, ``v ← v + (g² − v)(1 − β₂)``,
    ``α = lr √(1 − β₂ᵗ) / (1 − β₁ᵗ)``, ``w ← w − α m / (√v + ε)``.

    Args:
        w, g: weights and gradient. m, v: moment estimates (zeros when None).
        step: 1-based step count ``t``.
        learning_rate: >= 0. beta_1, beta_2: in [0, 1). epsilon: > 0.

    Returns:
        ``(w_new, m_new, v_new, step_sq_norm)``.
    """
    w, g = _weights(w, g, m, v)
    m_new, v_new = _state(m, "m", w), _state(v, "v", w)
    sq = _core.adam_update(
        w,
        g,
        m_new,
        v_new,
        _learning_rate(learning_rate),
        _unit(beta_1, "beta_1"),
        _unit(beta_2, "beta_2"),
        _epsilon(epsilon),
        check_int(step, "step", minimum=1),
    )
    return w, m_new, v_new, sq


def rmsprop_update(
    w: Any,
    g: Any,
    velocity: Any = None,
    momentum_buffer: Any = None,
    average_gradient: Any = None,
    learning_rate: float = 0.001,
    rho: float = 0.9,
    momentum: float = 0.0,
    epsilon: float = 1e-7,
    centered: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, float]:
    """One RMSprop step (Hinton 2012), Keras 3 formulas.

    ``v ← ρ v + (1 − ρ) g²``; centered: ``a ← ρ a + (1 − ρ) g`` and
    ``den = v − a² + ε``, else ``den = v + ε``; ``inc = lr g / √den``;
    with momentum ``mom ← momentum · mom + inc``, ``w ← w − mom``, else ``w ← w − inc``.

    Args:
        w, g: weights and gradient.
        velocity, momentum_buffer, average_gradient: state (zeros when None).
        learning_rate: >= 0. rho, momentum: in [0, 1). epsilon: > 0.
        centered: normalise by the estimated variance instead of the second moment.

    Returns:
        ``(w_new, velocity_new, momentum_new, average_new, step_sq_norm)``;
        ``momentum_new`` is None without momentum, ``average_new`` without centering.
    """
    w, g = _weights(w, g, velocity, momentum_buffer, average_gradient)
    mom = _unit(momentum, "momentum")
    vel = _state(velocity, "velocity", w)
    mom_buf = _state(momentum_buffer, "momentum_buffer", w) if mom > 0.0 else None
    avg = _state(average_gradient, "average_gradient", w) if centered else None
    sq = _core.rmsprop_update(
        w,
        g,
        vel,
        mom_buf,
        avg,
        _learning_rate(learning_rate),
        _unit(rho, "rho"),
        mom,
        _epsilon(epsilon),
        bool(centered),
    )
    return w, vel, mom_buf, avg, sq


def _gradient_copy(g: Any) -> np.ndarray:
    return np.array(float_array(g, "g", _dtype_of(g)), copy=True)


def clip_by_norm(g: Any, clipnorm: float) -> np.ndarray:
    """Keras ``clipnorm`` on one gradient: ``g · clipnorm / max(‖g‖₂, clipnorm)``.

    Args:
        g: the gradient of one variable.
        clipnorm: > 0.

    Returns:
        The clipped copy of ``g``.
    """
    out = _gradient_copy(g)
    _core.clip_by_norm(out, check_float(clipnorm, "clipnorm", minimum=0.0, min_inclusive=False))
    return out


def clip_by_value(g: Any, clipvalue: float) -> np.ndarray:
    """Keras ``clipvalue``: ``clip(g, −clipvalue, clipvalue)`` elementwise.

    Args:
        g: a gradient.
        clipvalue: > 0.

    Returns:
        The clipped copy of ``g``.
    """
    out = _gradient_copy(g)
    _core.clip_by_value(out, check_float(clipvalue, "clipvalue", minimum=0.0, min_inclusive=False))
    return out


# -------------------------------------------------------- gradient-flow stats


def buffer_stats(x: Any) -> dict[str, float | int]:
    """Statistics of a gradient, signal or weight buffer, in one pass.

    Returns:
        ``{"l2", "sumsq", "mean_abs", "max_abs", "nonfinite"}``: ``l2 = √Σx²``
        (NaN when any element is NaN or Inf), ``sumsq = Σx²``, mean and max of
        ``|x|`` (NaN propagates to ``max_abs``), number of NaN/Inf elements.
    """
    return _core.buffer_stats(float_array(x, "x", _dtype_of(x)))


_BOUNDED = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def _histogram_range(y: np.ndarray, name: str, value: Any) -> tuple[float, float]:
    if value is not None:
        try:
            lo, hi = value
        except (TypeError, ValueError) as exc:
            raise TypeError(f"range must be a pair (lo, hi), received {value!r}") from exc
        lo = check_float(lo, "range[0]")
        hi = check_float(hi, "range[1]")
        if not lo < hi:
            raise ValueError(f"range must satisfy lo < hi, received ({lo}, {hi})")
        return lo, hi
    if name in _BOUNDED:
        return _BOUNDED[name]
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


def activation_stats(
    y: Any, activation: str | None, bins: int = 20, range: tuple[float, float] | None = None
) -> dict[str, Any]:
    """Statistics of a layer's activation output ``y`` for the gradient-flow report.

    ``saturated``: fraction of elements within 1e-2 of the bounds of sigmoid
    (``y < 0.01`` or ``y > 0.99``) or tanh (``|y| > 0.99``), where the
    derivative vanishes. ``dead``: fraction of units (columns) off for every
    row (relu ``y <= 0``; leaky_relu, elu, selu ``y < 0``).

    Args:
        y: ``(batch, features)`` activation output.
        activation: the activation that produced ``y``.
        bins: number of equal histogram bins, >= 1.
        range: ``(lo, hi)`` of the histogram; values outside count in the end
            bins, NaN/Inf are not counted. Default: the activation's bounds for
            sigmoid, softmax and tanh, else the finite min and max of ``y``.

    Returns:
        ``{"mean", "std", "saturated", "dead", "nonfinite", "hist", "bin_edges"}``.
    """
    y = float_array(y, "y", _dtype_of(y), ndim=2)
    name = _activations.get(activation)
    nbins = check_int(bins, "bins", minimum=1)
    lo, hi = _histogram_range(y, name, range)
    hist = np.zeros(nbins, dtype=np.int64)
    stats = _core.activation_stats(y, _activations.ACTIVATIONS[name], hist, lo, hi)
    stats["hist"] = hist
    stats["bin_edges"] = np.linspace(lo, hi, nbins + 1)
    return stats
