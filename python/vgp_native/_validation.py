"""Argument checking shared by the public API.

Numeric arrays of another dtype or layout (ints, float16, bools, non-contiguous
views, nested lists) are converted once; non-numeric ones (strings, objects,
complex numbers) are a ``TypeError``; wrong ranks and shapes are a ``ValueError``
that names the argument and what was expected.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import _core

_FLOAT_DTYPES = {np.dtype(np.float32), np.dtype(np.float64)}


def resolve_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """Return float32 or float64 for ``dtype`` (a name, numpy dtype or type)."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name} must be 'float32' or 'float64', received {dtype!r}") from exc
    if dt not in _FLOAT_DTYPES:
        raise ValueError(f"{name} must be 'float32' or 'float64', received {dtype!r}")
    return dt


def numeric_array(value: Any, name: str) -> np.ndarray:
    """``np.asarray(value)`` that rejects non-numeric data with a TypeError naming ``name``."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise TypeError(
                f"{name} must be a numeric array-like, received {type(value).__name__} "
                f"that numpy cannot turn into an array ({exc})"
            ) from exc
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers, received an array of dtype {arr.dtype} "
            f"({_kind_word(kind)})"
        )
    return arr


def _kind_word(kind: str) -> str:
    return {
        "c": "complex numbers",
        "U": "strings",
        "S": "bytes",
        "O": "Python objects",
        "M": "datetimes",
        "m": "timedeltas",
        "V": "structured records",
    }.get(kind, "non-numeric data")


def float_array(
    value: Any,
    name: str,
    dtype: np.dtype,
    ndim: int | tuple[int, ...] | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Convert ``value`` to a C-contiguous array of ``dtype`` and check its rank.

    Args:
        value: any numeric array-like.
        name: argument name used in error messages.
        dtype: float32 or float64.
        ndim: required number of dimensions (or a tuple of allowed ones).
        allow_empty: whether an array with no elements is acceptable.
    """
    arr = numeric_array(value, name)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), received shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, received shape {arr.shape}")
    return convert(arr, name, dtype)


#: What a float32 model can do about values beyond float32's range.
MODEL_HINT = "use Sequential(dtype='float64') for such values"


def convert(
    arr: np.ndarray,
    name: str,
    dtype: np.dtype,
    hint: str = "pass a float64 array to compute in float64",
) -> np.ndarray:
    """C-contiguous ``arr`` as ``dtype``; finite values beyond its range are a ValueError.

    A plain cast would turn them into Inf, which the caller would then blame on
    the data ("contains Inf") although the data holds none. ``hint`` ends the
    message: what the caller can do instead.
    """
    if arr.dtype == dtype and arr.flags.c_contiguous:
        return arr  # nothing to convert (the common case: no floating-point context needed)
    try:
        with np.errstate(over="raise"):
            return np.ascontiguousarray(arr, dtype=dtype)
    except FloatingPointError as exc:
        largest = float(np.max(np.abs(arr[np.isfinite(arr)])))
        raise ValueError(
            f"{name} holds values beyond the {dtype} range (largest magnitude {largest:g}); {hint}"
        ) from exc


def scan_values(arr: np.ndarray) -> tuple[int, float, float]:
    """``(count of NaN and +-Inf, smallest finite value, largest finite value)`` of ``arr``.

    One native pass, without temporaries, for float32 and float64 C-contiguous
    arrays (``_core.scan_values``); numpy otherwise. With no finite value the
    range is ``(inf, -inf)``.
    """
    if arr.dtype in _FLOAT_DTYPES and arr.flags.c_contiguous:
        return _core.scan_values(arr)
    finite = np.isfinite(arr)
    values = arr[finite]
    bad = int(finite.size - np.count_nonzero(finite))
    if values.size == 0:
        return bad, math.inf, -math.inf
    return bad, float(values.min()), float(values.max())


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ValueError when ``arr`` holds NaN or Inf."""
    raise_nonfinite(scan_values(arr)[0], name)


def raise_nonfinite(bad: int, name: str) -> None:
    """The error for ``bad`` NaN or Inf values in ``name``, when there are any."""
    if bad:
        raise ValueError(f"{name} contains {bad} NaN or Inf value(s); clean the data first")


def check_int(value: Any, name: str, minimum: int | None = None, allow_none: bool = False) -> Any:
    """Check that ``value`` is an integer (not a bool), at least ``minimum``."""
    if value is None and allow_none:
        return None
    # type() first: a plain int skips the abstract-base-class check.
    if type(value) is not int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, received {value!r}")
        value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, received {value}")
    return value


def feature_width(shape: Any, name: str, batch: bool = False) -> int:
    """The feature count of a Keras input shape: ``(features,)``, or ``(batch, features)``
    with ``batch=True`` (the batch entry may be None).

    Layers here take flat feature vectors, so a shape of any other rank is a ValueError.
    """
    if not isinstance(shape, (tuple, list)):
        example = "(None, 2)" if batch else "(2,)"
        raise TypeError(f"{name} must be a tuple such as {example}, received {shape!r}")
    rank = 2 if batch else 1
    if len(shape) != rank:
        expected = "(batch, features)" if batch else "(features,)"
        raise ValueError(
            f"{name} must be {expected}: layers here take flat feature vectors; received "
            f"{tuple(shape)!r}"
        )
    if batch and shape[0] is not None:
        check_int(shape[0], f"{name}[0] (the batch size)", minimum=1)
    return check_int(shape[-1], f"{name}[{rank - 1}] (the feature count)", minimum=1)


def check_float(
    value: Any,
    name: str,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
) -> float:
    """Check that ``value`` is a finite real number within the given bounds."""
    if type(value) is not float and (
        isinstance(value, bool) or not isinstance(value, numbers.Real)
    ):
        raise TypeError(f"{name} must be a number, received {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, received {value}")
    if minimum is not None and (value < minimum or (value == minimum and not min_inclusive)):
        op = ">=" if min_inclusive else ">"
        raise ValueError(f"{name} must be {op} {minimum}, received {value}")
    if maximum is not None and (value > maximum or (value == maximum and not max_inclusive)):
        op = "<=" if max_inclusive else "<"
        raise ValueError(f"{name} must be {op} {maximum}, received {value}")
    return value


def check_random_state(seed: Any, name: str = "random_state") -> Any:
    """Turn ``seed`` into a random-number source, as scikit-learn's ``check_random_state``.

    An integer gives a new ``np.random.RandomState(seed)``, so the same integer
    draws the same numbers as scikit-learn does; a ``RandomState`` or a
    ``np.random.Generator`` is returned as is (the caller's stream advances).
    ``None`` gives a fresh ``RandomState`` seeded from the operating system:
    unlike scikit-learn, the global ``np.random`` state is never used or advanced.
    """
    if seed is None:
        return np.random.RandomState()
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{name} must be None, an integer, a np.random.RandomState or a "
            f"np.random.Generator, received {seed!r}"
        )
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"{name} must be an integer in [0, 2**32 - 1], received {seed}")
    return np.random.RandomState(int(seed))


def check_bool(value: Any, name: str) -> bool:
    """Check that ``value`` is a Python or numpy bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, received {value!r}")
    return bool(value)


def check_shape(arr: np.ndarray, name: str, shape: tuple[int, ...], what: str = "") -> None:
    """Raise ValueError unless ``arr.shape == shape``; ``what`` says where the shape comes from."""
    if arr.shape != tuple(shape):
        hint = f" ({what})" if what else ""
        raise ValueError(f"{name} must have shape {tuple(shape)}{hint}, received {arr.shape}")


def common_dtype(*values: Any) -> np.dtype:
    """float64 when any given array is float64, float32 otherwise (lists included)."""
    for v in values:
        if getattr(v, "dtype", None) == np.float64:
            return np.dtype(np.float64)
    return np.dtype(np.float32)


def float_like(
    value: Any, name: str, dtype: np.dtype, ref: np.ndarray, ref_name: str
) -> np.ndarray:
    """Convert ``value`` like :func:`float_array` and require the shape of ``ref``."""
    arr = float_array(value, name, dtype, allow_empty=ref.size == 0)
    check_shape(arr, name, ref.shape, f"the shape of {ref_name}")
    return arr


def float_vector(value: Any, name: str, dtype: np.dtype, n: int, what: str) -> np.ndarray:
    """Convert ``value`` to a 1-D array of length ``n``; ``what`` says where ``n`` comes from."""
    arr = float_array(value, name, dtype, ndim=1)
    check_shape(arr, name, (n,), what)
    return arr


def check_batch_size(batch_size: Any, name: str = "batch_size") -> int:
    """A batch size (default 32 when None), an integer >= 1."""
    return 32 if batch_size is None else check_int(batch_size, name, minimum=1)


def check_verbose(verbose: Any) -> int:
    """Keras' ``verbose``: 0, 1, 2, or "auto" (1)."""
    if verbose == "auto":
        return 1
    v = check_int(verbose, "verbose", minimum=0)
    if v > 2:
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return v
