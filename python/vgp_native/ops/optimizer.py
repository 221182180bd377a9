"""Checked wrappers of the optimizer updates and gradient clipping (cpp/ops/optimizer).

Optimizer updates return new arrays and leave their arguments untouched.

Public through :mod:`vgp_native.ops`; see there for the conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._validation import check_float, check_int, float_array, float_like
from .._validation import common_dtype as _dtype_of


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
