"""The layer base class: a description plus its weights (Keras lifecycle).

``__init__`` validates the configuration only; ``build(input_dim, rng, dtype)``
creates the weights from the layer's initializers and the model's seeded
generator; ``get_config()`` returns the configuration. Weights are exchanged as
numpy arrays in Keras order. Once a model is compiled, a layer's weights are
views into the native network's memory, so reading them costs nothing and
``set_weights`` writes straight into the running network.
"""

from __future__ import annotations

import re
import threading
from typing import Any, ClassVar

import numpy as np

from .. import _core, ops
from .._validation import MODEL_HINT, convert, numeric_array

_NAME_COUNTS: dict[str, int] = {}
_NAME_LOCK = threading.Lock()


def _snake_case(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def unique_name(base: str) -> str:
    """Keras-style automatic names: ``dense``, ``dense_1``, ``dense_2``, ..."""
    # Locked: models built in several threads at once must not draw one name twice.
    with _NAME_LOCK:
        count = _NAME_COUNTS.get(base, 0)
        _NAME_COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


class Layer:
    """Base class of every layer.

    Args:
        name: a name for the layer; generated from the class name when omitted.
    """

    #: Keras names of the weights, in order (set by subclasses or ``build``).
    weight_names: ClassVar[tuple[str, ...]] = ()
    #: Kind understood by the native executor (one of ``_core.LAYER_KINDS``).
    native_kind: ClassVar[str] = ""
    #: Whether the layer normalizes its inputs (a kernel followed by one counts
    #: as normalized in the gradient-flow report).
    normalizes: ClassVar[bool] = False

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"name must be a non-empty string, received {name!r}")
        self.name = name if name is not None else unique_name(_snake_case(type(self).__name__))
        self.built = False
        self.input_dim: int | None = None
        self.output_dim: int | None = None
        #: The input width the layer was given (``Dense(input_dim=...)``), for a first layer.
        self.declared_input_dim: int | None = None
        self._weights: list[np.ndarray] = []

    # -- lifecycle --------------------------------------------------------------------------
    def compute_output_dim(self, input_dim: int) -> int:
        """Width of the output for an input of width ``input_dim``."""
        return input_dim

    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        """Create the weights for inputs of width ``input_dim``; return the output width."""
        self.input_dim = int(input_dim)
        self.output_dim = self.compute_output_dim(self.input_dim)
        self._weights = self._create_weights(self.input_dim, rng, np.dtype(dtype))
        self.built = True
        return self.output_dim

    def weight_shapes(self, input_dim: int) -> list[tuple[int, ...]]:
        """Shapes of the weights ``build(input_dim)`` creates, without creating them."""
        return []

    def _create_weights(
        self, input_dim: int, rng: np.random.Generator, dtype: np.dtype
    ) -> list[np.ndarray]:
        return []

    # -- weights ----------------------------------------------------------------------------
    def weight_slots(self) -> list[tuple[Layer, int]]:
        """Where each weight lives, in Keras order: (owning layer, index) pairs.

        A residual block lists its inner layers' weights before its own.
        """
        return [(self, i) for i in range(len(self._weights))]

    @property
    def own_weights(self) -> list[np.ndarray]:
        """The arrays this layer holds itself (not its sublayers'), in order.

        ``weight_slots`` indexes them; the list is a copy, the arrays are not.
        """
        return list(self._weights)

    def rebind_weight(self, index: int, array: np.ndarray) -> None:
        """Hold ``array`` as own weight ``index``, without copying.

        ``compile()`` hands each layer views into the native network's memory
        this way, and copies of them when the network is dropped. The shape and
        dtype must match the current array.
        """
        current = self._weights[index]
        if array.shape != current.shape or array.dtype != current.dtype:
            raise ValueError(
                f"Layer '{self.name}': weight {index} is {current.dtype}{current.shape}, "
                f"received {array.dtype}{array.shape}"
            )
        self._weights[index] = array

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight arrays themselves (views into the native network once compiled)."""
        return [owner.own_weights[i] for owner, i in self.weight_slots()]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights, in Keras order."""
        return [np.array(w, copy=True) for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Overwrite the weights in place; count and shapes are checked first."""
        set_weight_list(self.weights, weights, f"Layer '{self.name}'", self.weight_labels())

    def weight_labels(self) -> list[str]:
        """Keras names of the weights (``kernel``, ``bias``, ...), in order."""
        return [owner.all_weight_names()[i] for owner, i in self.weight_slots()]

    def all_weight_names(self) -> list[str]:
        """Keras names of this layer's own weights, in order (``kernel``, ``bias``, ...)."""
        return list(self.weight_names)

    def count_params(self) -> int:
        """The number of weights, sublayers' included (trainable or not)."""
        return int(sum(w.size for w in self.weights))

    # -- native executor --------------------------------------------------------------------
    def native_spec(self) -> dict[str, Any]:
        """Description of this layer for the native executor."""
        return {"kind": self.native_kind}

    def sublayers(self) -> list[Layer]:
        """Layers nested inside this one (residual blocks)."""
        return []

    def activation_name(self) -> str | None:
        """Name of the activation this layer applies, if any."""
        return None

    def has_kernel(self) -> bool:
        """Whether the layer owns a kernel (a row of the gradient-flow statistics)."""
        return False

    @property
    def stochastic(self) -> bool:
        """Whether training draws a random mask per batch (seeded by the model)."""
        return False

    def jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Output ``(n, out)`` and per-sample Jacobian ``dy/dx`` ``(n, out, in)`` at ``x``.

        Inference mode, float64, from the current weights: what
        ``vgp_native.flow.jacobian`` multiplies into segment spectra. Every
        layer kind defines it.
        """
        raise TypeError(f"no Jacobian for layer {self!r}")

    # -- config -----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The layer's configuration (its ``__init__`` arguments) as a JSON-ready dict."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """A new layer from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


_CLASSES: dict[str, type[Layer]] = {}


def register(cls: type[Layer]) -> type[Layer]:
    """Class decorator: a layer kind that ``deserialize`` rebuilds by its class name."""
    _CLASSES[cls.__name__] = cls
    return cls


def layer_classes() -> dict[str, type[Layer]]:
    """The registered layer classes by name, in the order of the native layer kinds."""
    order = {kind: i for i, kind in enumerate(_core.LAYER_KINDS)}
    ranked = sorted(_CLASSES.items(), key=lambda item: order.get(item[1].native_kind, len(order)))
    return dict(ranked)


def serialize(layer: Layer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` for a layer."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: Any) -> Layer:
    """Rebuild a layer from ``serialize``'s output."""
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ValueError(
            f"layer config must be {{'class_name': ..., 'config': ...}}, received {config!r}"
        )
    known = layer_classes()
    cls = known.get(config["class_name"])
    if cls is None:
        raise ValueError(
            f"Unknown layer class {config['class_name']!r}. Expected one of: {', '.join(known)}"
        )
    if not isinstance(config["config"], dict):
        raise ValueError(f"layer config of {config['class_name']} must be a dict")
    return cls.from_config(config["config"])


def set_weight_list(
    targets: list[np.ndarray], weights: Any, owner: str, labels: list[str] | None = None
) -> None:
    """Copy ``weights`` into ``targets`` after checking count, type and shape.

    Nothing is written unless every array is acceptable.
    """
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"weights must be a list of arrays, received {type(weights).__name__}")
    if len(weights) != len(targets):
        raise ValueError(f"{owner} expects {len(targets)} weight arrays, received {len(weights)}")
    converted = []
    for i, (current, new) in enumerate(zip(targets, weights, strict=True)):
        arr = numeric_array(new, f"weights[{i}]")
        label = f" ({labels[i]})" if labels else ""
        if arr.shape != current.shape:
            raise ValueError(
                f"{owner}: weight {i}{label} has shape {current.shape}, received {arr.shape}"
            )
        # Checked conversion: a finite value beyond the model's dtype would
        # otherwise become Inf without a word.
        converted.append(convert(arr, f"weights[{i}]{label}", current.dtype, MODEL_HINT))
    for current, arr in zip(targets, converted, strict=True):
        np.copyto(current, arr)


def identity_jacobian(x: np.ndarray) -> np.ndarray:
    """``(n, width, width)`` identity matrices (a read-only broadcast view) for inputs ``x``."""
    n, width = x.shape
    return np.broadcast_to(np.eye(width), (n, width, width))


def activation_jacobian(z: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``y = phi(z)`` and its Jacobian: ``(n, k)`` derivatives, or ``(n, k, k)`` for softmax.

    ``phi'`` comes from the native activation kernels; softmax's Jacobian is
    ``diag(s) - s s^T`` per row.
    """
    y = ops.activation_forward(z, name)
    if name == "softmax":
        return y, y[:, :, None] * (np.eye(z.shape[1])[None] - y[:, None, :])
    return y, ops.activation_backward(z, y, np.ones_like(z), name)


def chain(left: np.ndarray, jac: np.ndarray) -> np.ndarray:
    """``left @ jac`` per sample, for diagonal ``left`` (n, k) or full (n, k, k)."""
    if left.ndim == 2:
        return left[:, :, None] * jac
    return left @ jac
