"""Weight initializers, as Keras 3 defines them.

An initializer is called as ``init(shape, rng, dtype="float32")``: the model
passes its own seeded ``np.random.Generator``, so the same seed gives the same
weights and the global ``np.random`` state is never touched.

Fans follow Keras' ``compute_fans``: a kernel of shape ``(fan_in, fan_out)``;
a vector of shape ``(n,)`` has ``fan_in = fan_out = n``; a higher-rank kernel
``(*receptive_field, in, out)`` has ``fan_in = in * prod(receptive_field)`` and
``fan_out = out * prod(receptive_field)``.

Why initialization matters for the vanishing gradient: the mean-field theory in
:mod:`vgp_native.flow.theory` predicts each layer multiplies the gradient norm by
about ``sqrt(chi1)``, and ``chi1`` depends on ``sigma_w^2 = fan_in * Var(W)``
(:func:`weight_variance`): Glorot keeps ``sigma_w^2 = 1`` on square layers, He
doubles it to 2 for ReLU, which halves the signal.

The classes live in :mod:`vgp_native.initializers.classes`; ``moments(shape)``
of every built-in one returns the exact mean and variance of one drawn entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._public import public_dir
from .classes import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    check_weight_shape,
    compute_fans,
)

__all__ = [
    "NAMES",
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "deserialize",
    "get",
    "serialize",
    "weight_variance",
]
__dir__ = public_dir(__name__, __all__)

_BY_NAME: dict[str, type[Initializer]] = {
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
}
#: Every initializer's snake-case name, as ``get`` and the layers accept it.
NAMES: tuple[str, ...] = tuple(_BY_NAME)
_BY_CLASS_NAME: dict[str, type[Initializer]] = {cls.__name__: cls for cls in _BY_NAME.values()}
_BY_CLASS_NAME["OrthogonalInitializer"] = Orthogonal


def _lookup(name: str, argument: str) -> type[Initializer]:
    cls = _BY_NAME.get(name) or _BY_CLASS_NAME.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown {argument}: {name!r}. Expected one of: {', '.join(_BY_NAME)} "
            f"(or a class name: {', '.join(_BY_CLASS_NAME)})"
        )
    return cls


def deserialize(config: dict[str, Any]) -> Initializer:
    """Rebuild an initializer from ``{"class_name": ..., "config": {...}}`` (Keras' format).

    Keras' extra keys (``"module"``, ``"registered_name"``) are ignored.
    """
    if not isinstance(config, dict):
        raise TypeError(f"deserialize expects a dict, received {type(config).__name__}")
    class_name = config.get("class_name")
    if not isinstance(class_name, str):
        raise ValueError(f"an initializer config needs a string 'class_name', received {config!r}")
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise TypeError(f"'config' of {class_name} must be a dict, received {inner!r}")
    return _lookup(class_name, "initializer class_name").from_config(inner)


def serialize(initializer: Any) -> dict[str, Any]:
    """Keras' ``{"class_name": ..., "config": {...}}`` for an initializer or its name."""
    init = get(initializer)
    if not isinstance(init, Initializer):
        raise TypeError(f"only Initializer objects can be serialized, received {init!r}")
    return {"class_name": type(init).__name__, "config": init.get_config()}


def get(identifier: Any) -> Initializer | Callable[..., np.ndarray]:
    """Resolve an initializer from a name, an object, a config dict or a callable.

    Args:
        identifier: a name (``"glorot_uniform"`` or ``"GlorotUniform"``), an
            ``Initializer`` (returned as is), an ``Initializer`` subclass
            (instantiated with its defaults), a dict as made by :func:`serialize`,
            or any callable ``f(shape, rng, dtype)`` (returned as is).

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        TypeError: anything else.
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier, "initializer")()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type):
        if issubclass(identifier, Initializer):
            return identifier()
        raise TypeError(f"initializer class must subclass Initializer, received {identifier!r}")
    if callable(identifier):
        return identifier
    raise TypeError(
        "initializer must be a name, an Initializer, a config dict or a callable "
        f"f(shape, rng, dtype), received {identifier!r}"
    )


def weight_variance(initializer: Any, shape: tuple[int, ...]) -> float:
    """Var(W) of one entry of a weight of ``shape`` drawn by ``initializer``, exactly.

    For example glorot_uniform on ``(n, n)`` gives 1/n and he_normal 2/n (the
    truncation is already compensated), orthogonal gives gain^2 / max(rows,
    cols), RandomNormal stddev^2, RandomUniform (maxval - minval)^2 / 12 and the
    constants 0. This is the variance about the mean; mean-field theory's
    ``sigma_w^2 = fan_in * Var(W)`` (see :func:`vgp_native.flow.theory.sigma_w2_for`)
    assumes zero-mean weights.

    Raises:
        TypeError: ``initializer`` is a plain callable with no ``moments(shape)``.
    """
    init = get(initializer)
    moments = getattr(init, "moments", None)
    if moments is None:
        raise TypeError(f"{init!r} has no moments(shape) method, so its weight variance is unknown")
    return float(moments(check_weight_shape(shape))[1])
