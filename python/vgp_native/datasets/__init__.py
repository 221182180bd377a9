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

The generators live in :mod:`.toy`, the split in :mod:`.split` and ``load_csv``
in :mod:`.csv_file`; all are re-exported here.
"""

from __future__ import annotations

from .._public import public_dir
from .csv_file import load_csv
from .split import train_test_split
from .toy import make_circles, make_moons, make_spirals

__all__ = ["load_csv", "make_circles", "make_moons", "make_spirals", "train_test_split"]
__dir__ = public_dir(__name__, __all__)
