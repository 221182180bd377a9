"""The probe pass: one forward/backward pass at fixed weights, nothing changed.

A probe records the same statistics as a training step without changing
anything: ``GradientFlow`` probes the network as initialized (epoch 0 of its
history; the initial weights often decide trainability), ``flow.analyze``
probes a model as it is. Its ``update_norm`` field holds the first step a
fresh optimizer would take (``first_step``). The layout of the rows is in
``layout``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._engine import (
    build_network,
    check_compiled,
    native_network,
    prepare_inputs,
    prepare_targets,
    probe_pass,
)
from .first_step import optimizer_first_step_norms
from .history import FIELD_INDEX

__all__ = ["InitialState", "probe_record", "sample_rows"]


def sample_rows(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` rows of ``(x, y)``, the same ones every time (sorted, seed 0)."""
    n = x.shape[0]
    if n <= limit:
        return x, y
    idx = np.sort(np.random.default_rng(0).choice(n, limit, replace=False))
    return x[idx], y[idx]


def _probe(net: Any, x: np.ndarray, y: np.ndarray, opt: Any) -> tuple[np.ndarray, float]:
    """The probe on native network ``net`` (prepared ``x``, ``y``); see ``probe_record``."""
    record, loss, kernels, grads = probe_pass(net, x, y)
    record[:, FIELD_INDEX["update_norm"]] = optimizer_first_step_norms(opt, kernels, grads)
    return record, loss


def probe_record(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Statistics ``(rows, width)`` and loss of one probe pass at the current weights.

    The whole of ``x`` is one batch; batch norm uses batch statistics without
    updating its moving averages, dropout is off, no weight changes. ``x`` and
    ``y`` are validated and converted as ``fit`` does. The ``update_norm``
    field holds the first step a fresh optimizer would take (``first_step_norms``).
    """
    check_compiled(model, "probe_record")
    feed = model.engine.feed
    if feed is not None:
        # Inside fit (a callback): hand the network's pending records on first.
        feed.drain()
    x = prepare_inputs(model, x)
    net = native_network(model, x.shape[1])
    y = prepare_targets(model, y, x.shape[0])
    return _probe(net, x, y, model.optimizer)


class InitialState:
    """What the probe at initialization needs, taken when training begins.

    The probe itself (a forward/backward pass over up to ``probe_samples``
    rows) runs only when the history is first needed, on a native network of
    its own built from these: the model's plan, weights (moving statistics
    included), loss and optimizer configuration as they were when ``fit``
    started. It gives the same numbers, bit for bit, as a probe run on the
    model itself at that moment, whatever happened to the model since.
    """

    def __init__(self, model: Any) -> None:
        self.n_rows = len(model.flow_rows)  # attaches the native network if needed
        engine = model.engine
        self.plan = engine.plan
        self.weights = model.get_weights()
        self.loss_codes = engine.loss_codes
        # The optimizer as a class and configuration (a copy of the object is
        # several times dearer), made again for the probe's first-step norms.
        self.optimizer = (type(model.optimizer), model.optimizer.get_config())

    def probe(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
        """``probe_record`` at the initial weights, for the prepared sample ``(x, y)``."""
        net = build_network(self.plan, self.weights, loss=self.loss_codes)
        cls, config = self.optimizer
        return _probe(net, x, y, cls.from_config(config))
