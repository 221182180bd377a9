"""Central-difference gradient checks in float64 (STYLE §6).

The scalar checked is ``sum(y * r)`` with a fixed random ``r`` the shape of
the output, so every output element contributes and a wrong sign or a
transposed index anywhere shows up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

EPS = 1e-6
MAX_REL_ERROR = 1e-6


def numerical_grad(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every element i of x."""
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.empty_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        plus = f(x)
        flat[i] = orig - eps
        minus = f(x)
        flat[i] = orig
        gflat[i] = (plus - minus) / (2.0 * eps)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a|, |b|): scale-free, and 0 when both are exactly 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return 0.0 if scale == 0.0 else float(np.max(np.abs(a - b), initial=0.0)) / scale


def check_grad(
    forward: Callable[..., Any],
    backward: Callable[..., dict[str, np.ndarray]],
    inputs: dict[str, Any],
    rng: np.random.Generator,
    eps: float = EPS,
    max_error: float = MAX_REL_ERROR,
) -> dict[str, float]:
    """Compare ``backward`` with central differences of ``sum(forward(**inputs) * r)``.

    Args:
        forward: ``forward(**inputs) -> y`` (an array or a scalar).
        backward: ``backward(r, **inputs) -> {name: dL/d name}`` for the loss
            ``L = sum(y * r)``; the names it returns are the ones checked.
        inputs: float64 inputs by name.
        rng: draws ``r``.

    Returns:
        The relative error per checked input (each already asserted below ``max_error``).
    """
    inputs = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    r = rng.standard_normal(np.shape(forward(**inputs)))
    analytic = backward(r, **inputs)
    assert analytic, "backward returned no gradients to check"
    errors = {}
    for name, grad in analytic.items():

        def loss(value: np.ndarray, name: str = name) -> float:
            return float(np.sum(np.asarray(forward(**{**inputs, name: value})) * r))

        numeric = numerical_grad(loss, inputs[name], eps)
        assert np.shape(grad) == numeric.shape, name
        errors[name] = rel_error(grad, numeric)
        assert errors[name] < max_error, f"d/d{name}: relative error {errors[name]:.3e}"
    return errors
