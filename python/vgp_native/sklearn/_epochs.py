"""scikit-learn's per-epoch logic, as a callback of the native ``fit``.

One ``Sequential.fit`` call trains all of an estimator's epochs natively;
this callback runs at each epoch's end what scikit-learn's
``_fit_stochastic`` runs there: the loss curve, ``t_``, the no-improvement
count on the training loss (or, with early stopping, on the validation
score, keeping the best weights), the learning-rate schedule of SGD
(``invscaling``: ``lr_init / (t_ + 1) ** power_t``; ``adaptive``: divided by 5
after ``n_iter_no_change`` epochs without improvement, training stops below
1e-6), the stop, and (issued once fit returns) the ``ConvergenceWarning`` after
``max_iter`` epochs.
A new learning rate reaches the native optimizer at the next epoch, as Keras'
``model.optimizer.learning_rate = ...`` does.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..callbacks import Callback


@dataclass
class SolverState:
    """What scikit-learn keeps between epochs and between ``partial_fit`` calls.

    Attributes:
        learning_rate: SGD's current rate (scikit-learn's ``_optimizer.learning_rate``).
        no_improvement_count: epochs in a row without an improvement by ``tol``.
    """

    learning_rate: float
    no_improvement_count: int = 0


class SklearnEpochs(Callback):
    """Updates the estimator ``est`` after each epoch, as scikit-learn does.

    Args:
        est: the estimator being fitted (its fitted attributes are updated in place).
        state: the learning rate and no-improvement count, kept by the estimator.
        score: ``score(X, y)``, the estimator's validation score (early stopping).
        n_samples: rows trained on per epoch.
        n_batches: mini-batches per epoch.
        scale: the native objective over scikit-learn's (``_network.loss_scale``).
        validation: ``(X_val, y_val)`` with early stopping, else None.
        incremental: ``partial_fit`` (one epoch, no convergence warning).
    """

    def __init__(
        self,
        est: Any,
        state: SolverState,
        score: Callable[[Any, Any], float],
        n_samples: int,
        n_batches: int,
        scale: float,
        validation: tuple[np.ndarray, Any] | None,
        incremental: bool,
    ) -> None:
        super().__init__()
        self.est = est
        self.state = state
        self.score = score
        self.n_samples = n_samples
        self.n_batches = n_batches
        self.scale = scale
        self.validation = validation
        self.incremental = incremental
        self.best_weights: list[np.ndarray] | None = None
        self.unconverged = False
        # scikit-learn's multi-output regression loss averages the squared
        # errors over outputs but keeps the penalty whole, so the two are split.
        self.split_penalty = est.out_activation_ == "identity" and est.n_outputs_ > 1
        self.start_squares = 0.0

    def _squares(self) -> float:
        return sum(float(np.dot(c.ravel(), c.ravel())) for c in self.est.coefs_)

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self.split_penalty:
            self.start_squares = self._squares()

    def sklearn_loss(self, native_loss: float) -> float:
        """scikit-learn's ``loss_`` from the epoch loss the network reports."""
        est = self.est
        loss = native_loss / self.scale
        if self.split_penalty:
            # Batch b's penalty uses the weights after b updates: interpolated
            # between the epoch's start and end (exact for a single batch).
            nb = self.n_batches
            squares = self.start_squares
            squares += (self._squares() - squares) * (nb - 1) / (2 * nb)
            penalty = 0.5 * est.alpha * squares * nb / self.n_samples
            loss = (loss - penalty) / est.n_outputs_ + penalty
        return loss

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        est = self.est
        loss = self.sklearn_loss(float((logs or {}).get("loss", math.nan)))
        est.n_iter_ += 1
        est.loss_ = loss
        est.t_ += self.n_samples
        est.loss_curve_.append(loss)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        self._count_no_improvement()
        if est.solver == "sgd" and est.learning_rate == "invscaling":
            self._set_learning_rate(est.learning_rate_init / (est.t_ + 1) ** est.power_t)
        if self.state.no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation is not None else "Training loss"
            msg = (
                f"{what} did not improve more than tol={est.tol:f} for "
                f"{est.n_iter_no_change} consecutive epochs."
            )
            if self._trigger_stopping(msg):
                self.model.stop_training = True
            else:
                self.state.no_improvement_count = 0
        if not self.incremental and est.n_iter_ == est.max_iter:
            self.unconverged = not self.model.stop_training

    def warn_unconverged(self, stacklevel: int) -> None:
        """scikit-learn's warning when ``max_iter`` epochs ended without a stop."""
        if self.unconverged:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.est.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=stacklevel + 1,
            )

    def _count_no_improvement(self) -> None:
        est = self.est
        if self.validation is not None:
            score = self.score(*self.validation)
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:f}")
            if score < est.best_validation_score_ + est.tol:
                self.state.no_improvement_count += 1
            else:
                self.state.no_improvement_count = 0
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_weights = self.model.get_weights()
            return
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            self.state.no_improvement_count += 1
        else:
            self.state.no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]

    def _trigger_stopping(self, msg: str) -> bool:
        est = self.est
        if est.solver != "sgd" or est.learning_rate != "adaptive":
            if est.verbose:
                print(msg + " Stopping.")
            return True
        if self.state.learning_rate <= 1e-6:
            if est.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self._set_learning_rate(self.state.learning_rate / 5.0)
        if est.verbose:
            print(msg + f" Setting learning rate to {self.state.learning_rate:f}")
        return False

    def _set_learning_rate(self, lr: float) -> None:
        # scikit-learn's rate; the native SGD takes it over the loss scale.
        self.state.learning_rate = lr
        self.model.optimizer.learning_rate = lr / self.scale
