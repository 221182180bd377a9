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
import time
from typing import Any

import numpy as np

from . import _core, losses, optimizers
from ._data import prepare_x, prepare_y
from ._fit import run_fit
from ._planning import HIST_RANGES, FlowRow, all_layers, plan
from ._summary import print_summary
from ._validation import (
    check_float,
    check_int,
    resolve_dtype,
)
from .callbacks.base import Callback, check_callbacks
from .callbacks.builtin import History
from .callbacks.progress import progress_line
from .layers import Layer
from .layers import deserialize as deserialize_layer
from .layers import serialize as serialize_layer
from .layers.base import set_weight_list, unique_name

__all__ = ["Sequential", "load_model"]

# Histogram ranges of the probed activations (also read by flow.recording).
_HIST_RANGES = HIST_RANGES


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
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"name must be a non-empty string, received {name!r}")
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
        # The specs the native network was built from (GradientFlow builds a
        # twin of it for the probe at initialization); never mutated.
        self._specs: list[dict[str, Any]] = []
        self.loss: str | None = None
        self.optimizer: optimizers.Optimizer | None = None
        self.metrics: list[str] = []
        self._metric: str | None = None
        self._metric_key: str | None = None
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None
        self._flow_feed: Any = None  # during fit, when statistics are recorded (_fit.FlowFeed)
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
        if any(layer is existing for existing in all_layers(self._layers)):
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
        specs = plan(self._layers, "", rows, False)
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
        self._specs = specs
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
        return prepare_x(x, self.dtype, self._input_dim, self.name, name)

    def _prepare_y(self, y: Any, n: int, name: str = "y") -> np.ndarray:
        return prepare_y(y, n, self.dtype, self.loss, self._layers[-1].output_dim, name)

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

        return run_fit(
            self,
            net,
            x_arr,
            y_arr,
            val,
            epochs=epochs,
            initial_epoch=initial_epoch,
            batch_size=batch_size,
            val_bs=val_bs,
            verbose=verbose,
            cbs=cbs,
            shuffle=bool(shuffle),
            validation_freq=validation_freq,
        )

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
            print(progress_line(steps, steps, time.perf_counter() - t0, logs, bar=verbose == 1))
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
            print(progress_line(steps, steps, time.perf_counter() - t0, {}, bar=verbose == 1))
        return out

    def _inference_net(self) -> Any:
        """A native network for an uncompiled model (predict before compile, as Keras allows)."""
        if self.compiled:
            return self._ensure_native(self._input_dim)
        rows: list[FlowRow] = []
        specs = plan(self._layers, "", rows, False)
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
        print_summary(self, print_fn)

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
