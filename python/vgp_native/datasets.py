"""Toy data sets for the vanishing-gradient experiments, and a train/test split.

``make_moons`` and ``make_circles`` follow scikit-learn's algorithms step for
step (the same floating-point operations and the same calls on a
``np.random.RandomState``), so an integer ``random_state`` gives bit-identical
points and labels. ``train_test_split`` draws the same split as scikit-learn's
for the same integer ``random_state``, stratified or not. scikit-learn is not a
dependency: the code below is a re-implementation, compared with scikit-learn in
the test suite.

``random_state`` may be an integer (a new ``RandomState(seed)``), a
``np.random.RandomState`` or a ``np.random.Generator`` (used as given, and
advanced), or ``None`` (a fresh, OS-seeded ``RandomState``; unlike scikit-learn
the global ``np.random`` state is never touched). Only integers and
``RandomState`` objects reproduce scikit-learn's numbers.

``load_csv`` lives in :mod:`vgp_native._csv` and is re-exported here.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._csv import load_csv
from ._validation import check_bool, check_float, check_int, check_random_state

__all__ = ["load_csv", "make_circles", "make_moons", "make_spirals", "train_test_split"]


def _two_sizes(n_samples: Any) -> tuple[int, int]:
    """Split ``n_samples`` (int or a two-element tuple) into the two class sizes.

    An integer ``n`` gives ``(n // 2, n - n // 2)``: the second class gets the odd point.
    """
    if isinstance(n_samples, (tuple, list)):
        if len(n_samples) != 2:
            raise ValueError(
                "n_samples must be an integer or a two-element tuple, received "
                f"{n_samples!r} with {len(n_samples)} element(s)"
            )
        first = check_int(n_samples[0], "n_samples[0]", minimum=0)
        second = check_int(n_samples[1], "n_samples[1]", minimum=0)
        if first + second < 1:
            raise ValueError(f"n_samples must add up to at least 1, received {n_samples!r}")
        return first, second
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(
            f"n_samples must be an integer or a two-element tuple, received {n_samples!r}"
        )
    total = check_int(n_samples, "n_samples", minimum=1)
    return total // 2, total - total // 2


def _check_noise(noise: Any, allow_none: bool) -> float | None:
    if noise is None and allow_none:
        return None
    return check_float(noise, "noise", minimum=0.0)


def _setup(
    n_samples: Any, shuffle: Any, noise: Any, random_state: Any
) -> tuple[int, int, bool, float | None, Any]:
    """Checked arguments of make_moons/make_circles: both class sizes, shuffle, noise, rng."""
    n_out, n_in = _two_sizes(n_samples)
    shuffle = check_bool(shuffle, "shuffle")
    noise = _check_noise(noise, allow_none=True)
    return n_out, n_in, shuffle, noise, check_random_state(random_state)


def _shuffle_then_noise(
    X: np.ndarray, y: np.ndarray, shuffle: bool, noise: float | None, generator: Any
) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's tail of make_moons/make_circles: permute the rows, then add noise."""
    if shuffle:
        # sklearn.utils.shuffle: an arange permuted in place by the generator.
        indices = np.arange(X.shape[0])
        generator.shuffle(indices)
        X, y = X[indices], y[indices]
    if noise is not None:
        X += generator.normal(scale=noise, size=X.shape)
    return X, y


def _stack(
    outer_x: np.ndarray, outer_y: np.ndarray, inner_x: np.ndarray, inner_y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(outer_x.size, dtype=np.int64), np.ones(inner_x.size, dtype=np.int64)])
    return X, y


def make_moons(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    Class 0 is the upper half circle ``(cos t, sin t)``, class 1 the lower one
    ``(1 - cos t, 0.5 - sin t)``, ``t`` evenly spaced in ``[0, pi]``; Gaussian
    noise of standard deviation ``noise`` is added to every coordinate.

    Args:
        n_samples: total number of points (the second moon gets the odd one), or a
            tuple ``(n_upper, n_lower)``.
        shuffle: whether to shuffle the rows.
        noise: standard deviation of the Gaussian noise, or None for none.
        random_state: seed or random-number source (see the module docstring).

    Returns:
        ``(X, y)``: float64 points of shape ``(n_samples, 2)`` and int64 labels (0 for
        the upper moon, 1 for the lower), bit-identical to scikit-learn's for the same
        integer ``random_state``.
    """
    n_out, n_in, shuffle, noise, generator = _setup(n_samples, shuffle, noise, random_state)
    # The same expressions as scikit-learn, so the points agree to the last bit.
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X, y = _stack(outer_x, outer_y, inner_x, inner_y)
    return _shuffle_then_noise(X, y, shuffle, noise, generator)


def make_circles(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: Any = None,
    factor: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """A large circle containing a smaller one (scikit-learn's ``make_circles``).

    Class 0 lies on the unit circle, class 1 on the circle of radius ``factor``,
    at angles evenly spaced in ``[0, 2 pi)``; Gaussian noise of standard
    deviation ``noise`` is added to every coordinate.

    Args:
        n_samples: total number of points (the inner circle gets the odd one), or a
            tuple ``(n_outer, n_inner)``.
        shuffle: whether to shuffle the rows.
        noise: standard deviation of the Gaussian noise, or None for none.
        random_state: seed or random-number source (see the module docstring).
        factor: radius of the inner circle, in ``[0, 1)``.

    Returns:
        ``(X, y)``: float64 points of shape ``(n_samples, 2)`` and int64 labels (0 on
        the outer circle, 1 on the inner), the same bits as scikit-learn's for the
        same integer ``random_state``.
    """
    factor = check_float(factor, "factor", minimum=0.0, maximum=1.0, max_inclusive=False)
    n_out, n_in, shuffle, noise, generator = _setup(n_samples, shuffle, noise, random_state)
    # endpoint=False so that the first point is not repeated as the last one.
    angle_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    angle_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X, y = _stack(
        np.cos(angle_out), np.sin(angle_out), np.cos(angle_in) * factor, np.sin(angle_in) * factor
    )
    return _shuffle_then_noise(X, y, shuffle, noise, generator)


def make_spirals(
    n_samples: int = 100,
    *,
    n_classes: int = 2,
    noise: float = 0.0,
    random_state: Any = None,
    turns: float = 1.0,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved Archimedean spirals, one arm per class (the CS231n generator).

    Class ``k`` of ``K = n_classes`` has ``m_k`` points (``n_samples`` split as
    evenly as possible, the first ``n_samples % K`` classes get one more). Its
    ``i``-th point, ``i = 0 .. m_k - 1``, is ``(r cos theta, r sin theta)`` with::

        r     = (i + 1) / m_k                                  (radius in (0, 1])
        theta = 2 pi turns r + 2 pi k / K + noise * eps,       eps ~ N(0, 1)

    so each arm winds ``turns`` times around the origin and the arms are rotated
    by ``2 pi / K`` from each other. As in the CS231n notes (Karpathy, "CS231n:
    a minimal neural network case study"), the noise perturbs the angle, in
    radians (CS231n uses 0.2); unlike them the radius starts at ``1 / m_k``, not
    0, so the arms never share the point at the origin.

    Args:
        n_samples: total number of points, at least ``n_classes``.
        n_classes: number of arms (classes), at least 2.
        noise: standard deviation of the angular noise in radians (>= 0).
        random_state: seed or random-number source (see the module docstring).
        turns: how many times each arm winds around the origin (>= 0).
        shuffle: whether to shuffle the rows (after the noise is drawn).

    Returns:
        ``(X, y)``: float64 points of shape ``(n_samples, 2)`` and int64 labels
        ``0 .. n_classes - 1``.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples must be >= n_classes={n_classes} (one point per arm at least), "
            f"received n_samples={n_samples}"
        )
    noise = _check_noise(noise, allow_none=False)
    turns = check_float(turns, "turns", minimum=0.0)
    shuffle = check_bool(shuffle, "shuffle")
    generator = check_random_state(random_state)

    counts = np.full(n_classes, n_samples // n_classes, dtype=np.int64)
    counts[: n_samples % n_classes] += 1
    y = np.repeat(np.arange(n_classes, dtype=np.int64), counts)
    # Position of each point along its arm: 1 .. m_k, restarted for every class.
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    radius = (np.arange(n_samples) - starts + 1) / counts[y]
    theta = 2 * np.pi * turns * radius + 2 * np.pi * y / n_classes
    if noise > 0:
        theta = theta + generator.normal(scale=noise, size=n_samples)
    X = np.column_stack([radius * np.cos(theta), radius * np.sin(theta)])
    if shuffle:
        indices = np.arange(n_samples)
        generator.shuffle(indices)
        X, y = X[indices], y[indices]
    return np.ascontiguousarray(X), y


# --------------------------------------------------------------------------- split


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
