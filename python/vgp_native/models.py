"""Sequential models, trained by the native executor.

``compile()`` turns the layer list into one native network (``cpp/network``)
that owns parameters, gradients, optimizer state and workspace; ``fit`` runs
the epoch loop and the callbacks in Python and hands each whole epoch to a
single native call (shuffled mini-batches, forward, fused loss, backward,
optimizer update and, when a ``GradientFlow`` callback listens, the per-layer
gradient-flow statistics).
"""

from __future__ import annotations

import os
import time
from functools import partial
from typing import Any

import numpy as np

from . import losses, optimizers
from ._engine import (
    Engine,
    FlowRow,
    all_layers,
    check_compiled,
    native_network,
    prepare_inputs,
    prepare_targets,
    run_fit,
)
from ._engine.data import validation_set
from ._engine.fit import FitOptions
from ._engine.native import gradients
from ._public import public_dir
from ._summary import print_summary, summary_html
from ._validation import check_batch_size, check_int, check_verbose, feature_width, resolve_dtype
from .callbacks.base import Callback, check_callbacks
from .callbacks.builtin import History, fit_callbacks
from .callbacks.progress import print_pass
from .layers import InputLayer, Layer
from .layers.base import set_weight_list, unique_name
from .layers.input import first_layer_width
from .saving import Saving
from .saving import load_model as _load_model

__all__ = ["Sequential", "load_model"]
__dir__ = public_dir(__name__, __all__)


class Sequential(Saving):
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
        self._engine = Engine(
            self.dtype, np.random.default_rng(shuffle_ss), np.random.default_rng(dropout_ss)
        )
        self._layers: list[Layer] = []
        self._input_dim: int | None = None
        self._input_layer: InputLayer | None = None
        self.loss: str | None = None
        self.optimizer: optimizers.Optimizer | None = None
        self.metrics: list[str] = []
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None
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
        """The layers, in order (a copy of the list; an ``Input`` is not one of them)."""
        return list(self._layers)

    @property
    def built(self) -> bool:
        """Whether the weights exist: the input width is known and there are layers."""
        return self._input_dim is not None and bool(self._layers)

    @property
    def input_dim(self) -> int | None:
        """The width of the inputs, once known (from ``Input``, ``input_dim`` or data)."""
        return self._input_dim

    @property
    def input_layer(self) -> InputLayer | None:
        """The ``Input`` the model was given first, if any (not one of ``layers``)."""
        return self._input_layer

    @property
    def output_dim(self) -> int | None:
        """The width of the outputs, once the model is built."""
        if not self._layers or self._input_dim is None:
            return None
        return self._layers[-1].output_dim

    def add(self, layer: Layer) -> None:
        """Append a layer; it is built at once when the input width is known.

        An ``Input(shape=(features,))`` may come first, as in Keras: it fixes the
        input width and becomes ``input_layer``, not one of ``layers``.
        """
        if not isinstance(layer, Layer):
            raise TypeError(f"add() expects a Layer, received {type(layer).__name__}")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    f"Input '{layer.name}' must be the first entry of model '{self.name}' "
                    "and its only Input"
                )
            self._input_layer, self._input_dim = layer, layer.width
            return
        if any(layer is existing for existing in all_layers(self._layers)):
            raise ValueError(f"Layer '{layer.name}' is already part of this model")
        if layer.built:
            raise ValueError(f"Layer '{layer.name}' is already built (used in another model?)")
        self._engine.detach(self._layers)
        if not self._layers:
            self._input_dim = first_layer_width(layer, self._input_dim)
        self._layers.append(layer)
        if self._input_dim is not None:
            width = self._input_dim if len(self._layers) == 1 else self._layers[-2].output_dim
            layer.build(width, self._init_rng, self.dtype)

    def build(self, input_dim: int | tuple[int | None, int]) -> None:
        """Build the weights for inputs of width ``input_dim`` (or shape ``(None, width)``)."""
        if isinstance(input_dim, (tuple, list)):
            input_dim = feature_width(input_dim, "input_shape", batch=True)
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

    @property
    def engine(self) -> Engine:
        """The model's native side (``vgp_native._engine.Engine``): its network, the
        plan it was built from, and the state of a ``fit`` in progress; what
        ``vgp_native.flow`` reads to probe the model."""
        return self._engine

    # -- weights ----------------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """The weight arrays themselves, in Keras order (views into the native network)."""
        return [w for layer in self._layers for w in layer.weights]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, in Keras order (layer by layer)."""
        return [np.array(w, copy=True) for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Overwrite all weights; count and shapes must match ``get_weights()``."""
        labels = [
            f"{owner.name}.{owner.all_weight_names()[i]}"
            for layer in self._layers
            for owner, i in layer.weight_slots()
        ]
        set_weight_list(self.weights, weights, f"Model '{self.name}'", labels)

    def count_params(self) -> int:
        """The number of weights (trainable or not), as Keras counts them."""
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
            raise ValueError("compile() needs a loss, e.g. loss='binary_crossentropy'")
        loss_name = losses.get(loss)
        opt = optimizers.get(optimizer)
        self.metrics = losses.check_metrics(metrics, loss_name)
        self.loss = loss_name
        self.optimizer = opt
        self.compiled = True
        self._engine.detach(self._layers)
        if self.built:
            self._attach()

    def _attach(self) -> None:
        """Build the native network and move the weights into it."""
        self._engine.attach(self._layers, self._input_dim, self.loss, self.optimizer, self.metrics)

    @property
    def flow_rows(self) -> list[FlowRow]:
        """The rows of the gradient-flow statistics (layers that own a kernel)."""
        if self._engine.net is None and self.built and self.compiled:
            self._attach()
        return self._engine.rows

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
        check_compiled(self, "fit")
        opts = FitOptions.check(
            epochs, initial_epoch, batch_size, verbose, validation_freq, validation_split, shuffle
        )
        cbs = check_callbacks(callbacks)

        x_arr = prepare_inputs(self, x, "x")
        native_network(self, x_arr.shape[1])
        y_arr = prepare_targets(self, y, x_arr.shape[0], "y")
        x_arr, y_arr, val = validation_set(
            x_arr, y_arr, validation_data, opts.validation_split,
            partial(prepare_inputs, self), partial(prepare_targets, self),
        )  # fmt: skip
        opts = opts.with_validation_batch_size(validation_batch_size)
        history, cblist = fit_callbacks(
            cbs, self, epochs=opts.epochs, batch_size=opts.batch_size, samples=len(x_arr),
            verbose=opts.verbose,
        )  # fmt: skip
        self.history = history
        self.stop_training = False
        run_fit(
            self._engine, x_arr, y_arr, val, opts, cbs=cbs, cblist=cblist,
            has_dropout=self._engine.stochastic,
            stop_training=lambda: self.stop_training, history=history,
        )  # fmt: skip
        return history

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
        check_compiled(self, "evaluate")
        batch_size = check_batch_size(batch_size)
        verbose = check_verbose(verbose)
        x_arr = prepare_inputs(self, x, "x")
        native_network(self, x_arr.shape[1])
        y_arr = prepare_targets(self, y, x_arr.shape[0], "y")
        t0 = time.perf_counter()
        logs = self._engine.evaluate(x_arr, y_arr, batch_size)
        print_pass(len(x_arr), batch_size, time.perf_counter() - t0, logs, verbose)
        if return_dict:
            return logs
        key = self._engine.metric_key
        return logs["loss"] if key is None else [logs["loss"], logs[key]]

    def predict(
        self, x: Any, batch_size: int | None = None, verbose: int | str = "auto"
    ) -> np.ndarray:
        """Outputs for ``x`` in inference mode, shape ``(n, output_width)``."""
        batch_size = check_batch_size(batch_size)
        verbose = check_verbose(verbose)
        if not self._layers:
            raise ValueError("The model has no layers")
        x_arr = prepare_inputs(self, x, "x")
        if not self.built:
            self.build(x_arr.shape[1])
        if self.compiled:
            native_network(self, self._input_dim)
        t0 = time.perf_counter()
        out = self._engine.predict(x_arr, batch_size, self._layers, self.weights)
        print_pass(len(x_arr), batch_size, time.perf_counter() - t0, {}, verbose)
        return out

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
        check_compiled(self, "compute_gradients")
        if mode not in ("probe", "infer"):
            raise ValueError(f"mode must be 'probe' or 'infer', received {mode!r}")
        x_arr = prepare_inputs(self, x, "x")
        net = native_network(self, x_arr.shape[1])
        y_arr = prepare_targets(self, y, x_arr.shape[0], "y")
        return gradients(net, x_arr, y_arr, mode)

    # -- presentation ---------------------------------------------------------------------------
    def summary(self, print_fn: Any = None) -> None:
        """Print a table of the layers, their output shapes and parameter counts."""
        print_summary(self, print_fn)

    def _repr_html_(self) -> str:
        """The summary table as HTML, for Jupyter (``summary()`` prints it as text)."""
        return summary_html(self)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self._layers)} dtype={self.dtype.name}>"


def load_model(path: str | os.PathLike[str]) -> Sequential:
    """Load a model written by ``Sequential.save`` (never unpickles).

    ``path`` follows ``save``'s rule: ``m.npz`` as given, ``m`` means ``m.npz``
    (or ``m`` itself when only that exists); ``m.keras`` or ``m.h5`` is a ValueError.
    """
    return _load_model(path, Sequential)
