"""NumPy references for the kernels, written from the formulas (Keras 3)."""

from __future__ import annotations

import math

import numpy as np

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
_ERF = np.frompyfunc(math.erf, 1, 1)


def erf(x: np.ndarray) -> np.ndarray:
    return _ERF(x).astype(np.float64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def ref_forward(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if name == "softmax":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return {
        "linear": lambda: x,
        "sigmoid": lambda: sigmoid(x),
        "tanh": lambda: np.tanh(x),
        "relu": lambda: np.maximum(x, 0.0),
        "leaky_relu": lambda: np.where(x > 0, x, 0.2 * x),
        "elu": lambda: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
        "selu": lambda: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
        "gelu": lambda: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))),
        "softplus": lambda: np.logaddexp(x, 0.0),
        "swish": lambda: x * sigmoid(x),
    }[name]()


def ref_backward(x: np.ndarray, dy: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    dy = np.asarray(dy, dtype=np.float64)
    if name == "softmax":
        y = ref_forward(x, name)
        return y * (dy - np.sum(dy * y, axis=1, keepdims=True))
    s = sigmoid(x)
    deriv = {
        "linear": lambda: np.ones_like(x),
        "sigmoid": lambda: s * (1 - s),
        "tanh": lambda: 1 - np.tanh(x) ** 2,
        "relu": lambda: (x > 0).astype(np.float64),
        "leaky_relu": lambda: np.where(x > 0, 1.0, 0.2),
        "elu": lambda: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))),
        "selu": lambda: np.where(
            x > 0, SELU_SCALE, SELU_SCALE * SELU_ALPHA * np.exp(np.minimum(x, 0))
        ),
        "gelu": lambda: (
            0.5 * (1 + erf(x / math.sqrt(2))) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        ),
        "softplus": lambda: s,
        "swish": lambda: s * (1 + x * (1 - s)),
    }[name]()
    return dy * deriv
