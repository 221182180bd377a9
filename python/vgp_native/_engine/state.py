"""``Engine``: the native side of one model, passed explicitly to what runs on it.

A ``Sequential`` is a description (its layers, loss, optimizer, metrics); its
``engine`` holds what the native executor needs and what a ``fit`` in progress
shares with its callbacks: the network and the plan it was built from, the
seeded generators of the batch order and the dropout masks, the resolved
metric, and during ``fit`` the training data and the gradient-flow feed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import losses
from .feed import FlowFeed
from .native import build_network, evaluate, kernel_positions, predict
from .plan import FlowRow, NetworkPlan, all_layers, plan_network

__all__ = ["Engine"]


class Engine:
    """The native network of a model and the state of a ``fit`` in progress.

    Attributes:
        dtype: float32 or float64.
        shuffle_rng, dropout_rng: the model's seeded generators of the batch
            order and of the dropout masks.
        net: the native network (None until the model is compiled and built, and
            again after its layers or compile settings change).
        plan: the ``NetworkPlan`` the last network was built from.
        metric: the resolved metric (e.g. ``"binary_accuracy"``) or None.
        metric_key: the metric's name in the logs (as given to ``compile``).
        stochastic: whether a layer of the network draws dropout masks in
            training (``fit`` then draws a seed per batch).
        loss_codes: ``(loss, metric)`` native codes the network was set with.
        optimizer: the ``Optimizer`` the network was set with; ``fit`` hands a
            learning rate assigned to it later to the native optimizer.
        feed: during ``fit``, when callbacks record gradient-flow statistics,
            the ``FlowFeed`` that hands them over (None otherwise).
        fit_data: during ``fit``, the prepared ``(x, y)`` trained on (None otherwise).
    """

    def __init__(
        self, dtype: np.dtype, shuffle_rng: np.random.Generator, dropout_rng: np.random.Generator
    ) -> None:
        self.dtype = np.dtype(dtype)
        self.shuffle_rng = shuffle_rng
        self.dropout_rng = dropout_rng
        self.net: Any = None
        self.plan: NetworkPlan | None = None
        self.metric: str | None = None
        self.metric_key: str | None = None
        self.stochastic = False
        self.loss_codes: tuple[int, int] = (0, 0)
        self.optimizer: Any = None
        self.feed: FlowFeed | None = None
        self.fit_data: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def rows(self) -> list[FlowRow]:
        """The statistics rows of the last network built (empty before)."""
        return [] if self.plan is None else list(self.plan.rows)

    def attach(
        self,
        layers: list[Any],
        input_dim: int,
        loss: str,
        optimizer: Any,
        metrics: list[str],
    ) -> Any:
        """Build the native network and move the layers' weights into it.

        Each layer then holds views into the network's memory, so reading and
        setting weights costs no copy and reaches the running network.
        """
        if not layers:
            raise ValueError("The model has no layers; add some before training")
        plan = plan_network(layers, input_dim, self.dtype)
        slots = [slot for layer in layers for slot in layer.weight_slots()]
        out_dim = layers[-1].output_dim
        metric = losses.resolve_metric(metrics[0], loss, out_dim) if metrics else None
        codes = (losses.LOSSES[loss], losses.METRICS[metric] if metric else 0)
        net = build_network(
            plan, [owner.own_weights[i] for owner, i in slots], codes, optimizer.native_config()
        )
        for (owner, i), view in zip(slots, net.params(), strict=True):
            owner.rebind_weight(i, view)
        self.net, self.plan = net, plan
        # The native network takes each dropout rate when it is built.
        self.stochastic = any(layer.stochastic for layer in all_layers(layers))
        self.metric, self.metric_key = metric, (metrics[0] if metrics else None)
        self.loss_codes = codes
        self.optimizer = optimizer
        return net

    def detach(self, layers: list[Any]) -> None:
        """Give the layers their own copies of the weights and drop the native network."""
        if self.net is None:
            return
        for layer in layers:
            for owner, i in layer.weight_slots():
                owner.rebind_weight(i, np.array(owner.own_weights[i], copy=True))
        self.net = None

    def kernel_positions(self) -> list[int]:
        """Position of each statistics row's kernel among the model's weights."""
        return kernel_positions(self.net)

    def logs(self, loss_sum: float, metric_sum: float, rows: int) -> dict[str, float]:
        """Keras' logs from native sums: ``{"loss": ...}`` and the metric when compiled with one."""
        rows = max(rows, 1)  # the native passes give Python floats and ints
        if self.metric_key is None:
            return {"loss": loss_sum / rows}
        return {"loss": loss_sum / rows, self.metric_key: metric_sum / rows}

    def log_columns(self, means: np.ndarray) -> dict[str, list[float]]:
        """``logs`` of many epochs at once, key by key, from ``train_epochs``' rows of
        (loss, metric, rows): its loss and metric are already the sums divided by
        ``max(rows, 1)``, the double divisions ``logs`` makes, so the values are
        those ``logs`` gives, bit for bit."""
        loss, metric = means[:, :2].T.tolist()
        if self.metric_key is None:
            return {"loss": loss}
        return {"loss": loss, self.metric_key: metric}

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> dict[str, float]:
        """The logs of ``(x, y)`` in inference mode."""
        return self.logs(*evaluate(self.net, x, y, batch_size))

    def predict(
        self, x: np.ndarray, batch_size: int, layers: list[Any], weights: list[np.ndarray]
    ) -> np.ndarray:
        """Outputs for ``x``; without a network, on a throwaway one of ``layers`` and ``weights``.

        (``predict`` before ``compile``, as Keras allows.)
        """
        net = self.net
        if net is None:
            net = build_network(plan_network(layers, x.shape[1], self.dtype), weights)
        return predict(net, x, batch_size)
