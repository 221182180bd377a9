"""Experiments: compare configurations side by side, sweep grids of them.

- ``build_model(config, input_dim, n_classes)``: the network a configuration
  describes (keys, defaults and the residual block layout: see
  :mod:`vgp_native.experiments.config`).
- ``compare(configs, X, y, epochs=..., seed=...)``: train several
  configurations on the same data in this process; returns ``Run`` objects
  (result dict, trained model, history, gradient-flow record and report).
- ``sweep(grid, seeds, epochs, executor=None)``: every configuration of a grid
  for every seed, on a local process pool, any ``concurrent.futures.Executor``
  or a ``dask.distributed.Client``; returns one result dict per run in a
  ``SweepResults`` list, which a notebook shows as the summary table
  (see :mod:`vgp_native.experiments.sweep`).

Example::

    from vgp_native.experiments import sweep
    results = sweep({"depth": [2, 8, 16], "activation": ["sigmoid", "relu"],
                     "init": ["glorot_uniform", "he_normal"]}, seeds=3, epochs=50)
"""

from __future__ import annotations

from .._public import public_dir
from .config import CONFIG_KEYS, DEFAULTS, build_model, check_config, config_label
from .data import BUILTIN_DATASETS, Dataset, load_dataset
from .results import SweepResults
from .runner import RESULT_FIELDS, Run, compare, run_config
from .sweep import expand_grid, is_dask_client, sweep

__all__ = [
    "BUILTIN_DATASETS",
    "CONFIG_KEYS",
    "DEFAULTS",
    "RESULT_FIELDS",
    "Dataset",
    "Run",
    "SweepResults",
    "build_model",
    "check_config",
    "compare",
    "config_label",
    "expand_grid",
    "is_dask_client",
    "load_dataset",
    "run_config",
    "sweep",
]
__dir__ = public_dir(__name__, __all__)
