"""Experiment configurations: checked dicts, and the networks they describe.

A configuration is a plain dict (so it pickles to any worker and prints in a
CSV). Keys left out take the seed experiment's settings (``DEFAULTS``):

=============  =================  ===============================================
key            default            meaning
=============  =================  ===============================================
depth          8                  hidden Dense layers (the seed has 8, plus the
                                  output layer: 9 Dense layers in all)
width          10                 units of every hidden layer
activation     "sigmoid"          hidden activation (any name but softmax)
init           "glorot_uniform"   kernel initializer of every Dense layer, a name
                                  or ``name(arg=value, ...)``, e.g.
                                  ``random_normal(stddev=1)``
norm           "none"             "none" or "batchnorm"
residual       "none"             "none" or "identity"
dropout        0.0                dropout rate after each hidden layer (or block)
optimizer      "adam"             "adam", "sgd" or "rmsprop"
learning_rate  None               None: the optimizer's Keras default (adam 0.001)
batch_size     32                 mini-batch size
dataset        "moons"            "moons", "circles", "spirals" or a CSV path
seed           0                  fixes initialization, shuffling and dropout
=============  =================  ===============================================

The network (``build_model``), for ``depth = D`` and ``width = W``:

- ``norm="none"``: each hidden layer is ``Dense(W, activation)``.
- ``norm="batchnorm"``: each hidden layer is ``Dense(W)``, ``BatchNormalization()``,
  ``Activation(activation)`` (normalize the pre-activations, as Ioffe & Szegedy).
- ``residual="identity"``: hidden layer 1 is a plain hidden layer as above (it
  maps the input's width to ``W``); the other ``D - 1`` hidden Dense layers are
  grouped in pairs into residual blocks with a pure identity skip,
  ``h <- h + Dense(act(Dense(h)))`` (He et al. 2016's basic block, with nothing
  applied after the sum as in their "Identity Mappings" follow-up, so the
  gradient reaches every block unchanged along the skip); with batch
  normalization ``h <- h + BN(Dense(act(BN(Dense(h)))))``. When ``D - 1`` is odd
  the last block holds one Dense layer, ``h <- h + act(Dense(h))`` (``act(BN(..))``).
  So ``depth`` counts the same Dense layers with or without skips.
- ``dropout > 0``: ``Dropout(rate)`` after each plain hidden layer and block.
- the output layer: ``Dense(1, "sigmoid")`` with binary cross-entropy for two
  classes, ``Dense(K, "softmax")`` with sparse categorical cross-entropy for
  ``K > 2``; it uses the same initializer.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

from .. import activations, initializers, optimizers
from ..layers import Activation, BatchNormalization, Dense, Dropout, Layer, Residual
from ..models import Sequential

__all__ = [
    "CONFIG_KEYS",
    "DEFAULTS",
    "build_model",
    "check_config",
    "config_label",
    "make_initializer",
    "resolved_learning_rate",
]

DEFAULTS: dict[str, Any] = {
    "depth": 8,
    "width": 10,
    "activation": "sigmoid",
    "init": "glorot_uniform",
    "norm": "none",
    "residual": "none",
    "dropout": 0.0,
    "optimizer": "adam",
    "learning_rate": None,
    "batch_size": 32,
    "dataset": "moons",
    "seed": 0,
}
#: Configuration keys in their canonical order (the column order of result tables).
CONFIG_KEYS: tuple[str, ...] = tuple(DEFAULTS)

_OPTIMIZERS = {"adam": optimizers.Adam, "sgd": optimizers.SGD, "rmsprop": optimizers.RMSprop}
NORMS = ("none", "batchnorm")
RESIDUALS = ("none", "identity")
OPTIMIZER_DEFAULT_LR = {"adam": 0.001, "sgd": 0.01, "rmsprop": 0.001}
_INIT_NAMES = initializers.NAMES
_INIT_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")


def _int(config: dict[str, Any], key: str, minimum: int) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"config[{key!r}] must be an integer, received {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"config[{key!r}] must be >= {minimum}, received {value}")
    return value


def _choice(config: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = config[key]
    if not isinstance(value, str) or value.lower() not in choices:
        raise ValueError(f"config[{key!r}] must be one of {', '.join(choices)}; received {value!r}")
    return value.lower()


def make_initializer(spec: str) -> Any:
    """The initializer an ``init`` string names.

    ``"he_normal"`` is a plain name; ``"random_normal(stddev=1)"`` passes
    numeric keyword arguments to the initializer's class.

    Raises:
        ValueError: an unknown name, or arguments that are not ``key=number``.
    """
    if not isinstance(spec, str):
        raise TypeError(f"expected an initializer name, received {spec!r}")
    match = _INIT_RE.match(spec)
    if match is None:
        raise ValueError(f"{spec!r} is not an initializer name or name(key=value, ...)")
    name, args = match.group(1), match.group(2)
    if name not in _INIT_NAMES:
        raise ValueError(f"unknown initializer {name!r}; expected one of: {', '.join(_INIT_NAMES)}")
    init = initializers.get(name)
    if not args or not args.strip():
        return init
    kwargs: dict[str, float] = {}
    for part in args.split(","):
        key, eq, value = part.partition("=")
        key = key.strip()
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not eq or not key.isidentifier() or not math.isfinite(number):
            raise ValueError(f"{spec!r}: expected key=number arguments, found {part.strip()!r}")
        kwargs[key] = number
    try:
        return type(init)(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{spec!r}: {exc}") from None


def resolved_learning_rate(optimizer: str, learning_rate: float | None) -> float:
    """The learning rate a run uses: the given one, or the optimizer's Keras default."""
    return OPTIMIZER_DEFAULT_LR[optimizer] if learning_rate is None else float(learning_rate)


def check_config(config: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete, checked copy of ``config``: defaults filled in, values canonical.

    Raises:
        ValueError: an unknown key, or a value out of range (the message names the key).
        TypeError: a value of the wrong type.
    """
    given = dict(config or {})
    given.update(overrides)
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ValueError(
            f"unknown configuration key(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(CONFIG_KEYS)}"
        )
    cfg = {**DEFAULTS, **given}
    cfg["depth"] = _int(cfg, "depth", 1)
    cfg["width"] = _int(cfg, "width", 1)
    cfg["batch_size"] = _int(cfg, "batch_size", 1)
    cfg["seed"] = _int(cfg, "seed", 0)
    act = activations.get(cfg["activation"], "config['activation']")
    if act == "softmax":
        raise ValueError("config['activation'] must be an elementwise activation, not softmax")
    cfg["activation"] = act
    try:
        make_initializer(cfg["init"])
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"config['init']: {exc}") from None
    cfg["init"] = cfg["init"].strip()
    cfg["norm"] = _choice(cfg, "norm", NORMS)
    cfg["residual"] = _choice(cfg, "residual", RESIDUALS)
    cfg["optimizer"] = _choice(cfg, "optimizer", tuple(OPTIMIZER_DEFAULT_LR))
    rate = cfg["dropout"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
        raise ValueError(f"config['dropout'] must be a number in [0, 1), received {rate!r}")
    cfg["dropout"] = float(rate)
    lr = cfg["learning_rate"]
    if lr is not None:
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0.0 < lr < math.inf:
            raise ValueError(f"config['learning_rate'] must be a number > 0, received {lr!r}")
    cfg["learning_rate"] = resolved_learning_rate(cfg["optimizer"], lr)
    if not isinstance(cfg["dataset"], str) or not cfg["dataset"]:
        raise TypeError(
            f"config['dataset'] must be a name or a CSV path, received {cfg['dataset']!r}"
        )
    return cfg


def config_label(config: dict[str, Any]) -> str:
    """A short label such as ``"8 x sigmoid, glorot_uniform, batchnorm"``.

    The width shows (``8 x 32 relu``) when it is not the seed's 10.
    """
    cfg = check_config(config)
    width = "" if cfg["width"] == DEFAULTS["width"] else f"{cfg['width']} "
    parts = [f"{cfg['depth']} x {width}{cfg['activation']}", cfg["init"]]
    if cfg["norm"] != "none":
        parts.append(cfg["norm"])
    if cfg["residual"] != "none":
        parts.append("residual")
    if cfg["dropout"]:
        parts.append(f"dropout {cfg['dropout']:g}")
    return ", ".join(parts)


def _hidden(cfg: dict[str, Any], index: int, first: bool, input_dim: int | None) -> list[Layer]:
    """One hidden layer (Dense, or Dense + BN + activation), named by its position."""
    kwargs: dict[str, Any] = {"kernel_initializer": make_initializer(cfg["init"])}
    if first:
        kwargs["input_dim"] = input_dim
    if cfg["norm"] == "batchnorm":
        return [
            Dense(cfg["width"], name=f"dense_{index}", **kwargs),
            BatchNormalization(name=f"batchnorm_{index}"),
            Activation(cfg["activation"], name=f"activation_{index}"),
        ]
    return [Dense(cfg["width"], activation=cfg["activation"], name=f"dense_{index}", **kwargs)]


def _block(cfg: dict[str, Any], first_index: int, n_dense: int, block: int) -> Residual:
    """A residual block of ``n_dense`` (1 or 2) Dense layers with an identity skip."""
    inner: list[Layer] = []
    for k in range(n_dense):
        index = first_index + k
        inner.append(
            Dense(
                cfg["width"],
                kernel_initializer=make_initializer(cfg["init"]),
                name=f"dense_{index}",
            )
        )
        if cfg["norm"] == "batchnorm":
            inner.append(BatchNormalization(name=f"batchnorm_{index}"))
        if k == 0:
            inner.append(Activation(cfg["activation"], name=f"activation_{index}"))
    return Residual(inner, activation=None, name=f"block_{block}")


def build_model(
    config: dict[str, Any] | None = None,
    input_dim: int = 2,
    n_classes: int = 2,
    dtype: str = "float32",
) -> Sequential:
    """A compiled ``Sequential`` for ``config`` (see the module docstring for the layout).

    Args:
        config: a configuration dict; keys left out take ``DEFAULTS``.
        input_dim: number of input features.
        n_classes: number of classes (2: one sigmoid unit; more: softmax).
        dtype: "float32" or "float64".

    Returns:
        A model compiled with the configured optimizer and learning rate, the
        matching cross-entropy loss and the accuracy metric.
    """
    cfg = check_config(config)
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, received {n_classes!r}")
    model = Sequential(seed=cfg["seed"], dtype=dtype, name="experiment")
    dropout = cfg["dropout"]
    depth = cfg["depth"]
    n_plain = 1 if cfg["residual"] == "identity" else depth
    for i in range(n_plain):
        for layer in _hidden(cfg, i + 1, i == 0, input_dim):
            model.add(layer)
        if dropout:
            model.add(Dropout(dropout, name=f"dropout_{i + 1}"))
    index, block = n_plain + 1, 1
    while index <= depth:
        n_dense = min(2, depth - index + 1)
        model.add(_block(cfg, index, n_dense, block))
        if dropout:
            model.add(Dropout(dropout, name=f"dropout_block_{block}"))
        index += n_dense
        block += 1
    binary = n_classes == 2
    model.add(
        Dense(
            1 if binary else n_classes,
            activation="sigmoid" if binary else "softmax",
            kernel_initializer=make_initializer(cfg["init"]),
            name="output",
        )
    )
    model.compile(
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        optimizer=_OPTIMIZERS[cfg["optimizer"]](learning_rate=cfg["learning_rate"]),
        metrics=["accuracy"],
    )
    return model
