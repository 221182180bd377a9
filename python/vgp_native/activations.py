"""Activation names, as Keras 3 defines them.

===========  ============================================  ==========================
name         y = f(x)                                      f'(x)
===========  ============================================  ==========================
linear       x                                             1
sigmoid      1 / (1 + e^-x)                                y (1 - y) <= 1/4
tanh         tanh x                                        1 - y^2
relu         max(x, 0)                                     [x > 0]
leaky_relu   x if x > 0 else 0.2 x                         1 or 0.2
elu          x if x > 0 else e^x - 1                       1 or e^x
selu         s x if x > 0 else s a (e^x - 1)               s or s a e^x
gelu         x Phi(x) (exact, with erf)                    Phi(x) + x phi(x)
softplus     log(1 + e^x)                                  sigmoid(x)
swish        x sigmoid(x)                                  s (1 + x (1 - s))
softmax      e^{x_i} / sum_j e^{x_j} (per row)             diag(y) - y y^T
===========  ============================================  ==========================

(selu: s = 1.0507..., a = 1.6733..., Klambauer et al. 2017; gelu: Hendrycks &
Gimpel 2016; swish: Ramachandran et al. 2017; elu: Clevert et al. 2016.)

The sigmoid's derivative never exceeds 1/4, so a chain of n sigmoid layers
multiplies the gradient by at most 4^-n: the vanishing gradient problem of the
seed document. The ReLU family passes gradients through unchanged where units
are active.
"""

from __future__ import annotations

from typing import Any

ACTIVATIONS: dict[str, int] = {
    "linear": 0,
    "sigmoid": 1,
    "tanh": 2,
    "relu": 3,
    "leaky_relu": 4,
    "elu": 5,
    "selu": 6,
    "gelu": 7,
    "softplus": 8,
    "swish": 9,
    "softmax": 10,
}
_ALIASES = {"silu": "swish", None: "linear"}

#: Activations whose units saturate (bounded outputs with vanishing derivative).
SATURATING = frozenset({"sigmoid", "tanh"})
#: Activations whose units can die (zero or constant output for all inputs).
RELU_FAMILY = frozenset({"relu", "leaky_relu", "elu", "selu"})


def get(identifier: Any, name: str = "activation") -> str:
    """Return the canonical activation name for ``identifier`` (a name or None)."""
    if identifier is None or isinstance(identifier, str):
        key = _ALIASES.get(identifier, identifier)
        if key in ACTIVATIONS:
            return key
        raise ValueError(
            f"Unknown {name}: {identifier!r}. Expected one of: {', '.join(ACTIVATIONS)}"
        )
    raise TypeError(f"{name} must be a string name or None, received {identifier!r}")


def code(identifier: Any, name: str = "activation") -> int:
    """Return the native integer code of an activation."""
    return ACTIVATIONS[get(identifier, name)]
