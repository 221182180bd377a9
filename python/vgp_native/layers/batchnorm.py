"""Batch normalization (Ioffe & Szegedy 2015)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._validation import check_float
from .base import Layer, identity_jacobian, register


@register
class BatchNormalization(Layer):
    """Normalizes each feature over the batch, then scales and shifts it.

    Training (batch statistics, biased variance, as Keras)::

        mean = x.mean(0);  var = x.var(0)
        y = gamma * (x - mean) / sqrt(var + epsilon) + beta
        moving = momentum * moving + (1 - momentum) * batch_statistic

    Inference uses the moving statistics. Normalizing every layer's
    pre-activations keeps sigmoid and tanh units out of their flat tails, which
    is how batch normalization fights the vanishing gradient (Ioffe & Szegedy
    2015, "Batch Normalization: Accelerating Deep Network Training by Reducing
    Internal Covariate Shift").

    Args:
        momentum: moving-average momentum, in [0, 1].
        epsilon: added to the variance, > 0.
        name: layer name.

    Weights:
        ``[gamma, beta, moving_mean, moving_variance]``, each ``(features,)``.
    """

    weight_names: ClassVar[tuple[str, ...]] = ("gamma", "beta", "moving_mean", "moving_variance")
    native_kind: ClassVar[str] = "batchnorm"
    normalizes: ClassVar[bool] = True

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, name: str | None = None):
        self.momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0)
        self.epsilon = check_float(epsilon, "epsilon", minimum=0.0, min_inclusive=False)
        super().__init__(name=name)

    def weight_shapes(self, input_dim: int) -> list[tuple[int, ...]]:
        """Four ``(features,)`` vectors: gamma, beta, moving mean, moving variance."""
        return [(input_dim,)] * 4

    def _create_weights(
        self, input_dim: int, rng: np.random.Generator, dtype: np.dtype
    ) -> list[np.ndarray]:
        return [
            np.ones(input_dim, dtype=dtype),
            np.zeros(input_dim, dtype=dtype),
            np.zeros(input_dim, dtype=dtype),
            np.ones(input_dim, dtype=dtype),
        ]

    def native_spec(self) -> dict[str, Any]:
        """``{"kind": "batchnorm", "epsilon", "momentum"}`` for the native executor."""
        return {"kind": "batchnorm", "epsilon": self.epsilon, "momentum": self.momentum}

    def jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``diag(gamma / sqrt(moving_variance + epsilon))`` per sample (inference mode)."""
        gamma, beta, mean, var = (np.asarray(v, dtype=np.float64) for v in self.weights)
        scale = gamma / np.sqrt(var + self.epsilon)
        return (x - mean) * scale + beta, scale[None, :, None] * identity_jacobian(x)

    def get_config(self) -> dict[str, Any]:
        """``{"name", "momentum", "epsilon"}``."""
        return {"name": self.name, "momentum": self.momentum, "epsilon": self.epsilon}
