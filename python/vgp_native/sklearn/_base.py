"""What the classifier and the regressor share: fit, the fitted attributes, pickling."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import initializers, optimizers
from ..callbacks import Callback, GradientFlow
from ..models import Sequential
from ._epochs import SklearnEpochs, SolverState
from ._network import build_model, compile_model, dense_layers, initial_weights, loss_scale
from ._params import Params, check_params

#: Rows per native call in predict (results do not depend on it).
PREDICT_BATCH = 1024


class BaseMLP(BaseEstimator):
    """Base of ``MLPClassifier`` and ``MLPRegressor`` (not for direct use).

    Subclasses define ``__init__`` (scikit-learn's signature and the extras),
    ``_validate_input(X, y, incremental, reset)`` returning ``X`` and the
    binarized targets ``Y`` (2-D), ``_output_activation(Y)``,
    ``_native_targets(Y)`` and ``_score(X, y)``.
    """

    def _store(self, arguments: dict[str, Any]) -> None:
        # scikit-learn's contract: __init__ stores its arguments unchanged.
        for name, value in arguments.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # -- fitted attributes read from the network ---------------------------------------
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Each layer's kernel ``(fan_in, fan_out)``: live views into ``model_``."""
        return [layer.kernel for layer in dense_layers(self.model_)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Each layer's bias ``(fan_out,)``: live views into ``model_``."""
        return [layer.bias for layer in dense_layers(self.model_)]

    @property
    def flow_report_(self) -> Any:
        """The ``GradientFlowReport`` of the last ``fit`` or ``partial_fit`` (None when
        ``gradient_flow=False``); assembled when first read."""
        check_is_fitted(self)
        if self._flow_report is None and self._flow is not None:
            self._flow_report = self._flow.report()
            self._flow = None
        return self._flow_report

    # -- training ------------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, incremental: bool) -> BaseMLP:
        params = check_params(self)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        # The random stream in scikit-learn's order: initial weights, the
        # early-stopping split, then (here) the network's seed for shuffling.
        rs = check_random_state(self.random_state)
        if first_pass:
            self._initialize(params, X, Y)
            draws = initial_weights(params, X.shape[1], self.n_outputs_, rs)
        else:
            self._check_same_network(params, Y)
        validation = None
        if self.early_stopping:
            X, Y, validation = self._split(X, Y, rs)
        if first_pass:
            seed = int(rs.randint(np.iinfo(np.int32).max))
            self.model_ = build_model(
                self,
                params,
                X.shape[1],
                self.n_outputs_,
                self.out_activation_,
                X.dtype,
                draws,
                seed,
            )
        X = np.ascontiguousarray(X, dtype=self.model_.dtype)
        if not incremental or not self.model_.compiled:
            compile_model(self.model_, self, self.out_activation_, self._scale)
            self._solver.learning_rate = float(self.learning_rate_init)
        self._train(X, Y, params, validation, incremental)
        return self

    def _train(
        self, X: np.ndarray, Y: np.ndarray, params: Params, validation: Any, incremental: bool
    ) -> None:
        n = X.shape[0]
        batch_size = self._batch_size(params, n)
        epochs = SklearnEpochs(
            self,
            self._solver,
            self._score,
            n,
            -(-n // batch_size),
            self._scale,
            validation,
            incremental,
        )
        callbacks: list[Callback] = [epochs]
        self._flow, self._flow_report = None, None
        if self.gradient_flow:
            self._flow = GradientFlow()
            callbacks.append(self._flow)
        self.n_iter_ = 0
        try:
            self.model_.fit(
                X,
                self._native_targets(Y),
                batch_size=batch_size,
                epochs=1 if incremental else self.max_iter,
                verbose=0,
                callbacks=callbacks,
                shuffle=self.shuffle,
            )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=4)
        if epochs.best_weights is not None:
            self.model_.set_weights(epochs.best_weights)
        epochs.warn_unconverged(stacklevel=4)  # the caller of fit / partial_fit
        if not all(np.isfinite(w).all() for w in self.model_.weights):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain "
                "large values and need to be preprocessed."
            )

    def _initialize(self, params: Params, X: np.ndarray, Y: np.ndarray) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(params.hidden) + 2
        self.out_activation_ = self._output_activation(Y)
        self._scale = loss_scale(self.out_activation_, self.n_outputs_)
        self._architecture = _architecture(self, params)
        self.loss_curve_: list[float] = []
        self._solver = SolverState(learning_rate=float(self.learning_rate_init))
        if self.early_stopping:
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _check_same_network(self, params: Params, Y: np.ndarray) -> None:
        """A warm start or ``partial_fit`` must keep the network the first fit built."""
        if _architecture(self, params) != self._architecture or Y.shape[1] != self.n_outputs_:
            raise ValueError(
                "warm_start and partial_fit continue the network of the previous fit: "
                "hidden_layer_sizes, activation, kernel_initializer, batch_normalization, "
                "residual and the number of outputs must stay as they were"
            )

    def _split(self, X: np.ndarray, Y: np.ndarray, rs: Any) -> tuple[Any, Any, Any]:
        # scikit-learn's split: stratified on single-output classification targets.
        stratify = Y if self._stratify_split() and self.n_outputs_ == 1 else None
        X_train, X_val, Y_train, Y_val = train_test_split(
            X, Y, random_state=rs, test_size=self.validation_fraction, stratify=stratify
        )
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the "
                "size of your dataset."
            )
        return X_train, Y_train, (X_val, self._validation_targets(Y_val))

    def _batch_size(self, params: Params, n: int) -> int:
        if params.batch_size is None:
            return min(200, n)
        if params.batch_size > n:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                "clipped",
                stacklevel=5,
            )
        return int(np.clip(params.batch_size, 1, n))

    # -- prediction ----------------------------------------------------------------------
    def _forward(self, X: Any) -> np.ndarray:
        """The network's outputs for ``X`` (checked), shape ``(n, n_outputs_)``."""
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
        )
        return self._predict_rows(X)

    def _predict_rows(self, X: Any) -> np.ndarray:
        if hasattr(X, "toarray"):
            X = X.toarray()
        X = np.ascontiguousarray(X, dtype=self.model_.dtype)
        return self.model_.predict(X, batch_size=PREDICT_BATCH, verbose=0)

    # -- pickling: the native network is rebuilt from its configuration -------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        model = state.pop("model_", None)
        if model is not None:
            state["flow_report"] = self.flow_report_
            state.pop("_flow", None)
            state.pop("_flow_report", None)
            state["model_"] = {
                "config": model.get_config(),
                "compile": model.compile_config(),
                "weights": model.get_weights(),
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        saved = state.get("model_")
        if isinstance(saved, dict):
            model = Sequential.from_config(saved["config"])
            if saved["compile"] is not None:
                compiled = saved["compile"]
                model.compile(
                    loss=compiled["loss"],
                    optimizer=optimizers.deserialize(compiled["optimizer"]),
                    metrics=compiled["metrics"],
                )
            model.set_weights(saved["weights"])
            state["model_"] = model
            state["_flow"] = None
            state["_flow_report"] = state.pop("flow_report")
        super().__setstate__(state)


def _architecture(est: BaseMLP, params: Params) -> tuple[Any, ...]:
    """What fixes the network's shape and initialization (compared on a warm start)."""
    init = params.kernel_initializer
    return (
        params.hidden,
        params.activation,
        initializers.serialize(init) if isinstance(init, initializers.Initializer) else init,
        bool(est.batch_normalization),
        bool(est.residual),
        est.n_features_in_,
    )


def nan_safe_score(score_function: Any, y_true: Any, y_pred: np.ndarray) -> float:
    """scikit-learn's ``_score_with_function``: NaN when the outputs are not finite."""
    if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
        return math.nan
    return float(score_function(y_true, y_pred))
