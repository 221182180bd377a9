"""Inverted dropout (Srivastava et al. 2014)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._validation import check_float
from .base import Layer, identity_jacobian, register


@register
class Dropout(Layer):
    """Zeroes each input with probability ``rate`` during training.

    ``y = mask * x / (1 - rate)`` with ``mask ~ Bernoulli(1 - rate)``; the
    identity at inference. Masks come from the model's seeded generator, so a
    fixed seed gives the same masks run after run.

    Args:
        rate: drop probability, in [0, 1).
        name: layer name.
    """

    native_kind: ClassVar[str] = "dropout"

    def __init__(self, rate: float, name: str | None = None) -> None:
        self.rate = check_float(rate, "rate", minimum=0.0, maximum=1.0, max_inclusive=False)
        super().__init__(name=name)

    def native_spec(self) -> dict[str, Any]:
        """``{"kind": "dropout", "rate"}`` for the native executor."""
        return {"kind": "dropout", "rate": self.rate}

    @property
    def stochastic(self) -> bool:
        """True when ``rate > 0``: training draws a mask per batch."""
        return self.rate > 0

    def jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The identity (dropout is off at inference)."""
        return x, np.array(identity_jacobian(x))

    def get_config(self) -> dict[str, Any]:
        """``{"name", "rate"}``."""
        return {"name": self.name, "rate": self.rate}
