"""Sequential models, trained by the native executor.

``compile()`` turns the layer list into one native network (``cpp/network``)
that owns parameters, gradients, optimizer state and workspace; ``fit`` runs
the epoch loop and the callbacks in Python and hands each whole epoch to a
single native call (shuffled mini-batches, forward, fused loss, backward,
optimizer update and, when a ``GradientFlow`` callback listens, the per-layer
gradient-flow statistics).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core, activations, losses, optimizers
from ._validation import (
    check_finite,
    check_float,
    check_int,
    numeric_array,
    resolve_dtype,
)
from .callbacks import Callback, CallbackList, History, check_callbacks
from .layers import Dense, Dropout, Layer, Residual
from .layers import deserialize as deserialize_layer
from .layers import serialize as serialize_layer
from .layers.base import set_weight_list, unique_name

__all__ = ["Sequential", "load_model"]

_HIST_RANGES = {
    "sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, 4.0),
    "softplus": (0.0, 4.0),
}


@dataclass(frozen=True)
class FlowRow:
    """One row of the gradient-flow statistics: a layer that owns a kernel.

    Attributes:
        name: layer name (``block/dense_3`` inside a residual block).
        layer: the Dense layer.
        activation: activation of the units probed for this row.
        fan_in, fan_out: kernel shape.
        depth: position among the rows (0 = first).
        in_residual: whether the layer sits inside a residual block.
    """

    name: str
    layer: Dense
    activation: str
    fan_in: int
    fan_out: int
    depth: int
    in_residual: bool


def _plan(layers: list[Layer], prefix: str, rows: list[FlowRow], nested: bool) -> list[dict]:
    """Native specs for a container, assigning statistics rows and probe points."""
    specs = [layer.native_spec() for layer in layers]
    for i, layer in enumerate(layers):
        if isinstance(layer, Residual):
            specs[i]["children"] = _plan(layer.layers, f"{prefix}{layer.name}/", rows, True)
        if not layer.has_kernel():
            continue
        row = len(rows)
        specs[i]["kernel_row"] = row
        # The probe is the output of the last kernel-less layer that follows.
        j = i
        act = layer.activation_name() or "linear"
        while j + 1 < len(layers):
            nxt = layers[j + 1]
            if nxt.has_kernel() or isinstance(nxt, Residual):
                break
            j += 1
            if nxt.activation_name() is not None:
                act = nxt.activation_name()
        lo, hi = _HIST_RANGES.get(act, (-4.0, 4.0))
        specs[j].update(
            probe_row=row, probe_act=activations.ACTIVATIONS[act], hist_lo=lo, hist_hi=hi
        )
        rows.append(
            FlowRow(
                name=prefix + layer.name,
                layer=layer,
                activation=act,
                fan_in=int(layer.input_dim),
                fan_out=int(layer.units),
                depth=row,
                in_residual=nested,
            )
        )
    return specs


def _all_layers(layers: list[Layer]) -> list[Layer]:
    out: list[Layer] = []
    for layer in layers:
        out.append(layer)
        out.extend(_all_layers(layer.sublayers()))
    return out


class Sequential:
    """A linear stack of layers, Keras style.

    Args:
        layers: optional initial list of layers.
        seed: fixes weight initialization, shuffling and dropout masks; the same
            seed and data give bit-for-bit the same weights after ``fit``, with any
            number of threads.
        dtype: "float32" (default) or "float64" (used for gradient checks).
        name: model name.

    Example::

        model = Sequential(seed=0)
        model.add(Dense(10, activation="sigmoid", input_dim=2))
        model.add(Dense(1, activation="sigmoid"))
        model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
        history = model.fit(X, y, epochs=100, verbose=0)
    """

    def __init__(
        self,
        layers: list[Layer] | None = None,
        seed: int | None = None,
        dtype: str = "float32",
        name: str | None = None,
    ) -> None:
        if seed is not None:
            seed = check_int(seed, "seed", minimum=0)
        self.seed = seed
        self.dtype = resolve_dtype(dtype)
        self.name = name if name is not None else unique_name("sequential")
        seq = np.random.SeedSequence(seed)
        init_ss, shuffle_ss, dropout_ss = seq.spawn(3)
        self._init_rng = np.random.default_rng(init_ss)
        self._shuffle_rng = np.random.default_rng(shuffle_ss)
        self._dropout_rng = np.random.default_rng(dropout_ss)
        self._layers: list[Layer] = []
        self._input_dim: int | None = None
        self._net: Any = None
        self._flow_rows: list[FlowRow] = []
        self.loss: str | None = None
        self.optimizer: optimizers.Optimizer | None = None
        self.metrics: list[str] = []
        self._metric: str | None = None
        self._metric_key: str | None = None
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None
        self._flow_stats: tuple[np.ndarray, np.ndarray] | None = None
        self._fit_data: tuple[np.ndarray, np.ndarray] | None = None
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise TypeError(
                    f"layers must be a list of layers, received {type(layers).__name__}"
                )
            for layer in layers:
                self.add(layer)

    # -- structure --------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def built(self) -> bool:
        return self._input_dim is not None

    @property
    def input_dim(self) -> int | None:
        return self._input_dim

    @property
    def output_dim(self) -> int | None:
        if not self._layers or self._input_dim is None:
            return None
        return self._layers[-1].output_dim

    def add(self, layer: Layer) -> None:
        """Append a layer; it is built at once when the input width is known."""
        if not isinstance(layer, Layer):
            raise TypeError(f"add() expects a Layer, received {type(layer).__name__}")
        if any(layer is existing for existing in _all_layers(self._layers)):
            raise ValueError(f"Layer '{layer.name}' is already part of this model")
        if layer.built:
            raise ValueError(f"Layer '{layer.name}' is already built (used in another model?)")
        self._detach()
        if not self._layers:
            declared = getattr(layer, "declared_input_dim", None)
            if declared is not None:
                self._input_dim = declared
        self._layers.append(layer)
        if self._input_dim is not None:
            width = self._input_dim if len(self._layers) == 1 else self._layers[-2].output_dim
            layer.build(width, self._init_rng, self.dtype)

    def build(self, input_dim: int | tuple[int | None, int]) -> None:
        """Build the weights for inputs of width ``input_dim`` (or shape ``(None, width)``)."""
        if isinstance(input_dim, tuple):
            if len(input_dim) != 2:
                raise ValueError(f"input shape must be (batch, features), received {input_dim}")
            input_dim = input_dim[1]
        width = check_int(input_dim, "input_dim", minimum=1)
        if self._input_dim is not None:
            if width != self._input_dim:
                raise ValueError(
                    f"Model '{self.name}' expects inputs of width {self._input_dim}, "
                    f"received {width}"
                )
            return
        if not self._layers:
            raise ValueError("Add at least one layer before building the model")
        self._input_dim = width
        for layer in self._layers:
            width = layer.build(width, self._init_rng, self.dtype)

    # -- weights ----------------------------------------------------------------------------
    def _weight_slots(self) -> list[tuple[Layer, int]]:
        slots: list[tuple[Layer, int]] = []
        for layer in self._layers:
            slots.extend(layer.weight_slots())
        return slots

    @property
    def weights(self) -> list[np.ndarray]:
        return [owner._weights[i] for owner, i in self._weight_slots()]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, in Keras order (layer by layer)."""
        return [np.array(w, copy=True) for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Overwrite all weights; count and shapes must match ``get_weights()``."""
        labels = [
            f"{owner.name}.{owner.all_weight_names()[i]}" for owner, i in self._weight_slots()
        ]
        set_weight_list(self.weights, weights, f"Model '{self.name}'", labels)

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    # -- compile ----------------------------------------------------------------------------
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: list[str] | None = None,
    ) -> None:
        """Configure training. Calling it again keeps the weights and resets the optimizer.

        Args:
            optimizer: name ("adam", "sgd", "rmsprop") or an optimizer object.
            loss: "binary_crossentropy", "mse", "categorical_crossentropy" or
                "sparse_categorical_crossentropy".
            metrics: optional list with "accuracy" (or a specific accuracy name).
        """
        if loss is None:
            raise ValueError(
                "compile() needs a loss, e.g. loss='binary_crossentropy'; received None"
            )
        loss_name = losses.get(loss)
        opt = optimizers.get(optimizer)
        if metrics is None:
            metrics = []
        if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
            raise TypeError(f"metrics must be a list of names, received {metrics!r}")
        if len(metrics) > 1:
            raise ValueError(f"At most one metric (an accuracy) is supported, received {metrics}")
        for m in metrics:
            losses.resolve_metric(m, loss_name, 1)
        self.loss = loss_name
        self.optimizer = opt
        self.metrics = list(metrics)
        self.compiled = True
        self._detach()
        if self.built:
            self._attach()

    def _check_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(
                f"You must call compile() before {what}(), e.g. "
                "model.compile(loss='binary_crossentropy', optimizer='adam')"
            )

    def _detach(self) -> None:
        """Give the layers their own copies of the weights and drop the native network."""
        if self._net is None:
            return
        for owner, i in self._weight_slots():
            owner._weights[i] = np.array(owner._weights[i], copy=True)
        self._net = None

    def _attach(self) -> None:
        """Build the native network and move the weights into it."""
        if not self._layers:
            raise ValueError("The model has no layers; add some before training")
        rows: list[FlowRow] = []
        specs = _plan(self._layers, "", rows, False)
        net_cls = _core.Network64 if self.dtype == np.float64 else _core.Network32
        net = net_cls(specs, self._input_dim, len(rows))
        views = net.params()
        slots = self._weight_slots()
        if len(views) != len(slots):
            raise RuntimeError("native network and layers disagree on the weights")
        for (owner, i), view in zip(slots, views, strict=True):
            np.copyto(view, owner._weights[i])
            owner._weights[i] = view
        self._net = net
        self._flow_rows = rows
        out_dim = self._layers[-1].output_dim
        self._metric = (
            losses.resolve_metric(self.metrics[0], self.loss, out_dim) if self.metrics else None
        )
        self._metric_key = self.metrics[0] if self.metrics else None
        net.set_loss(losses.LOSSES[self.loss], losses.METRICS[self._metric] if self._metric else 0)
        net.set_optimizer(self.optimizer.native_config())

    def _ensure_native(self, input_dim: int) -> Any:
        if not self.built:
            self.build(input_dim)
        elif input_dim != self._input_dim:
            raise ValueError(
                f"Model '{self.name}' expects inputs of width {self._input_dim}, "
                f"received {input_dim}"
            )
        if self._net is None:
            self._attach()
        return self._net

    @property
    def flow_rows(self) -> list[FlowRow]:
        """The rows of the gradient-flow statistics (layers that own a kernel)."""
        if self._net is None and self.built and self.compiled:
            self._attach()
        return list(self._flow_rows)

    # -- data -------------------------------------------------------------------------------
    def _prepare_x(self, x: Any, name: str = "x") -> np.ndarray:
        if x is None:
            raise ValueError(f"{name} is required, received None")
        arr = numeric_array(x, name)
        if arr.ndim == 1 and self._input_dim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise ValueError(
                f"{name} must be a 2-D array (samples, features), received shape {arr.shape}"
            )
        if arr.shape[0] == 0:
            raise ValueError(f"{name} must hold at least one sample, received shape {arr.shape}")
        if arr.shape[1] == 0:
            raise ValueError(f"{name} must have at least one feature, received shape {arr.shape}")
        if self._input_dim is not None and arr.shape[1] != self._input_dim:
            raise ValueError(
                f"{name} has {arr.shape[1]} features but model '{self.name}' expects "
                f"{self._input_dim}"
            )
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        check_finite(arr, name)
        return arr

    def _prepare_y(self, y: Any, n: int, name: str = "y") -> np.ndarray:
        if y is None:
            raise ValueError(f"{name} is required, received None")
        arr = numeric_array(y, name)
        out_dim = self._layers[-1].output_dim
        if arr.ndim == 0 or arr.shape[0] != n:
            raise ValueError(f"{name} has {arr.shape[0] if arr.ndim else 0} samples but x has {n}")
        sparse = self.loss == "sparse_categorical_crossentropy"
        if arr.ndim == 1:
            if sparse or out_dim == 1:
                arr = arr.reshape(-1, 1)
            else:
                raise ValueError(
                    f"{name} has shape {arr.shape} but the model outputs {out_dim} values per "
                    "sample: pass one-hot targets of shape (n, "
                    f"{out_dim}) or use loss='sparse_categorical_crossentropy'"
                )
        if arr.ndim != 2:
            raise ValueError(f"{name} must be 1-D or 2-D, received shape {arr.shape}")
        want = 1 if sparse else out_dim
        if arr.shape[1] != want:
            raise ValueError(
                f"{name} has shape {arr.shape}, expected (n, {want}) for loss '{self.loss}' "
                f"and an output of width {out_dim}"
            )
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        check_finite(arr, name)
        if sparse:
            labels = arr[:, 0]
            if (
                np.any(labels != np.round(labels))
                or np.any(labels < 0)
                or np.any(labels >= out_dim)
            ):
                raise ValueError(
                    f"{name} must hold integer class labels in [0, {out_dim}) for "
                    f"sparse_categorical_crossentropy, received values in "
                    f"[{labels.min()}, {labels.max()}]"
                )
        elif self.loss == "binary_crossentropy" and (np.any(arr < 0) or np.any(arr > 1)):
            raise ValueError(
                f"{name} must hold targets in [0, 1] for binary_crossentropy, received values "
                f"in [{arr.min()}, {arr.max()}]"
            )
        return arr

    @staticmethod
    def _batch_size(batch_size: Any, name: str = "batch_size") -> int:
        return 32 if batch_size is None else check_int(batch_size, name, minimum=1)

    @staticmethod
    def _verbose(verbose: Any) -> int:
        if verbose == "auto":
            return 1
        v = check_int(verbose, "verbose", minimum=0)
        if v > 2:
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
        return v

    # -- training ---------------------------------------------------------------------------
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: list[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: tuple[Any, Any] | None = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> History:
        """Train for ``epochs`` epochs; returns a ``History``.

        Args (as Keras):
            x: inputs ``(n, features)``; y: targets ``(n, outputs)`` or ``(n,)``.
            batch_size: samples per gradient step (default 32).
            epochs: index of the last epoch (training runs ``initial_epoch..epochs-1``).
            verbose: 0 silent, 1 a progress line per epoch, 2 one line per epoch.
            callbacks: ``Callback`` objects.
            validation_split: fraction of the data (taken from the end, before
                shuffling) held out for validation.
            validation_data: ``(x_val, y_val)``; overrides validation_split.
            shuffle: reshuffle the training data before every epoch.
            initial_epoch: epoch to start counting from.
            validation_batch_size: batch size for validation (default batch_size).
            validation_freq: validate every this many epochs.
        """
        self._check_compiled("fit")
        epochs = check_int(epochs, "epochs", minimum=0)
        initial_epoch = check_int(initial_epoch, "initial_epoch", minimum=0)
        batch_size = self._batch_size(batch_size)
        verbose = self._verbose(verbose)
        validation_freq = check_int(validation_freq, "validation_freq", minimum=1)
        validation_split = check_float(
            validation_split, "validation_split", minimum=0.0, maximum=1.0, max_inclusive=False
        )
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be a bool, received {shuffle!r}")
        cbs = check_callbacks(callbacks)

        x_arr = self._prepare_x(x)
        net = self._ensure_native(x_arr.shape[1])
        y_arr = self._prepare_y(y, x_arr.shape[0])
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val)")
            xv = self._prepare_x(validation_data[0], "validation_data[0]")
            val = (xv, self._prepare_y(validation_data[1], xv.shape[0], "validation_data[1]"))
        elif validation_split > 0.0:
            n_val = math.floor(x_arr.shape[0] * validation_split)
            if n_val < 1 or n_val >= x_arr.shape[0]:
                raise ValueError(
                    f"validation_split={validation_split} leaves no training or no validation "
                    f"samples out of {x_arr.shape[0]}"
                )
            split = x_arr.shape[0] - n_val
            val = (x_arr[split:], y_arr[split:])
            x_arr, y_arr = x_arr[:split], y_arr[:split]
        val_bs = (
            self._batch_size(validation_batch_size, "validation_batch_size")
            if (validation_batch_size is not None)
            else batch_size
        )

        n = x_arr.shape[0]
        steps = -(-n // batch_size)
        history = History()
        progress = _ProgressLogger(verbose, steps, epochs) if verbose else None
        all_cbs = cbs + [history] + ([progress] if progress else [])
        params = {
            "epochs": epochs,
            "steps": steps,
            "verbose": verbose,
            "batch_size": batch_size,
            "samples": n,
        }
        cblist = CallbackList(all_cbs, self, params)
        record = any(getattr(cb, "records_flow", False) for cb in cbs)
        halt = any(getattr(cb, "halts_on_nonfinite", False) for cb in cbs)
        per_batch = cblist.implements_batch_hooks
        has_dropout = any(
            isinstance(layer, Dropout) and layer.rate > 0 for layer in _all_layers(self._layers)
        )
        self.history = history
        self.stop_training = False
        self._fit_data = (x_arr, y_arr)
        net.clear_stats()
        logs: dict[str, float] = {}
        try:
            cblist.on_train_begin()
            for epoch in range(initial_epoch, epochs):
                cblist.on_epoch_begin(epoch)
                perm = self._shuffle_rng.permutation(n) if shuffle else None
                seeds = (
                    self._dropout_rng.integers(0, 2**63, size=steps, dtype=np.uint64)
                    if has_dropout
                    else None
                )
                if per_batch:
                    loss_sum, metric_sum, rows, halted = self._fit_batches(
                        net, x_arr, y_arr, perm, batch_size, seeds, record, halt, cblist
                    )
                else:
                    loss_sum, metric_sum, rows, halted = net.train_epoch(
                        x_arr, y_arr, perm, batch_size, seeds, record, halt
                    )
                logs = self._logs(loss_sum, metric_sum, rows)
                if halted:
                    logs["loss"] = math.nan
                if record:
                    self._flow_stats = net.stats()
                    net.clear_stats()
                if val is not None and (epoch + 1 - initial_epoch) % validation_freq == 0:
                    vl, vm, vr = net.evaluate(val[0], val[1], val_bs)
                    for key, value in self._logs(vl, vm, vr).items():
                        logs[f"val_{key}"] = value
                cblist.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            cblist.on_train_end(logs)
        finally:
            self._fit_data = None
            self._flow_stats = None
        return history

    def _fit_batches(
        self,
        net: Any,
        x: np.ndarray,
        y: np.ndarray,
        perm: np.ndarray | None,
        batch_size: int,
        seeds: np.ndarray | None,
        record: bool,
        halt: bool,
        cblist: CallbackList,
    ) -> tuple[float, float, int, bool]:
        """The per-batch path: the same native steps as ``train_epoch``, with batch hooks."""
        n = x.shape[0]
        loss_sum = metric_sum = 0.0
        rows = 0
        for b, start in enumerate(range(0, n, batch_size)):
            cblist.on_train_batch_begin(b)
            stop = min(start + batch_size, n)
            seed = int(seeds[b]) if seeds is not None else 0
            if perm is None:
                result = net.train_batch(x[start:stop], y[start:stop], None, seed, record, halt)
            else:
                result = net.train_batch(x, y, perm[start:stop], seed, record, halt)
            loss_sum += result[0]
            metric_sum += result[1]
            rows += result[2]
            cblist.on_train_batch_end(b, self._logs(loss_sum, metric_sum, rows))
            if result[3]:
                return loss_sum, metric_sum, rows, True
            if self.stop_training:
                break
        return loss_sum, metric_sum, rows, False

    def _logs(self, loss_sum: float, metric_sum: float, rows: int) -> dict[str, float]:
        rows = max(int(rows), 1)
        logs = {"loss": float(loss_sum) / rows}
        if self._metric_key is not None:
            logs[self._metric_key] = float(metric_sum) / rows
        return logs

    # -- inference --------------------------------------------------------------------------
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """Loss (and metric) on ``(x, y)`` in inference mode.

        Returns the loss alone without metrics, ``[loss, metric]`` with one, or a
        dict with ``return_dict=True`` (as Keras).
        """
        self._check_compiled("evaluate")
        batch_size = self._batch_size(batch_size)
        verbose = self._verbose(verbose)
        x_arr = self._prepare_x(x)
        net = self._ensure_native(x_arr.shape[1])
        y_arr = self._prepare_y(y, x_arr.shape[0])
        t0 = time.perf_counter()
        loss_sum, metric_sum, rows = net.evaluate(x_arr, y_arr, batch_size)
        logs = self._logs(loss_sum, metric_sum, rows)
        if verbose:
            steps = -(-x_arr.shape[0] // batch_size)
            print(_progress_line(steps, steps, time.perf_counter() - t0, logs, bar=verbose == 1))
        if return_dict:
            return logs
        if self._metric_key is None:
            return logs["loss"]
        return [logs["loss"], logs[self._metric_key]]

    def predict(
        self, x: Any, batch_size: int | None = None, verbose: int | str = "auto"
    ) -> np.ndarray:
        """Outputs for ``x`` in inference mode, shape ``(n, output_width)``."""
        batch_size = self._batch_size(batch_size)
        verbose = self._verbose(verbose)
        if not self._layers:
            raise ValueError("The model has no layers")
        x_arr = self._prepare_x(x)
        if not self.built:
            self.build(x_arr.shape[1])
        net = self._net if self._net is not None else self._inference_net()
        t0 = time.perf_counter()
        out = net.predict(x_arr, batch_size, "infer")
        if verbose:
            steps = -(-x_arr.shape[0] // batch_size)
            print(_progress_line(steps, steps, time.perf_counter() - t0, {}, bar=verbose == 1))
        return out

    def _inference_net(self) -> Any:
        """A native network for an uncompiled model (predict before compile, as Keras allows)."""
        if self.compiled:
            return self._ensure_native(self._input_dim)
        rows: list[FlowRow] = []
        specs = _plan(self._layers, "", rows, False)
        net_cls = _core.Network64 if self.dtype == np.float64 else _core.Network32
        net = net_cls(specs, self._input_dim, len(rows))
        for view, w in zip(net.params(), self.weights, strict=True):
            np.copyto(view, w)
        return net

    # -- gradients (analysis, gradient checks) ------------------------------------------------
    def compute_gradients(
        self, x: Any, y: Any, mode: str = "probe"
    ) -> tuple[float, list[np.ndarray | None]]:
        """Mean loss over ``(x, y)`` as one batch and the gradient of every weight.

        No weight changes. ``mode="probe"`` normalizes batch-norm layers with
        the batch statistics (what training sees) without touching the moving
        averages, and switches dropout off; ``mode="infer"`` uses the moving
        statistics. Gradients of non-trainable weights are None.
        """
        self._check_compiled("compute_gradients")
        if mode not in ("probe", "infer"):
            raise ValueError(f"mode must be 'probe' or 'infer', received {mode!r}")
        x_arr = self._prepare_x(x)
        net = self._ensure_native(x_arr.shape[1])
        y_arr = self._prepare_y(y, x_arr.shape[0])
        loss_sum, _, rows = net.compute_gradients(x_arr, y_arr, mode, False)
        grads = [None if g is None else np.array(g, copy=True) for g in net.grads()]
        return float(loss_sum) / rows, grads

    # -- presentation ---------------------------------------------------------------------------
    def summary(self, print_fn: Any = None) -> None:
        """Print a table of the layers, their output shapes and parameter counts."""
        print_fn = print_fn or print
        rows = []
        for layer in self._layers:
            out = f"(None, {layer.output_dim})" if layer.built else "?"
            params = layer.count_params() if layer.built else 0
            rows.append((f"{layer.name} ({type(layer).__name__})", out, f"{params:,}"))
            for sub in layer.sublayers():
                sub_out = f"(None, {sub.output_dim})" if sub.built else "?"
                rows.append((f"  └ {sub.name} ({type(sub).__name__})", sub_out, ""))
        w0 = max([len("Layer (type)")] + [len(r[0]) for r in rows]) + 2
        w1 = max([len("Output Shape")] + [len(r[1]) for r in rows]) + 2
        w2 = max([len("Param #")] + [len(r[2]) for r in rows]) + 2
        line = "─" * (w0 + w1 + w2 + 4)
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        print_fn(f" {'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>{w2}}")
        print_fn("═" * (w0 + w1 + w2 + 4))
        for r in rows:
            print_fn(f" {r[0]:<{w0}}{r[1]:<{w1}}{r[2]:>{w2}}")
        print_fn(line)
        total = trainable = 0
        for owner, i in self._weight_slots():
            size = owner._weights[i].size
            total += size
            name = owner.all_weight_names()[i]
            if name not in ("moving_mean", "moving_variance"):
                trainable += size
        item = self.dtype.itemsize
        print_fn(f" Total params: {total:,} ({_human_bytes(total * item)})")
        print_fn(f" Trainable params: {trainable:,} ({_human_bytes(trainable * item)})")
        non = total - trainable
        print_fn(f" Non-trainable params: {non:,} ({_human_bytes(non * item)})")

    # -- persistence ----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seed": self.seed,
            "dtype": self.dtype.name,
            "input_dim": self._input_dim,
            "layers": [serialize_layer(layer) for layer in self._layers],
        }

    def compile_config(self) -> dict[str, Any] | None:
        if not self.compiled:
            return None
        return {
            "loss": self.loss,
            "optimizer": optimizers.serialize(self.optimizer),
            "metrics": list(self.metrics),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        model = cls(
            seed=config.get("seed"), dtype=config.get("dtype", "float32"), name=config.get("name")
        )
        for layer_cfg in config.get("layers", []):
            model.add(deserialize_layer(layer_cfg))
        if config.get("input_dim") is not None and not model.built:
            model.build(int(config["input_dim"]))
        return model

    def save(self, path: str) -> None:
        """Write the configuration and weights to one ``.npz`` file, atomically."""
        from .saving import save_model

        save_model(self, path)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self._layers)} dtype={self.dtype.name}>"


def load_model(path: str) -> Sequential:
    """Load a model written by ``Sequential.save`` (never unpickles)."""
    from .saving import load_model as _load

    return _load(path)


def _human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


def _format_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


def _progress_line(step: int, steps: int, elapsed: float, logs: dict[str, float], bar: bool) -> str:
    per_step = elapsed / max(step, 1)
    metrics = "".join(f" - {k}: {v:.4f}" for k, v in sorted(logs.items()))
    if bar:
        width = 20
        filled = round(width * step / max(steps, 1))
        return (
            f"{step}/{steps} {'━' * filled}{' ' * (width - filled)} "
            f"{elapsed:.0f}s {_format_time(per_step)}/step{metrics}"
        )
    return f"{step}/{steps} - {elapsed:.0f}s - {_format_time(per_step)}/step{metrics}"


class _ProgressLogger(Callback):
    """Keras-like per-epoch output for verbose=1 and verbose=2."""

    def __init__(self, verbose: int, steps: int, epochs: int) -> None:
        super().__init__()
        self.verbose = verbose
        self.steps = steps
        self.epochs = epochs
        self._t0 = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        print(f"Epoch {epoch + 1}/{self.epochs}")
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        elapsed = time.perf_counter() - self._t0
        print(_progress_line(self.steps, self.steps, elapsed, logs or {}, self.verbose == 1))
        sys.stdout.flush()
