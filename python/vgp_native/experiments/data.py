"""The data sets experiments train on, split the same way every time.

Built-in sets have 250 points (the seed's size) and a fixed ``random_state`` of
42, and every set is split 80/20 with ``random_state=42``, as the seed does: a
sweep's seeds vary the networks (initialization, shuffling, dropout), never
the data.

- ``moons``: ``make_moons(250, noise=0.05)``, the seed's data.
- ``circles``: ``make_circles(250, noise=0.05, factor=0.5)``.
- ``spirals``: ``make_spirals(250, noise=0.2)``, two arms winding once.
- any other name is a file read by ``datasets.load_csv``, whatever its suffix
  (``moons.txt`` with comma-separated content is read as CSV): the last column is
  the label, the header optional. The labels must be integer classes or names
  (``cat``, ``dog``), at least two, and are renumbered ``0 .. K-1`` in sorted
  order; ``Dataset.classes`` keeps the original label of each class.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import datasets

__all__ = ["BUILTIN_DATASETS", "Dataset", "load_dataset", "split_arrays"]

BUILTIN_DATASETS = ("moons", "circles", "spirals")
SPLIT_SEED = 42
TEST_SIZE = 0.2


@dataclass(frozen=True)
class Dataset:
    """A split data set.

    Attributes:
        name: "moons", "circles", "spirals" or the CSV path as given.
        x_train, x_test: float64 features.
        y_train, y_test: int64 class labels ``0 .. n_classes - 1``.
        n_classes: number of classes.
        classes: the original label of each class, in class order (for a CSV file
            with labels ``cat`` and ``dog``: ``("cat", "dog")``, so class 0 is cat).
    """

    name: str
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    n_classes: int
    classes: tuple[Any, ...] = ()

    @property
    def renumbered(self) -> bool:
        """Whether the classes' numbers differ from their original labels (names, or
        numbers other than ``0 .. K-1``)."""
        return list(self.classes) != list(range(self.n_classes))

    def class_legend(self) -> str:
        """``"0 = cat, 1 = dog"``: each class number with its original label."""
        return ", ".join(f"{i} = {label}" for i, label in enumerate(self.classes))

    @property
    def n_features(self) -> int:
        """Number of input features (columns of ``x_train``)."""
        return int(self.x_train.shape[1])

    def digest(self) -> str:
        """A short hash of the split arrays: the same data give the same digest."""
        h = hashlib.sha256()
        for arr in (self.x_train, self.x_test, self.y_train, self.y_test):
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:16]


def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "moons":
        return datasets.make_moons(n_samples=250, noise=0.05, random_state=SPLIT_SEED)
    if name == "circles":
        return datasets.make_circles(n_samples=250, noise=0.05, factor=0.5, random_state=SPLIT_SEED)
    if name == "spirals":
        return datasets.make_spirals(n_samples=250, noise=0.2, random_state=SPLIT_SEED)
    if not os.path.exists(name) and not (os.sep in name or os.path.splitext(name)[1]):
        raise ValueError(
            f"dataset must be one of {', '.join(BUILTIN_DATASETS)} or the path of a CSV "
            f"file, received {name!r}"
        )
    x, y = datasets.load_csv(name)
    if y.dtype.kind == "f":
        raise ValueError(
            f"{name}: the label column (the last) holds non-integer values; "
            "expected class labels such as 0 and 1"
        )
    return x, y


def load_dataset(name: str) -> Dataset:
    """Load and split a data set by name or CSV path (see the module docstring).

    Raises:
        FileNotFoundError: a CSV path that does not exist.
        ValueError: an unknown name, or a CSV that cannot serve as a classification
            set (the message names the file, line and problem).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"dataset must be a name or a CSV path, received {name!r}")
    x, y = _raw(name)
    return split_arrays(name, x, y)


def split_arrays(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
) -> Dataset:
    """Renumber the labels ``0 .. K-1`` and split 80/20 with ``random_state=42``.

    With ``validation_data`` there is no split: ``(x, y)`` trains and the
    validation pair tests (its labels must be among ``y``'s classes).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{name}: expected X of shape (n, features) and y of shape (n,), received "
            f"{x.shape} and {y.shape}"
        )
    classes, labels = np.unique(y, return_inverse=True)
    if validation_data is not None:
        if classes.size < 2:
            raise ValueError(f"{name}: y holds a single class; a classifier needs at least 2")
        xv = np.asarray(validation_data[0], dtype=np.float64)
        yv = np.asarray(validation_data[1])
        pos = np.clip(np.searchsorted(classes, yv), 0, classes.size - 1)
        if yv.ndim != 1 or np.any(classes[pos] != yv):
            raise ValueError(f"{name}: validation labels must be classes that occur in y")
        return Dataset(
            name=name,
            x_train=np.ascontiguousarray(x),
            x_test=np.ascontiguousarray(xv),
            y_train=labels.reshape(-1).astype(np.int64),
            y_test=pos.astype(np.int64),
            n_classes=int(classes.size),
            classes=tuple(c.item() for c in classes),
        )
    if classes.size < 2:
        raise ValueError(f"{name}: the labels hold a single class; a classifier needs at least 2")
    n_test = int(np.ceil(TEST_SIZE * x.shape[0]))
    if x.shape[0] - n_test < 1:
        raise ValueError(
            f"{name}: {x.shape[0]} rows are too few to split 80/20 into training and test sets"
        )
    x_train, x_test, y_train, y_test = datasets.train_test_split(
        x, labels.reshape(-1).astype(np.int64), test_size=TEST_SIZE, random_state=SPLIT_SEED
    )
    return Dataset(
        name=name,
        x_train=np.ascontiguousarray(x_train, dtype=np.float64),
        x_test=np.ascontiguousarray(x_test, dtype=np.float64),
        y_train=np.ascontiguousarray(y_train),
        y_test=np.ascontiguousarray(y_test),
        n_classes=int(classes.size),
        classes=tuple(c.item() for c in classes),
    )
