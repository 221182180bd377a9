"""Activations: the one registry of what the package knows about each of them.

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

``REGISTRY`` holds one ``ActivationFacts`` per name: the native code (read from
``_core.ACTIVATION_CODES``, never typed here), the family, the histogram range
of the gradient-flow statistics, the saturation bounds, the initialization that
puts a deep network at the edge of chaos, and numpy ``phi`` and ``phi'`` with
the limits mean-field theory needs. The planner, ``flow.theory``,
``flow.findings``, ``plots`` and ``ops`` read it; nothing else keeps a table of
activations. Adding one is its C++ functor (``cpp/ops/activation.h``) and an
entry here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._public import public_dir

__all__ = [
    "ACTIVATIONS",
    "FAMILIES",
    "REGISTRY",
    "RELU_FAMILY",
    "SATURATING",
    "SATURATION_MARGIN",
    "ActivationFacts",
    "code",
    "facts",
    "get",
]
__dir__ = public_dir(__name__, __all__)

#: Families: "saturating" units have bounded outputs with a vanishing derivative
#: in their tails; "relu" units can die (zero or constant output for every input);
#: "smooth" units are unbounded above with a bounded derivative; "linear" is the
#: identity; "softmax" couples the units of a row.
FAMILIES = ("linear", "saturating", "relu", "smooth", "softmax")
#: An output within this distance of a saturation bound counts as saturated (as
#: the native statistics count it, ``kSaturationMargin`` in ``cpp/ops/flowstats``).
SATURATION_MARGIN = 1e-2

_Fn = Callable[[np.ndarray], np.ndarray]
_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717
_LEAKY_SLOPE = 0.2
_HE = "he_normal (sigma_w^2 = 2)"
_GLOROT = "glorot_uniform or lecun_normal (sigma_w^2 = 1)"


@dataclass(frozen=True)
class ActivationFacts:
    """Everything the package knows about one activation.

    Attributes:
        name: the canonical name.
        family: one of ``FAMILIES``.
        hist_range: ``(lo, hi)`` of the activation histogram the native pass records.
        output_bounds: the range of ``y`` when bounded (sigmoid, tanh, softmax), else None.
        saturation_bounds: the bounds near which units saturate (outputs within
            ``SATURATION_MARGIN`` of them count as saturated), None when none.
        critical_init: the initialization that puts a deep plain network at the
            edge of chaos (chi1 = 1), as the findings recommend it; None where no
            initialization does (sigmoid: change the activation; softmax: an output).
        phi, dphi: numpy ``phi(x)`` and ``phi'(x)`` in float64 (None for softmax,
            which is not elementwise).
        phi0: ``phi(0)``.
        kappa0: ``(phi'(0+)^2 + phi'(0-)^2) / 2 = lim_{q->0} E[phi'(sqrt(q) z)^2]``.
        kappa_inf: ``(phi'(+inf)^2 + phi'(-inf)^2) / 2 = lim_{q->inf} E[phi(sqrt(q) z)^2] / q``
            (the growth rate of the mean-field length map).
        homogeneous: ``phi(a x) = a phi(x)`` for ``a > 0``: the length map is linear in q.
        rising: ``E[phi(sqrt(q) z)^2] / q`` rises towards ``kappa_inf`` from below
            (``|phi(x)| < x`` for ``x > 0``).
        dies: ``phi'`` is exactly 0 on the off side, so a unit off for every input
            gets no gradient and cannot recover (relu; leaky_relu, elu and selu
            still pass one there).
    """

    name: str
    family: str
    hist_range: tuple[float, float]
    output_bounds: tuple[float, float] | None
    saturation_bounds: tuple[float, float] | None
    critical_init: str | None
    phi: _Fn | None
    dphi: _Fn | None
    phi0: float
    kappa0: float
    kappa_inf: float
    homogeneous: bool = False
    rising: bool = False
    dies: bool = False

    @property
    def code(self) -> int:
        """The native integer code (``_core.ACTIVATION_CODES``)."""
        return ACTIVATIONS[self.name]

    @property
    def elementwise(self) -> bool:
        """Whether the activation acts on each unit alone (all but softmax)."""
        return self.phi is not None


_erfc = np.frompyfunc(math.erfc, 1, 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * _erfc(-x / math.sqrt(2.0)).astype(np.float64)


def _elu(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _elu_grad(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


_UNIT = (0.0, 1.0)
_SYMMETRIC = (-1.0, 1.0)
_POSITIVE = (0.0, 4.0)
_WIDE = (-4.0, 4.0)

#: The facts of every activation, in the order of the native codes.
REGISTRY: dict[str, ActivationFacts] = {
    f.name: f
    for f in (
        ActivationFacts(
            "linear", "linear", _WIDE, None, None, _GLOROT,
            lambda x: x, np.ones_like, 0.0, 1.0, 1.0, homogeneous=True,
        ),
        ActivationFacts(
            "sigmoid", "saturating", _UNIT, _UNIT, _UNIT, None,
            _sigmoid, lambda x: _sigmoid(x) * _sigmoid(-x), 0.5, 1 / 16, 0.0,
        ),
        ActivationFacts(
            "tanh", "saturating", _SYMMETRIC, _SYMMETRIC, _SYMMETRIC, _GLOROT,
            np.tanh, lambda x: 1.0 - np.tanh(x) ** 2, 0.0, 1.0, 0.0,
        ),
        ActivationFacts(
            "relu", "relu", _POSITIVE, None, None, _HE,
            lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(np.float64),
            0.0, 0.5, 0.5, homogeneous=True, dies=True,
        ),
        ActivationFacts(
            "leaky_relu", "relu", _WIDE, None, None, _HE,
            lambda x: np.where(x > 0, x, _LEAKY_SLOPE * x),
            lambda x: np.where(x > 0, 1.0, _LEAKY_SLOPE),
            0.0, (1 + _LEAKY_SLOPE**2) / 2, (1 + _LEAKY_SLOPE**2) / 2, homogeneous=True,
        ),
        ActivationFacts(
            "elu", "relu", _WIDE, None, None, _HE,
            lambda x: _elu(x, 1.0), lambda x: _elu_grad(x, 1.0), 0.0, 1.0, 0.5,
        ),
        ActivationFacts(
            "selu", "relu", _WIDE, None, None, "lecun_normal (sigma_w^2 = 1)",
            lambda x: _SELU_SCALE * _elu(x, _SELU_ALPHA),
            lambda x: _SELU_SCALE * _elu_grad(x, _SELU_ALPHA),
            0.0, _SELU_SCALE**2 * (1 + _SELU_ALPHA**2) / 2, _SELU_SCALE**2 / 2,
        ),
        ActivationFacts(
            "gelu", "smooth", _WIDE, None, None, _HE,
            lambda x: x * _normal_cdf(x),
            lambda x: _normal_cdf(x) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi),
            0.0, 0.25, 0.5, rising=True,
        ),
        ActivationFacts(
            "softplus", "smooth", _POSITIVE, None, None, _HE,
            lambda x: np.logaddexp(0.0, x), _sigmoid, math.log(2.0), 0.25, 0.5,
        ),
        ActivationFacts(
            "swish", "smooth", _WIDE, None, None, _HE,
            lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1.0 + x * _sigmoid(-x)),
            0.0, 0.25, 0.5, rising=True,
        ),
        ActivationFacts(
            "softmax", "softmax", _UNIT, _UNIT, None, None,
            None, None, math.nan, math.nan, math.nan,
        ),
    )
}  # fmt: skip


def _native_codes() -> dict[str, int]:
    """``name -> code`` for every registry entry, from the extension's own table."""
    native = dict(_core.ACTIVATION_CODES)
    missing = [name for name in REGISTRY if name not in native]
    if missing:
        raise ImportError(
            f"activations {missing} are in the registry but not in _core.ACTIVATION_CODES "
            "(add their functor to cpp/ops/activation.h and rebuild the extension)"
        )
    return {name: int(native[name]) for name in REGISTRY}


#: ``name -> native code``, in registry order.
ACTIVATIONS: dict[str, int] = _native_codes()
_ALIASES = {"silu": "swish", None: "linear"}

#: Activations whose units saturate (bounded outputs with vanishing derivative).
SATURATING = frozenset(n for n, f in REGISTRY.items() if f.family == "saturating")
#: Activations whose units can die (zero or constant output for all inputs).
RELU_FAMILY = frozenset(n for n, f in REGISTRY.items() if f.family == "relu")


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


def facts(identifier: Any, name: str = "activation") -> ActivationFacts:
    """The registry entry of an activation (a name, an alias or None for linear)."""
    return REGISTRY[get(identifier, name)]
