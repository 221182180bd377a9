"""The native network: the one place that picks, builds and calls ``_core.Network*``.

``build_network`` is the only constructor: ``compile()`` builds the model's
network with it, ``predict`` before ``compile`` a throwaway one, and the
gradient-flow probe at initialization a twin of the network ``fit`` started
from. The functions below are the native calls the rest of the package makes
on a network: evaluation, prediction, gradients, the probe pass and the
input gradient of the Jacobians.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from .plan import NetworkPlan

__all__ = [
    "build_network",
    "evaluate",
    "gradients",
    "input_gradient",
    "kernel_positions",
    "network_class",
    "predict",
    "probe_pass",
]


def network_class(dtype: Any) -> type:
    """``_core.Network64`` for float64, ``_core.Network32`` otherwise."""
    return _core.Network64 if np.dtype(dtype) == np.float64 else _core.Network32


def build_network(
    plan: NetworkPlan,
    weights: Sequence[np.ndarray] | None = None,
    loss: tuple[int, int] | None = None,
    optimizer: dict[str, Any] | None = None,
) -> Any:
    """A native network for ``plan``.

    Args:
        plan: what to build (specs, statistics rows, input width, dtype).
        weights: copied into the network's parameters, in Keras order, when given.
        loss: ``(loss code, metric code)`` (``_core.LOSS_CODES``, ``METRIC_CODES``; 0 no metric).
        optimizer: the optimizer's native configuration (``Optimizer.native_config()``).
    """
    net = network_class(plan.dtype)(plan.specs, plan.input_dim, len(plan.rows))
    if weights is not None:
        views = net.params()
        if len(views) != len(weights):
            raise RuntimeError("native network and layers disagree on the weights")
        for view, w in zip(views, weights, strict=True):
            np.copyto(view, w)
    if loss is not None:
        net.set_loss(*loss)
    if optimizer is not None:
        net.set_optimizer(optimizer)
    return net


def kernel_positions(net: Any) -> list[int]:
    """Position of each statistics row's kernel in ``net.params()`` (the model's weight order)."""
    rows = {info[3]: k for k, info in enumerate(net.param_info()) if info[3] >= 0}
    return [rows[r] for r in range(len(rows))]


def gradients(
    net: Any, x: np.ndarray, y: np.ndarray, mode: str
) -> tuple[float, list[np.ndarray | None]]:
    """Mean loss over ``(x, y)`` as one batch and copies of every weight's gradient."""
    loss_sum, _, rows = net.compute_gradients(x, y, mode, False)
    grads = [None if g is None else np.array(g, copy=True) for g in net.grads()]
    return float(loss_sum) / rows, grads


def probe_pass(
    net: Any, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, float, list[np.ndarray], list[np.ndarray | None]]:
    """One forward/backward pass recording the gradient-flow statistics, no weight changed.

    The whole of ``x`` (prepared) is one batch; batch normalization uses batch
    statistics without touching its moving averages, dropout is off.

    Returns:
        ``(record, loss, kernels, grads)``: the statistics ``(rows, width)``, the
        loss, and each row's kernel and kernel gradient (views into ``net``).
    """
    if net.stats()[0].shape[0]:
        raise RuntimeError("statistics were pending when the probe ran")
    net.compute_gradients(x, y, "probe", True)
    rec, losses, _ = net.take_stats()
    rows = kernel_positions(net)
    params, grads = net.params(), net.grads()
    return rec[0], float(losses[0]), [params[k] for k in rows], [grads[k] for k in rows]


def input_gradient(net: Any, x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """``dL/dx`` for output gradients ``dy`` at inputs ``x``, in inference mode."""
    return net.input_gradient(x, dy, "infer")


def evaluate(
    net: Any, x: np.ndarray, y: np.ndarray, batch_size: int, mode: str = "infer"
) -> tuple[float, float, int]:
    """``(loss sum, metric sum, rows)`` over ``(x, y)`` in batches of ``batch_size``.

    ``mode``: "infer" (moving batch-norm statistics, as ``evaluate``) or "probe"
    (each batch's own statistics, as training sees them, nothing updated).
    """
    return net.evaluate(x, y, batch_size, mode)


def predict(net: Any, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Outputs for ``x`` in inference mode."""
    return net.predict(x, batch_size, "infer")
