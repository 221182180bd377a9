"""Toy data sets for the vanishing-gradient experiments: moons, circles, spirals.

``make_moons`` and ``make_circles`` follow scikit-learn's algorithms step for
step (the same floating-point operations and the same calls on a
``np.random.RandomState``), so an integer ``random_state`` gives bit-identical
points and labels. scikit-learn is not a dependency: the code below is a
re-implementation, compared with scikit-learn in the test suite. The
``random_state`` conventions are those of :mod:`vgp_native.datasets`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import check_bool, check_float, check_int, check_random_state

__all__ = ["make_circles", "make_moons", "make_spirals"]


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
