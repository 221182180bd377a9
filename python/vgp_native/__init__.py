"""vgp_native: see, measure and fix the vanishing gradient problem.

Build a deep multilayer perceptron in a few Keras-style lines, train it on
native C++/OpenMP kernels, and read a per-layer gradient-flow report::

    import vgp_native as vn
    from vgp_native.models import Sequential
    from vgp_native.layers import Dense

    model = Sequential(seed=0)
    model.add(Dense(10, activation="sigmoid", input_dim=2))
    ...
    flow = vn.callbacks.GradientFlow()
    model.fit(X, y, epochs=100, callbacks=[flow], verbose=0)
    print(flow.report())
"""

from __future__ import annotations

from . import (
    activations,
    callbacks,
    datasets,
    experiments,
    flow,
    initializers,
    layers,
    losses,
    models,
    ops,
    optimizers,
    plots,
    regularizers,
)
from ._core import __version__, get_num_threads, openmp_enabled, set_num_threads
from ._public import public_dir

__all__ = [
    "__version__",
    "activations",
    "callbacks",
    "datasets",
    "experiments",
    "flow",
    "get_num_threads",
    "initializers",
    "layers",
    "losses",
    "models",
    "openmp_enabled",
    "ops",
    "optimizers",
    "plots",
    "regularizers",
    "set_num_threads",
]
__dir__ = public_dir(__name__, __all__, submodules=True)
