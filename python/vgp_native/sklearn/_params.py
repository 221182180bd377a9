"""Checking the estimators' hyper-parameters, when ``fit`` starts.

scikit-learn's constructors only store their arguments (``clone`` and
``get_params`` rely on it), so every check happens here, at the start of
``fit`` and ``partial_fit``: a value out of range, of the wrong type, or one
this package does not implement (``solver="lbfgs"``, ``loss="poisson"``) is a
``ValueError`` (or a ``TypeError`` for a wrong type) that names the parameter
and what it accepts.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import initializers

#: scikit-learn's activation names and the package's.
ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
SOLVERS = ("adam", "sgd")
SCHEDULES = ("constant", "invscaling", "adaptive")


@dataclass(frozen=True)
class Params:
    """The checked hyper-parameters that shape training."""

    hidden: tuple[int, ...]
    activation: str  # the package's name (sigmoid for logistic)
    batch_size: int | None  # None: "auto"
    n_iter_no_change: float
    kernel_initializer: Any  # None: scikit-learn's own uniform initialization


def _fail(owner: str, name: str, expected: str, value: Any, error: type = ValueError) -> Exception:
    return error(f"The '{name}' parameter of {owner} must be {expected}; received {value!r}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check_real(est: Any, name: str, low: float, high: float, closed: str) -> float:
    """A real in the interval from low to high; ``closed`` says which ends belong to it."""
    owner = type(est).__name__
    value = getattr(est, name)
    left = "[" if closed in ("left", "both") else "("
    right = "]" if closed in ("right", "both") else ")"
    expected = f"a real number in {left}{low}, {high}{right}"
    if not _is_real(value):
        raise _fail(owner, name, expected, value, TypeError)
    inside_low = value >= low if left == "[" else value > low
    inside_high = value <= high if right == "]" else value < high
    if math.isnan(value) or not (inside_low and inside_high):
        raise _fail(owner, name, expected, value)
    return float(value)


def _check_bool(est: Any, name: str) -> bool:
    value = getattr(est, name)
    if not isinstance(value, (bool, np.bool_)):
        raise _fail(type(est).__name__, name, "a bool", value, TypeError)
    return bool(value)


def _check_choice(est: Any, name: str, choices: tuple[str, ...], unsupported: str = "") -> str:
    value = getattr(est, name)
    if value not in choices or not isinstance(value, str):
        expected = "one of " + ", ".join(repr(c) for c in choices)
        if unsupported and isinstance(value, str) and value in unsupported.split():
            expected += f" ({value!r} is scikit-learn's, not implemented by vgp_native)"
        raise _fail(type(est).__name__, name, expected, value)
    return value


def _check_hidden(est: Any) -> tuple[int, ...]:
    owner = type(est).__name__
    value = est.hidden_layer_sizes
    sizes = list(value) if hasattr(value, "__iter__") and not isinstance(value, str) else [value]
    expected = "an int >= 1 or a sequence of them"
    for size in sizes:
        if not _is_int(size):
            raise _fail(owner, "hidden_layer_sizes", expected, value, TypeError)
        if size < 1:
            raise _fail(owner, "hidden_layer_sizes", expected, value)
    return tuple(int(s) for s in sizes)


def _check_int(est: Any, name: str, minimum: int, allow: tuple[Any, ...] = ()) -> Any:
    owner = type(est).__name__
    value = getattr(est, name)
    if any(value is a or (isinstance(value, str) and value == a) for a in allow):
        return value
    extra = "".join(f" or {a!r}" for a in allow)
    if isinstance(value, float) and value == math.inf and math.inf in allow:
        return value
    if not _is_int(value):
        raise _fail(owner, name, f"an int >= {minimum}{extra}", value, TypeError)
    if value < minimum:
        raise _fail(owner, name, f"an int >= {minimum}{extra}", value)
    return int(value)


def _check_initializer(est: Any) -> Any:
    value = est.kernel_initializer
    if value is None:
        return None
    try:
        return initializers.get(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            f"The 'kernel_initializer' parameter of {type(est).__name__} must be None "
            f"(scikit-learn's uniform initialization) or an initializer name or object; {exc}"
        ) from exc


def check_params(est: Any) -> Params:
    """Check every hyper-parameter of ``est``; the ones that shape training come back."""
    hidden = _check_hidden(est)
    activation = _check_choice(est, "activation", tuple(ACTIVATIONS))
    _check_choice(est, "solver", SOLVERS, unsupported="lbfgs")
    _check_choice(est, "learning_rate", SCHEDULES)
    _check_real(est, "alpha", 0.0, math.inf, "left")
    batch_size = _check_int(est, "batch_size", 1, allow=("auto",))
    _check_real(est, "learning_rate_init", 0.0, math.inf, "neither")
    _check_real(est, "power_t", 0.0, math.inf, "left")
    _check_int(est, "max_iter", 1)
    _check_real(est, "tol", 0.0, math.inf, "left")
    _check_real(est, "momentum", 0.0, 1.0, "both")
    _check_real(est, "validation_fraction", 0.0, 1.0, "left")
    _check_real(est, "beta_1", 0.0, 1.0, "left")
    _check_real(est, "beta_2", 0.0, 1.0, "left")
    _check_real(est, "epsilon", 0.0, math.inf, "neither")
    n_iter_no_change = _check_int(est, "n_iter_no_change", 1, allow=(math.inf,))
    _check_int(est, "max_fun", 1)
    for name in (
        "shuffle",
        "warm_start",
        "nesterovs_momentum",
        "early_stopping",
        "batch_normalization",
        "residual",
        "gradient_flow",
    ):
        _check_bool(est, name)
    if not (_is_int(est.verbose) or isinstance(est.verbose, (bool, np.bool_))):
        raise _fail(type(est).__name__, "verbose", "a bool or an int", est.verbose, TypeError)
    return Params(
        hidden=hidden,
        activation=ACTIVATIONS[activation],
        batch_size=None if batch_size == "auto" else batch_size,
        n_iter_no_change=float(n_iter_no_change),
        kernel_initializer=_check_initializer(est),
    )
