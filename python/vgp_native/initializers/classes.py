"""Initializer classes (Keras 3 semantics); the public module is :mod:`vgp_native.initializers`.

``moments(shape)`` of every class here returns the exact mean and variance of
one drawn entry, for :func:`vgp_native.initializers.weight_variance`.
"""

from __future__ import annotations

import abc
import math
from typing import Any

import numpy as np

from .._validation import check_float, check_int, resolve_dtype

#: Standard deviation of N(0, 1) truncated to [-2, 2] (Keras' constant, from scipy's truncnorm).
TRUNCATED_STDDEV = 0.87962566103423978
#: Exact variance of N(0, 1) truncated to [-2, 2]: 1 - 2 a phi(a) / (2 Phi(a) - 1) at a = 2.
TRUNCATED_VARIANCE = 1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / math.erf(
    math.sqrt(2.0)
)


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight shape, as Keras' ``compute_fans``."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive_field = math.prod(shape[:-2])
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


def check_weight_shape(shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple of non-negative integers, received {shape!r}")
    return tuple(check_int(dim, f"shape[{i}]", minimum=0) for i, dim in enumerate(shape))


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a np.random.Generator (e.g. np.random.default_rng(seed)), "
            f"received {type(rng).__name__}"
        )
    return rng


def _truncated_normal(
    rng: np.random.Generator, mean: float, stddev: float, size: int
) -> np.ndarray:
    """N(mean, stddev^2) restricted to mean +- 2 stddev, by redrawing (Keras' numpy backend)."""
    low, high = mean - 2.0 * stddev, mean + 2.0 * stddev
    kept = np.empty(0)
    while kept.size < size:
        batch = rng.normal(loc=mean, scale=stddev, size=size)
        kept = np.append(kept, batch[(batch >= low) & (batch <= high)])
    return kept[:size]


class Initializer(abc.ABC):
    """Base class: ``init(shape, rng, dtype)`` returns a new array of that shape.

    Subclasses implement ``__call__``; ``get_config`` returns the constructor's
    arguments, so the default ``from_config`` (``cls(**config)``) rebuilds them.
    They may implement ``moments(shape) -> (mean, variance)`` for
    :func:`weight_variance`.
    """

    @abc.abstractmethod
    def __call__(
        self, shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = "float32"
    ) -> np.ndarray:
        """Return a new array of ``shape`` and ``dtype`` drawn with ``rng``."""

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Rebuild an initializer from ``get_config()``'s dict.

        A Keras ``"seed"`` entry is dropped: the model's ``rng`` decides the draws.
        """
        config = {key: value for key, value in config.items() if key != "seed"}
        try:
            return cls(**config)
        except TypeError as exc:
            raise TypeError(f"{cls.__name__}.from_config: bad config {config!r} ({exc})") from exc

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.get_config().items()))))


class _Elementwise(Initializer):
    """An initializer whose entries are drawn independently by ``_draw(rng, size)``."""

    def __call__(
        self, shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = "float32"
    ) -> np.ndarray:
        shape = check_weight_shape(shape)
        rng = _check_rng(rng)
        dt = resolve_dtype(dtype)
        return self._draw(shape, rng).astype(dt).reshape(shape)

    @abc.abstractmethod
    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Return ``prod(shape)`` float64 values."""


class Constant(_Elementwise):
    """Every entry equals ``value`` (Keras ``Constant``). Var(W) = 0.

    A constant kernel makes every unit of a layer compute the same function, so
    the units never become different: use it for biases, not kernels.
    """

    def __init__(self, value: float = 0.0) -> None:
        self.value = check_float(value, "value")

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.full(math.prod(shape), self.value)

    def moments(self, shape: tuple[int, ...]) -> tuple[float, float]:
        """Mean and variance of one entry."""
        return self.value, 0.0

    def get_config(self) -> dict[str, Any]:
        """``{"value"}``."""
        return {"value": self.value}


class Zeros(Constant):
    """Every entry is 0 (Keras ``Zeros``, the default bias initializer)."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def get_config(self) -> dict[str, Any]:
        """``{}`` (Keras' config of Zeros)."""
        return {}


class Ones(Constant):
    """Every entry is 1 (Keras ``Ones``)."""

    def __init__(self) -> None:
        super().__init__(1.0)

    def get_config(self) -> dict[str, Any]:
        """``{}`` (Keras' config of Ones)."""
        return {}


class RandomNormal(_Elementwise):
    """W ~ N(mean, stddev^2) (Keras ``RandomNormal``). Var(W) = stddev^2."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = check_float(mean, "mean")
        self.stddev = check_float(stddev, "stddev", minimum=0.0, min_inclusive=False)

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(loc=self.mean, scale=self.stddev, size=math.prod(shape))

    def moments(self, shape: tuple[int, ...]) -> tuple[float, float]:
        """Mean and variance of one entry."""
        return self.mean, self.stddev**2

    def get_config(self) -> dict[str, Any]:
        """``{"mean", "stddev"}``."""
        return {"mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    """N(mean, stddev^2) with draws beyond mean +- 2 stddev redrawn (Keras ``TruncatedNormal``).

    The truncation shrinks the variance: Var(W) = stddev^2 * 0.7737 (that is
    ``1 - 2 a phi(a) / (2 Phi(a) - 1)`` at ``a = 2``).
    """

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return _truncated_normal(rng, self.mean, self.stddev, math.prod(shape))

    def moments(self, shape: tuple[int, ...]) -> tuple[float, float]:
        """Mean and variance of one entry."""
        return self.mean, self.stddev**2 * TRUNCATED_VARIANCE


class RandomUniform(_Elementwise):
    """W ~ U[minval, maxval) (Keras ``RandomUniform``).

    Mean (minval + maxval) / 2 and Var(W) = (maxval - minval)^2 / 12 (the variance
    about the mean: a shifted range adds a common offset, not spread).
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05) -> None:
        self.minval = check_float(minval, "minval")
        self.maxval = check_float(maxval, "maxval")
        if self.minval >= self.maxval:
            raise ValueError(
                f"minval must be < maxval, received minval={self.minval}, maxval={self.maxval}"
            )

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.minval, self.maxval, size=math.prod(shape))

    def moments(self, shape: tuple[int, ...]) -> tuple[float, float]:
        """Mean and variance of one entry."""
        return (self.minval + self.maxval) / 2.0, (self.maxval - self.minval) ** 2 / 12.0

    def get_config(self) -> dict[str, Any]:
        """``{"minval", "maxval"}``."""
        return {"minval": self.minval, "maxval": self.maxval}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(_Elementwise):
    """Zero-mean weights with Var(W) = scale / n (Keras ``VarianceScaling``).

    ``n`` is ``max(1, fan_in)``, ``max(1, fan_out)`` or ``max(1, (fan_in + fan_out) / 2)``
    for ``mode`` ``"fan_in"``, ``"fan_out"``, ``"fan_avg"``. The distributions:

    - ``"truncated_normal"`` (also ``"normal"``): N(0, s^2) truncated at +-2 s and
      redrawn, s = sqrt(scale / n) / 0.87962566103423978, so that the truncated
      variance is scale / n;
    - ``"untruncated_normal"``: N(0, scale / n);
    - ``"uniform"``: U[-limit, limit), limit = sqrt(3 scale / n).
    """

    def __init__(
        self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal"
    ) -> None:
        self.scale = check_float(scale, "scale", minimum=0.0, min_inclusive=False)
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, received {mode!r}")
        if not isinstance(distribution, str):
            raise TypeError(f"distribution must be a string, received {distribution!r}")
        dist = "truncated_normal" if distribution.lower() == "normal" else distribution.lower()
        if dist not in _DISTRIBUTIONS:
            raise ValueError(
                f"distribution must be one of {', '.join(_DISTRIBUTIONS)} or 'normal', "
                f"received {distribution!r}"
            )
        self.mode = mode
        self.distribution = dist

    def target_variance(self, shape: tuple[int, ...]) -> float:
        """scale / n for this shape."""
        fan_in, fan_out = compute_fans(check_weight_shape(shape))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        return self.scale / max(1.0, fan[self.mode])

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        variance, size = self.target_variance(shape), math.prod(shape)
        if self.distribution == "truncated_normal":
            return _truncated_normal(rng, 0.0, math.sqrt(variance) / TRUNCATED_STDDEV, size)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), size=size)
        limit = math.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, size=size)

    def moments(self, shape: tuple[int, ...]) -> tuple[float, float]:
        """Mean and variance of one entry (truncation included)."""
        variance = self.target_variance(shape)
        if self.distribution == "truncated_normal":
            variance = variance / TRUNCATED_STDDEV**2 * TRUNCATED_VARIANCE
        return 0.0, variance

    def get_config(self) -> dict[str, Any]:
        """``{"scale", "mode", "distribution"}``."""
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}


class _Preset(VarianceScaling):
    """A VarianceScaling with fixed arguments: its config is empty, as in Keras."""

    def get_config(self) -> dict[str, Any]:
        """``{}``: the arguments are fixed by the class, as in Keras."""
        return {}


class GlorotUniform(_Preset):
    """Glorot (Xavier) uniform: U[-limit, limit), limit = sqrt(6 / (fan_in + fan_out)).

    Var(W) = 2 / (fan_in + fan_out) keeps the forward activations and the backward
    gradients at a constant variance through a linear network (Glorot & Bengio
    2010, "Understanding the difficulty of training deep feedforward neural networks").
    """

    def __init__(self) -> None:
        super().__init__(1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Glorot (Xavier) normal: truncated normal, Var(W) = 2 / (fan_in + fan_out).

    (Glorot & Bengio 2010.)
    """

    def __init__(self) -> None:
        super().__init__(1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """He (Kaiming) uniform: U[-limit, limit), limit = sqrt(6 / fan_in).

    Var(W) = 2 / fan_in makes up for ReLU zeroing half of its inputs (He et al. 2015,
    "Delving deep into rectifiers").
    """

    def __init__(self) -> None:
        super().__init__(2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """He (Kaiming) normal: truncated normal, Var(W) = 2 / fan_in (He et al. 2015)."""

    def __init__(self) -> None:
        super().__init__(2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """LeCun uniform: U[-limit, limit), limit = sqrt(3 / fan_in), Var(W) = 1 / fan_in.

    (LeCun et al. 1998, "Efficient BackProp".)
    """

    def __init__(self) -> None:
        super().__init__(1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """LeCun normal: truncated normal, Var(W) = 1 / fan_in.

    The initialization that makes SELU networks self-normalizing (LeCun et al. 1998;
    Klambauer et al. 2017, "Self-Normalizing Neural Networks").
    """

    def __init__(self) -> None:
        super().__init__(1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """A random orthogonal matrix times ``gain`` (Keras ``OrthogonalInitializer``).

    The shape is flattened to ``(rows, cols) = (prod(shape[:-1]), shape[-1])``; a
    normal matrix of shape ``(max, min)`` is factored as QR, the columns of Q are
    multiplied by sign(diag(R)) (which makes Q Haar-distributed), and Q is
    transposed when ``rows < cols``. So the kernel has orthonormal columns (tall)
    or rows (wide), all singular values equal ``gain``, and a deep linear network
    preserves norms exactly (Saxe et al. 2014, "Exact solutions to the nonlinear
    dynamics of learning in deep linear neural networks"). Each entry has mean 0
    and variance gain^2 / max(rows, cols).
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = check_float(gain, "gain", minimum=0.0, min_inclusive=False)

    @staticmethod
    def _rows_cols(shape: tuple[int, ...]) -> tuple[int, int]:
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank 2 or more, received shape={shape}")
        return math.prod(shape[:-1]), shape[-1]

    def __call__(
        self, shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = "float32"
    ) -> np.ndarray:
        shape = check_weight_shape(shape)
        rows, cols = self._rows_cols(shape)
        rng = _check_rng(rng)
        dt = resolve_dtype(dtype)
        if rows == 0 or cols == 0:
            return np.zeros(shape, dtype=dt)
        q, r = np.linalg.qr(rng.normal(size=(max(rows, cols), min(rows, cols))))
        # sign(0) would zero a column; a zero diagonal has probability 0, map it to +1.
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
        if rows < cols:
            q = q.T
        return (self.gain * q).astype(dt).reshape(shape)

    def moments(self, shape: tuple[int, ...]) -> tuple[float, float]:
        """Mean and variance of one entry: a unit column of length m has E[q^2] = 1/m."""
        rows, cols = self._rows_cols(check_weight_shape(shape))
        return 0.0, self.gain**2 / max(rows, cols, 1)

    def get_config(self) -> dict[str, Any]:
        """``{"gain"}``."""
        return {"gain": self.gain}
