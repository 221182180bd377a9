"""``train_test_split``: the same split as scikit-learn's for the same ``random_state``.

Stratified or not, an integer ``random_state`` (or a ``np.random.RandomState``)
draws the split scikit-learn draws; scikit-learn is not a dependency (the code
is a re-implementation, compared with scikit-learn in the test suite).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_bool, check_random_state

__all__ = ["train_test_split"]


def _check_size(value: Any, name: str) -> None:
    """The type and range checks scikit-learn's parameter validation makes."""
    if value is None:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a float in (0, 1), an integer >= 1 or None, received {value!r}"
        )
    if isinstance(value, numbers.Integral):
        if value < 1:
            raise ValueError(f"{name} must be an integer >= 1 when an integer, received {value}")
    elif not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be a float in the (0, 1) range, received {value}")


def _split_sizes(n_samples: int, test_size: Any, train_size: Any) -> tuple[int, int]:
    """scikit-learn's ``_validate_shuffle_split`` with train_test_split's default (0.25)."""
    _check_size(test_size, "test_size")
    _check_size(train_size, "train_size")
    if test_size is None and train_size is None:
        test_size = 0.25
    test_int = isinstance(test_size, numbers.Integral)
    train_int = isinstance(train_size, numbers.Integral)
    for value, is_int, name in (
        (test_size, test_int, "test_size"),
        (train_size, train_int, "train_size"),
    ):
        if is_int and value >= n_samples:
            raise ValueError(
                f"{name}={value} should be either positive and smaller than the number of "
                f"samples {n_samples} or a float in the (0, 1) range"
            )
    if test_size is not None and train_size is not None and not (test_int or train_int):
        if train_size + test_size > 1:
            raise ValueError(
                f"The sum of test_size and train_size = {train_size + test_size}, should be "
                "in the (0, 1) range. Reduce test_size and/or train_size."
            )
    n_test = (
        None
        if test_size is None
        else (int(test_size) if test_int else math.ceil(test_size * n_samples))
    )
    n_train = (
        None
        if train_size is None
        else (int(train_size) if train_int else math.floor(train_size * n_samples))
    )
    if n_train is None:
        n_train = n_samples - n_test
    elif n_test is None:
        n_test = n_samples - n_train
    if n_train + n_test > n_samples:
        raise ValueError(
            f"The sum of train_size and test_size = {n_train + n_test}, should be smaller "
            f"than the number of samples {n_samples}. Reduce test_size and/or train_size."
        )
    if n_train == 0:
        raise ValueError(
            f"With n_samples={n_samples}, test_size={test_size} and train_size={train_size}, "
            "the resulting train set will be empty. Adjust any of the aforementioned parameters."
        )
    return n_train, n_test


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: Any) -> np.ndarray:
    """scikit-learn's approximate mode of the multivariate hypergeometric distribution.

    Floors each class's share ``count / total * n_draws``, then hands the points
    left over to the classes with the largest remainders, ties broken at random.
    """
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def _stratified_indices(
    labels: np.ndarray, n_train: int, n_test: int, rng: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The first split of scikit-learn's ``StratifiedShuffleSplit``."""
    if labels.ndim == 2:
        # Multi-label rows become one string each, as scikit-learn does.
        labels = np.array([" ".join(row.astype("str")) for row in labels])
    classes, y_indices, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
    n_classes = classes.shape[0]
    if np.min(class_counts) < 2:
        raise ValueError(
            "stratify: the least populated classes have only 1 member, which is too few "
            f"(at least 2 each); classes with too few members: {classes[class_counts < 2].tolist()}"
        )
    if n_train < n_classes:
        raise ValueError(
            f"The train_size = {n_train} should be greater or equal to the number of "
            f"classes = {n_classes} in stratify"
        )
    if n_test < n_classes:
        raise ValueError(
            f"The test_size = {n_test} should be greater or equal to the number of "
            f"classes = {n_classes} in stratify"
        )
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for i in range(n_classes):
        shuffled = class_indices[i].take(rng.permutation(class_counts[i]), mode="clip")
        train.extend(shuffled[: n_i[i]])
        test.extend(shuffled[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def _as_rows(value: Any, name: str) -> np.ndarray:
    if value is None:
        raise TypeError(f"{name} must be an array-like, received None")
    try:
        arr = np.asarray(value)
    except ValueError as exc:
        raise ValueError(f"{name} could not be turned into an array: {exc}") from exc
    if arr.ndim == 0:
        raise TypeError(f"{name} must be an array-like with a first dimension, received {value!r}")
    return arr


def train_test_split(
    *arrays: Sequence[Any] | np.ndarray,
    test_size: float | int | None = None,
    train_size: float | int | None = None,
    random_state: Any = None,
    shuffle: bool = True,
    stratify: Sequence[Any] | np.ndarray | None = None,
) -> list[np.ndarray]:
    """Split arrays into random train and test subsets (scikit-learn semantics).

    Sizes: a float is a fraction of the samples (test rounded up, train rounded
    down), an integer a count; with neither, ``test_size=0.25``; with one, the
    other is the complement. Without ``stratify`` the rows are a permutation of
    ``random_state``: the test set is its first ``n_test`` entries, the train set
    the next ``n_train`` (scikit-learn's ``ShuffleSplit``). With ``stratify``
    (class labels, or multi-label rows) each class keeps its proportion in both
    subsets, by the algorithm of scikit-learn's ``StratifiedShuffleSplit``:
    per-class counts from the approximate mode of the multivariate
    hypergeometric distribution, then a permutation within each class. For the
    same integer ``random_state`` both cases give scikit-learn's split exactly.

    Args:
        *arrays: arrays, lists or other sequences with the same first dimension.
        test_size: fraction in (0, 1) or count >= 1 of the test samples.
        train_size: fraction in (0, 1) or count >= 1 of the train samples.
        random_state: seed or random-number source (see the module docstring).
        shuffle: whether to shuffle before splitting; without shuffling the train
            set is the first ``n_train`` rows and the test set the next ``n_test``.
        stratify: class labels to stratify by (requires ``shuffle=True``).

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]`` as numpy arrays.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    rows = [_as_rows(a, f"arrays[{i}]") for i, a in enumerate(arrays)]
    lengths = [a.shape[0] for a in rows]
    if len(set(lengths)) > 1:
        raise ValueError(f"arrays have inconsistent numbers of samples: {lengths}")
    n_samples = lengths[0]
    n_train, n_test = _split_sizes(n_samples, test_size, train_size)
    shuffle = check_bool(shuffle, "shuffle")
    if not shuffle:
        if stratify is not None:
            raise ValueError(
                "stratify requires shuffle=True (no stratified split without shuffling)"
            )
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    else:
        rng = check_random_state(random_state)
        if stratify is None:
            permutation = rng.permutation(n_samples)
            train, test = permutation[n_test : n_test + n_train], permutation[:n_test]
        else:
            labels = _as_rows(stratify, "stratify")
            if labels.ndim > 2 or labels.shape[0] != n_samples:
                raise ValueError(
                    f"stratify must have shape ({n_samples},) or ({n_samples}, n_outputs), "
                    f"received {labels.shape}"
                )
            train, test = _stratified_indices(labels, n_train, n_test, rng)
    out: list[np.ndarray] = []
    for arr in rows:
        out.extend((arr[train], arr[test]))
    return out
