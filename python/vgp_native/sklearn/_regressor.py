"""``MLPRegressor``: scikit-learn's class of that name, trained natively."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import column_or_1d, validate_data

from ._base import BaseMLP, nan_safe_score


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor: scikit-learn's, trained by the native executor.

    A drop-in replacement for ``sklearn.neural_network.MLPRegressor``: identity
    outputs and scikit-learn's squared loss ``0.5 * mean((y - p)^2)`` plus the L2
    penalty ``0.5 * alpha * sum ||W||^2 / n_batch``; everything else as
    ``vgp_native.sklearn.MLPClassifier`` (the parameters, their defaults, the
    extras ``kernel_initializer``, ``batch_normalization``, ``residual``,
    ``gradient_flow`` and the fitted ``model_`` and ``flow_report_``).

    Args:
        loss: "squared_error" (default; scikit-learn's "poisson" is not
            implemented: ValueError).
        hidden_layer_sizes, activation, ...: see ``MLPClassifier``.
    """

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        kernel_initializer: Any = None,
        batch_normalization: bool = False,
        residual: bool = False,
        gradient_flow: bool = True,
    ) -> None:
        self._store(locals())

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Fit the network to ``X`` (n_samples, n_features) and targets ``y``.

        Returns:
            self.
        """
        self._check_loss()
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer.

        Returns:
            self.
        """
        self._check_loss()
        return self._fit(X, y, incremental=True)

    def _check_loss(self) -> None:
        if self.loss != "squared_error":
            extra = " ('poisson' is scikit-learn's, not implemented by vgp_native)"
            raise ValueError(
                "The 'loss' parameter of MLPRegressor must be 'squared_error'"
                f"{extra if self.loss == 'poisson' else ''}; received {self.loss!r}."
            )

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, Any]:
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if hasattr(X, "toarray"):
            X = X.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y.reshape(y.shape[0], -1)

    def _output_activation(self, Y: np.ndarray) -> str:
        return "identity"

    def _native_targets(self, Y: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(Y, dtype=self.model_.dtype)

    def _stratify_split(self) -> bool:
        return False

    def _validation_targets(self, Y_val: np.ndarray) -> Any:
        return Y_val[:, 0] if Y_val.shape[1] == 1 else Y_val

    def _score(self, X: Any, y: Any) -> float:
        out = self._predict_rows(X)
        return nan_safe_score(r2_score, y, out.ravel() if out.shape[1] == 1 else out)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n_samples,)``, or ``(n_samples, n_outputs)`` for several targets."""
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
