"""Optimizers with Keras 3 defaults and update rules (run natively, in place).

=========  =====================================================================
SGD        ``v = momentum v - lr g;  w += v`` (Nesterov: ``w += momentum v - lr g``);
           plain ``w -= lr g`` without momentum (Robbins & Monro 1951).
Adam       ``m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2)``;
           ``w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`` (Kingma & Ba 2015).
RMSprop    ``v = rho v + (1 - rho) g^2;  w -= lr g / sqrt(v + eps)`` (Tieleman & Hinton 2012).
=========  =====================================================================

``optimizer.learning_rate`` may be changed between epochs or batches (from a
callback, as Keras' learning-rate schedules do): ``fit`` hands the new value to
the native optimizer before the next step and keeps its state (momenta,
moments, step count).

Adam divides by the running root-mean-square of each gradient, so it rescales a
1e-6 gradient into a full-size step: in the seed's deep sigmoid network the first
layer keeps moving under Adam even though its gradient has vanished, while plain
SGD leaves it frozen. The gradient-flow report takes the optimizer into account.

All optimizers take ``clipnorm`` (each gradient rescaled to at most this L2 norm)
or ``clipvalue`` (each element clipped to ``[-clipvalue, clipvalue]``); as in
Keras, at most one of them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._validation import check_float


class Optimizer:
    """Base class: hyper-parameters, validation and serialization."""

    kind: ClassVar[str] = ""

    def __init__(
        self,
        learning_rate: float,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        name: str | None = None,
    ) -> None:
        self.learning_rate = learning_rate
        if clipnorm is not None and clipvalue is not None:
            raise ValueError(
                "Only one of clipnorm and clipvalue can be set, received "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}"
            )
        self.clipnorm = (
            None
            if clipnorm is None
            else check_float(clipnorm, "clipnorm", minimum=0.0, min_inclusive=False)
        )
        self.clipvalue = (
            None
            if clipvalue is None
            else check_float(clipvalue, "clipvalue", minimum=0.0, min_inclusive=False)
        )
        self.name = name or self.kind

    @property
    def learning_rate(self) -> float:
        """The step size; a new value takes effect at the next step of ``fit``."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = check_float(value, "learning_rate", minimum=0.0)

    def native_config(self) -> dict[str, Any]:
        """Hyper-parameters for the native executor."""
        cfg = {k: v for k, v in self.get_config().items() if k != "name"}
        cfg["kind"] = self.kind
        cfg["clipnorm"] = self.clipnorm or 0.0
        cfg["clipvalue"] = self.clipvalue or 0.0
        return cfg

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (Keras names) and the optimizer's name."""
        return {
            "name": self.name,
            "learning_rate": self.learning_rate,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """A new optimizer from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Args:
        learning_rate: step size (>= 0), default 0.01.
        momentum: in [0, 1], default 0.
        nesterov: use Nesterov momentum (Sutskever et al. 2013).
        clipnorm, clipvalue: gradient clipping (at most one).
    """

    kind: ClassVar[str] = "sgd"

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, clipnorm, clipvalue, name)
        self.momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be a bool, received {nesterov!r}")
        self.nesterov = nesterov

    def get_config(self) -> dict[str, Any]:
        """The base config plus ``momentum`` and ``nesterov``."""
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization").

    Args:
        learning_rate: step size (>= 0), default 0.001.
        beta_1, beta_2: moment decay rates in [0, 1), defaults 0.9 and 0.999.
        epsilon: > 0, default 1e-7 (Keras' "epsilon hat").
        clipnorm, clipvalue: gradient clipping (at most one).
    """

    kind: ClassVar[str] = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, clipnorm, clipvalue, name)
        self.beta_1 = check_float(beta_1, "beta_1", minimum=0.0, maximum=1.0, max_inclusive=False)
        self.beta_2 = check_float(beta_2, "beta_2", minimum=0.0, maximum=1.0, max_inclusive=False)
        self.epsilon = check_float(epsilon, "epsilon", minimum=0.0, min_inclusive=False)

    def get_config(self) -> dict[str, Any]:
        """The base config plus ``beta_1``, ``beta_2`` and ``epsilon``."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012), Keras 3 form.

    Args:
        learning_rate: step size (>= 0), default 0.001.
        rho: decay of the squared-gradient average, in [0, 1), default 0.9.
        momentum: in [0, 1], default 0.
        epsilon: > 0, default 1e-7 (added inside the square root).
        centered: divide by the gradient's estimated variance instead of its second moment.
        clipnorm, clipvalue: gradient clipping (at most one).
    """

    kind: ClassVar[str] = "rmsprop"

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(learning_rate, clipnorm, clipvalue, name)
        self.rho = check_float(rho, "rho", minimum=0.0, maximum=1.0, max_inclusive=False)
        self.momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0)
        self.epsilon = check_float(epsilon, "epsilon", minimum=0.0, min_inclusive=False)
        if not isinstance(centered, bool):
            raise TypeError(f"centered must be a bool, received {centered!r}")
        self.centered = centered

    def get_config(self) -> dict[str, Any]:
        """The base config plus ``rho``, ``momentum``, ``epsilon`` and ``centered``."""
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


_CLASSES: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}
_CLASS_NAMES = {cls.__name__: cls for cls in _CLASSES.values()}


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``), an instance, or a serialized dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.lower()) or _CLASS_NAMES.get(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown optimizer: {identifier!r}. Expected one of: {', '.join(_CLASSES)}"
            )
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(
        f"optimizer must be a name, an Optimizer or a config dict, received {identifier!r}"
    )


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` for an optimizer (what model files store)."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any]) -> Optimizer:
    """Rebuild an optimizer from ``serialize``'s output (a ValueError when malformed)."""
    cls = _CLASS_NAMES.get(config.get("class_name", ""))
    if cls is None or not isinstance(config.get("config"), dict):
        raise ValueError(f"Malformed optimizer config: {config!r}")
    return cls.from_config(config["config"])
