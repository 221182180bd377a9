"""The probe pass and the model layout behind gradient-flow recording.

A probe is one forward/backward pass at fixed weights that records the same
statistics as a training step without changing anything: ``GradientFlow``
probes the network as initialized (epoch 0 of its history; the initial
weights often decide trainability), ``flow.analyze`` probes a model as it is.
The layout maps the native statistics rows (one per layer that owns a
kernel) to layer names, containers (residual blocks) and initializers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import initializers
from .history import _F, RowInfo


def _containers(layers: list[Any]) -> list[list[Any]]:
    """``layers`` and every residual block's inner layer list, recursively."""
    out = [layers]
    for layer in layers:
        if layer.sublayers():
            out.extend(_containers(layer.sublayers()))
    return out


def model_structure(model: Any) -> dict[str, bool]:
    """Whether the model holds batch normalization, residual or dropout layers."""
    return _structure(model.layers)


def _structure(layers: list[Any]) -> dict[str, bool]:
    from ..layers import BatchNormalization, Dropout, Residual

    kinds = {type(layer) for c in _containers(layers) for layer in c}
    return {
        "batchnorm": BatchNormalization in kinds,
        "residual": Residual in kinds,
        "dropout": Dropout in kinds,
    }


def _normalized_kernels(layers: list[Any]) -> set[int]:
    """ids of Dense layers followed by a BatchNormalization before the next kernel."""
    from ..layers import BatchNormalization

    out: set[int] = set()
    for container in _containers(layers):
        for i, layer in enumerate(container):
            if not layer.has_kernel():
                continue
            for nxt in container[i + 1 :]:
                if nxt.has_kernel() or nxt.sublayers():
                    break
                if isinstance(nxt, BatchNormalization):
                    out.add(id(layer))
    return out


def _serialized(initializer: Any) -> dict[str, Any] | None:
    try:
        return initializers.serialize(initializer)
    except TypeError:
        return None


def row_infos(model: Any) -> list[RowInfo]:
    """``RowInfo`` for each statistics row of a compiled model."""
    return _Layout(model).row_infos()


class _Layout:
    """The model's layers and statistics rows, as a FlowHistory describes them.

    Taken by reference (the layer list, each row and its initializers), which
    costs next to nothing when training begins; the descriptions are derived
    from them when the history is built. A built layer's configuration does
    not change, so they read as they would have at the start.
    """

    def __init__(self, model: Any) -> None:
        self.layers = model.layers
        self.rows = [
            (r, r.layer.kernel_initializer, r.layer.bias_initializer if r.layer.use_bias else None)
            for r in model.flow_rows
        ]

    def name(self, row: int) -> str:
        return self.rows[row][0].name

    def structure(self) -> dict[str, bool]:
        return _structure(self.layers)

    def row_infos(self) -> list[RowInfo]:
        from ..models import _HIST_RANGES

        normalized = _normalized_kernels(self.layers)
        return [
            RowInfo(
                name=r.name,
                activation=r.activation,
                fan_in=r.fan_in,
                fan_out=r.fan_out,
                in_residual=r.in_residual,
                hist_range=_HIST_RANGES.get(r.activation, (-4.0, 4.0)),
                kernel_initializer=_serialized(kernel_init),
                bias_initializer=None if bias_init is None else _serialized(bias_init),
                normalized=id(r.layer) in normalized,
            )
            for r, kernel_init, bias_init in self.rows
        ]


def sample_rows(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``limit`` rows of ``(x, y)``, the same ones every time (sorted, seed 0)."""
    n = x.shape[0]
    if n <= limit:
        return x, y
    idx = np.sort(np.random.default_rng(0).choice(n, limit, replace=False))
    return x[idx], y[idx]


def _kernel_positions(net: Any) -> list[int]:
    """Position of each row's kernel in ``net.params()`` (the model's weight order)."""
    rows = {info[3]: k for k, info in enumerate(net.param_info()) if info[3] >= 0}
    return [rows[r] for r in range(len(rows))]


def first_step_norms(model: Any, grads: list[np.ndarray | None]) -> np.ndarray:
    """``||dW||`` per row of the first step a fresh optimizer would take with ``grads``.

    ``grads`` are the model's gradients in weight order. The model's optimizer
    (its class, learning rate, moments, clipping) is run by the native
    optimizer kernels on a copy of each kernel with zeroed state, so Adam's
    first step ``lr g / (|g| + eps)`` shows how it rescales a vanishing
    gradient into a full-size step, where SGD's ``lr g`` stays as small as ``g``.
    """
    if not model.flow_rows:  # (which attaches the native network if needed)
        return np.zeros(0)
    rows = _kernel_positions(model._net)
    return _first_step_norms(
        model.optimizer, [model.weights[k] for k in rows], [grads[k] for k in rows]
    )


def _first_step_norms(
    opt: Any, kernels: list[np.ndarray], grads: list[np.ndarray | None]
) -> np.ndarray:
    """``first_step_norms`` for optimizer ``opt`` and each row's kernel and gradient."""
    from .. import ops

    cfg = opt.get_config()
    out = np.zeros(len(kernels))
    for r, (kernel, g) in enumerate(zip(kernels, grads, strict=True)):
        if g is None:
            continue
        if opt.clipnorm:
            g = ops.clip_by_norm(g, opt.clipnorm)
        elif opt.clipvalue:
            g = ops.clip_by_value(g, opt.clipvalue)
        lr = cfg["learning_rate"]
        if opt.kind == "sgd":
            sq = ops.sgd_update(kernel, g, None, lr, cfg["momentum"], cfg["nesterov"])[2]
        elif opt.kind == "adam":
            sq = ops.adam_update(
                kernel, g, None, None, 1, lr, cfg["beta_1"], cfg["beta_2"], cfg["epsilon"]
            )[3]
        else:
            sq = ops.rmsprop_update(
                kernel,
                g,
                learning_rate=lr,
                rho=cfg["rho"],
                momentum=cfg["momentum"],
                epsilon=cfg["epsilon"],
                centered=cfg["centered"],
            )[4]
        out[r] = np.sqrt(sq)
    return out


def _probe_pass(
    net: Any, x: np.ndarray, y: np.ndarray, opt: Any, rows: list[int]
) -> tuple[np.ndarray, float]:
    """The probe on native network ``net`` (prepared ``x``, ``y``); see ``probe_record``.

    ``rows`` gives each row's kernel position in ``net.params()``.
    """
    if net.stats()[0].shape[0]:
        raise RuntimeError("statistics were pending when the probe ran")
    net.compute_gradients(x, y, "probe", True)
    rec, losses, _ = net.take_stats()
    record = rec[0]
    params, grads = net.params(), net.grads()
    record[:, _F["update_norm"]] = _first_step_norms(
        opt, [params[k] for k in rows], [grads[k] for k in rows]
    )
    return record, float(losses[0])


def probe_record(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Statistics ``(rows, width)`` and loss of one probe pass at the current weights.

    The whole of ``x`` is one batch; batch norm uses batch statistics without
    updating its moving averages, dropout is off, no weight changes. ``x`` and
    ``y`` are validated and converted as ``fit`` does. The ``update_norm``
    field holds the first step a fresh optimizer would take (``first_step_norms``).
    """
    model._check_compiled("probe_record")
    if model._flow_feed is not None:
        # Inside fit (a callback): hand the network's pending records on first.
        model._flow_feed.drain()
    x = model._prepare_x(x)
    net = model._ensure_native(x.shape[1])
    y = model._prepare_y(y, x.shape[0])
    return _probe_pass(net, x, y, model.optimizer, _kernel_positions(net))


class _InitialState:
    """What the probe at initialization needs, taken when training begins.

    The probe itself (a forward/backward pass over up to ``probe_samples``
    rows) runs only when the history is first needed, on a native network of
    its own built from these: the model's specs, weights (moving statistics
    included), loss and optimizer configuration as they were when ``fit``
    started. It gives the same numbers, bit for bit, as a probe run on the
    model itself at that moment, whatever happened to the model since.
    """

    def __init__(self, model: Any) -> None:
        from .. import losses

        self.n_rows = len(model.flow_rows)  # attaches the native network if needed
        self.specs = model._specs
        self.input_dim = model.input_dim
        self.dtype = model.dtype
        self.weights = model.get_weights()
        self.loss = losses.LOSSES[model.loss]
        self.metric = losses.METRICS[model._metric] if model._metric else 0
        # The optimizer as a class and configuration (a copy of the object is
        # several times dearer), made again for the probe's first-step norms.
        self.optimizer = (type(model.optimizer), model.optimizer.get_config())

    def probe(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
        """``probe_record`` at the initial weights, for the prepared sample ``(x, y)``."""
        from .. import _core

        net_cls = _core.Network64 if self.dtype == np.float64 else _core.Network32
        net = net_cls(self.specs, self.input_dim, self.n_rows)
        for view, w in zip(net.params(), self.weights, strict=True):
            np.copyto(view, w)
        net.set_loss(self.loss, self.metric)
        cls, config = self.optimizer
        return _probe_pass(net, x, y, cls.from_config(config), _kernel_positions(net))
