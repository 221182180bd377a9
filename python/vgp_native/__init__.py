"""vgp_native: see, measure and fix the vanishing gradient problem.

Build a deep multilayer perceptron in a few Keras-style lines, train it on
native C++/OpenMP kernels, and read a per-layer gradient-flow report.
"""

from __future__ import annotations

from ._core import __version__, get_num_threads, openmp_enabled, set_num_threads

__all__ = [
    "__version__",
    "get_num_threads",
    "openmp_enabled",
    "set_num_threads",
]
