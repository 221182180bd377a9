"""Checking and converting the data given to fit / evaluate / predict.

Numeric arrays of any dtype or layout (ints, float16, bools, lists,
non-contiguous views) are converted once to the model's dtype; non-numeric
data is a TypeError; wrong ranks, widths, lengths, NaN/Inf and targets the
loss cannot take are a ValueError naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import (
    MODEL_HINT,
    check_finite,
    convert,
    numeric_array,
    raise_nonfinite,
    scan_values,
)


def prepare_x(
    x: Any, dtype: np.dtype, input_dim: int | None, model_name: str, name: str = "x"
) -> np.ndarray:
    """Inputs as a C-contiguous ``(n, features)`` array of ``dtype``, checked."""
    if x is None:
        raise ValueError(f"{name} is required, received None")
    arr = numeric_array(x, name)
    if arr.ndim == 1 and input_dim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (samples, features), received shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, received shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one feature, received shape {arr.shape}")
    if input_dim is not None and arr.shape[1] != input_dim:
        raise ValueError(
            f"{name} has {arr.shape[1]} features but model '{model_name}' expects {input_dim}"
        )
    arr = convert(arr, name, dtype, MODEL_HINT)
    check_finite(arr, name)
    return arr


def prepare_y(
    y: Any, n: int, dtype: np.dtype, loss: str | None, out_dim: int, name: str = "y"
) -> np.ndarray:
    """Targets as a C-contiguous ``(n, width)`` array of ``dtype``, checked against the loss.

    ``(n,)`` targets are accepted for a one-unit output and for sparse labels, as
    Keras does; sparse labels must be integers in ``[0, out_dim)`` and binary
    cross-entropy targets must lie in ``[0, 1]``.
    """
    if y is None:
        raise ValueError(f"{name} is required, received None")
    arr = numeric_array(y, name)
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0] if arr.ndim else 0} samples but x has {n}")
    sparse = loss == "sparse_categorical_crossentropy"
    if arr.ndim == 1:
        if sparse or out_dim == 1:
            arr = arr.reshape(-1, 1)
        else:
            raise ValueError(
                f"{name} has shape {arr.shape} but the model outputs {out_dim} values per "
                "sample: pass one-hot targets of shape (n, "
                f"{out_dim}) or use loss='sparse_categorical_crossentropy'"
            )
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, received shape {arr.shape}")
    want = 1 if sparse else out_dim
    if arr.shape[1] != want:
        raise ValueError(
            f"{name} has shape {arr.shape}, expected (n, {want}) for loss '{loss}' "
            f"and an output of width {out_dim}"
        )
    arr = convert(arr, name, dtype, MODEL_HINT)
    bad, lo, hi = scan_values(arr)  # one pass: the checks below read its range
    raise_nonfinite(bad, name)
    if sparse:
        labels = arr[:, 0]
        if lo < 0 or hi >= out_dim or np.any(labels != np.round(labels)):
            raise ValueError(
                f"{name} must hold integer class labels in [0, {out_dim}) for "
                f"sparse_categorical_crossentropy, received values in "
                f"[{labels.min()}, {labels.max()}]"
            )
    elif loss == "binary_crossentropy" and (lo < 0 or hi > 1):
        raise ValueError(
            f"{name} must hold targets in [0, 1] for binary_crossentropy, received values "
            f"in [{arr.min()}, {arr.max()}]"
        )
    return arr


def validation_set(
    x_arr: np.ndarray,
    y_arr: np.ndarray,
    validation_data: Any,
    validation_split: float,
    prepare_x: Callable[[Any, str], np.ndarray],
    prepare_y: Callable[[Any, int, str], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The training arrays and the validation pair ``fit`` uses, as Keras splits them.

    ``validation_data`` (``(x_val, y_val)``, converted by ``prepare_x(x, name)``
    and ``prepare_y(y, n, name)``) wins; otherwise the last
    ``floor(n * validation_split)`` rows, taken before shuffling, are held out.
    """
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a tuple (x_val, y_val)")
        xv = prepare_x(validation_data[0], "validation_data[0]")
        return x_arr, y_arr, (xv, prepare_y(validation_data[1], xv.shape[0], "validation_data[1]"))
    if validation_split > 0.0:
        n_val = math.floor(x_arr.shape[0] * validation_split)
        if n_val < 1 or n_val >= x_arr.shape[0]:
            raise ValueError(
                f"validation_split={validation_split} leaves no training or no validation "
                f"samples out of {x_arr.shape[0]}"
            )
        split = x_arr.shape[0] - n_val
        return x_arr[:split], y_arr[:split], (x_arr[split:], y_arr[split:])
    return x_arr, y_arr, None
