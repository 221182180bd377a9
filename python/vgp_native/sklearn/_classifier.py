"""``MLPClassifier``: scikit-learn's class of that name, trained natively."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d, validate_data

from ._base import BaseMLP, nan_safe_score


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier: scikit-learn's, trained by the native executor.

    A drop-in replacement for ``sklearn.neural_network.MLPClassifier``: the same
    parameters and defaults, the same fitted attributes, the same training
    (scikit-learn's uniform Glorot-style initialization from ``random_state``,
    mini-batches of ``min(200, n)`` rows, Adam or SGD, the L2 penalty
    ``0.5 * alpha * sum ||W||^2 / n_batch``, the learning-rate schedules, early
    stopping on ``validation_fraction``, ``tol`` and ``n_iter_no_change``).
    Two classes give one logistic output with the log loss, more a softmax
    output with the cross-entropy, a label-indicator matrix (multilabel) one
    logistic output per label. Each fit runs its epochs in one native call
    sequence and records a gradient-flow report (``flow_report_``), which says
    whether, where and why the gradient vanished or exploded.

    Args (scikit-learn's; see its documentation for the details):
        hidden_layer_sizes: widths of the hidden layers, default ``(100,)``.
        activation: "identity", "logistic", "tanh" or "relu" (default).
        solver: "adam" (default) or "sgd" ("lbfgs" is not implemented: ValueError).
        alpha: L2 penalty strength, default 1e-4.
        batch_size: rows per mini-batch, "auto" = ``min(200, n_samples)``.
        learning_rate: "constant", "invscaling" or "adaptive" (SGD only).
        learning_rate_init, power_t, max_iter, shuffle, random_state, tol,
        verbose, warm_start, momentum, nesterovs_momentum, early_stopping,
        validation_fraction, beta_1, beta_2, epsilon, n_iter_no_change: as scikit-learn.
        max_fun: accepted and unused (it bounds L-BFGS, which is not implemented).
        kernel_initializer: None (scikit-learn's uniform initialization of kernels
            and intercepts) or any initializer of ``vgp_native.initializers``
            (e.g. "he_normal"; intercepts then start at zero).
        batch_normalization: insert ``BatchNormalization`` between each hidden
            Dense layer and its activation (Ioffe & Szegedy 2015).
        residual: identity skip connections around each hidden layer whose width
            equals its input's (``h <- h + act(Dense(h))``, He et al. 2016).
        gradient_flow: record the gradient-flow statistics of each fit.

    Attributes:
        classes_, coefs_, intercepts_, loss_, best_loss_, loss_curve_,
        validation_scores_, best_validation_score_, t_, n_iter_, n_layers_,
        n_outputs_, out_activation_, n_features_in_, feature_names_in_: as
        scikit-learn (``coefs_`` and ``intercepts_`` are live views of the
        network's weights).
        model_: the trained ``vgp_native.models.Sequential``.
        flow_report_: the ``vgp_native.flow.GradientFlowReport`` of the last fit.
    """

    def __init__(
        self,
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

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Fit the network to ``X`` (n_samples, n_features) and the labels ``y``.

        Returns:
            self.
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer.

        Args:
            X: inputs (n_samples, n_features).
            y: labels.
            classes: every class of all calls; required on the first call.

        Returns:
            self.
        """
        if _first_partial_fit(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, incremental=True)

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, Any]:
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if hasattr(X, "toarray"):
            X = X.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        return X, self._label_binarizer.transform(y).astype(bool)

    def _output_activation(self, Y: np.ndarray) -> str:
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _native_targets(self, Y: np.ndarray) -> np.ndarray:
        dtype = self.model_.dtype
        if self.out_activation_ == "softmax":
            return np.argmax(Y, axis=1).astype(dtype)[:, None]
        return Y.astype(dtype)

    def _stratify_split(self) -> bool:
        return True

    def _validation_targets(self, Y_val: np.ndarray) -> Any:
        return self._label_binarizer.inverse_transform(Y_val)

    def _score(self, X: Any, y: Any) -> float:
        return nan_safe_score(accuracy_score, y, self._predict_labels(self._predict_rows(X)))

    def _predict_labels(self, out: np.ndarray) -> Any:
        if self.n_outputs_ == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def predict(self, X: Any) -> Any:
        """The predicted class of each row of ``X`` (labels as given to ``fit``)."""
        return self._predict_labels(self._forward(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in ``classes_`` order."""
        out = self._forward(X)
        if self.n_outputs_ == 1:
            p = out.ravel()
            return np.vstack([1 - p, p]).T
        return out

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``."""
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags


def _first_partial_fit(clf: MLPClassifier, classes: Any) -> bool:
    """Whether this is the first ``partial_fit`` (then ``classes_`` is set), as scikit-learn."""
    known = getattr(clf, "classes_", None)
    if known is None and classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if classes is None:
        return False
    if known is not None:
        if not np.array_equal(known, unique_labels(classes)):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                f"was: {known!r}"
            )
        return False
    clf.classes_ = unique_labels(classes)
    return True
