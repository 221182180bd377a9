"""The ``Sequential`` behind an estimator, and how scikit-learn's objective maps onto it.

scikit-learn's MLP minimizes, per mini-batch of ``n_b`` rows,

    J = data loss + 0.5 * alpha * sum ||W||^2 / n_b

with the data loss ``sum of log losses / n_b`` (logistic or softmax outputs)
or ``0.5 * sum of squared errors / n_b`` (identity outputs), intercepts not
penalized. The native losses are Keras' means over rows and outputs, so the
network minimizes ``c * J`` with one constant ``c`` per output layer:

=======================  ====================================  ============
outputs (k of them)      native loss                           c
=======================  ====================================  ============
logistic (binary, k=1;   binary cross-entropy (mean over k)    1 / k
multilabel)
softmax (k classes)      sparse categorical cross-entropy      1
identity (regression)    mean squared error (mean over k)      2 / k
=======================  ====================================  ============

so the penalty is ``L2(c * alpha / 2, per_sample=True)`` on every kernel
(``c * 0.5 * alpha * sum ||W||^2 / n_b``, scikit-learn's per-batch scaling,
the last, smaller batch included), and the optimizer sees ``c`` times
scikit-learn's gradient: SGD takes the learning rate ``lr / c`` and Adam the
epsilon ``c * epsilon``, which makes each update exactly scikit-learn's
(Adam's ``m / (sqrt(v) + eps)`` is invariant to the scale once eps scales
with it). The epoch loss the history reports is ``c`` times scikit-learn's
``loss_`` (for multi-output regression scikit-learn reports the mean, not the
sum, over outputs; ``loss_`` follows it, exact with one batch per epoch and with
the penalty interpolated between the epoch's first and last weights otherwise).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .. import optimizers, regularizers
from ..initializers import RandomUniform
from ..layers import Activation, BatchNormalization, Dense, Layer, Residual
from ..models import Sequential
from ._params import Params

#: Output activation (scikit-learn's name) -> (the package's activation, native loss).
OUTPUTS = {
    "logistic": ("sigmoid", "binary_crossentropy"),
    "softmax": ("softmax", "sparse_categorical_crossentropy"),
    "identity": (None, "mse"),
}


def loss_scale(out_activation: str, n_outputs: int) -> float:
    """``c``: the native objective over scikit-learn's (see the module docstring)."""
    if out_activation == "logistic":
        return 1.0 / n_outputs
    if out_activation == "identity":
        return 2.0 / n_outputs
    return 1.0


def _uniform_bound(activation: str, fan_in: int, fan_out: int) -> float:
    # scikit-learn's _init_coef: Glorot & Bengio (2010)'s uniform bound
    # sqrt(6 / (fan_in + fan_out)), with 2 in place of 6 for the logistic.
    factor = 2.0 if activation == "sigmoid" else 6.0
    return float(np.sqrt(factor / (fan_in + fan_out)))


def _dense(
    units: int, fan_in: int, activation: str | None, params: Params, reg: Any, name: str
) -> Dense:
    if params.kernel_initializer is None:
        bound = _uniform_bound(params.activation, fan_in, units)
        kernel = bias = RandomUniform(-bound, bound)
    else:
        kernel, bias = params.kernel_initializer, "zeros"
    return Dense(
        units,
        activation=activation,
        kernel_initializer=kernel,
        bias_initializer=bias,
        kernel_regularizer=reg,
        name=name,
    )


def _hidden_layers(params: Params, n_features: int, batchnorm: bool, residual: bool, reg: Any):
    """The hidden layers: Dense(+BN+Activation), in identity-skip blocks where widths allow."""
    layers: list[Layer] = []
    width = n_features
    for i, units in enumerate(params.hidden, start=1):
        if batchnorm:
            block: list[Layer] = [
                _dense(units, width, None, params, reg, f"dense_{i}"),
                BatchNormalization(name=f"batchnorm_{i}"),
                Activation(params.activation, name=f"activation_{i}"),
            ]
        else:
            block = [_dense(units, width, params.activation, params, reg, f"dense_{i}")]
        if residual and units == width:
            layers.append(Residual(block, name=f"block_{i}"))
        else:
            layers.extend(block)
        width = units
    return layers, width


def build_model(
    est: Any,
    params: Params,
    n_features: int,
    n_outputs: int,
    out_activation: str,
    dtype: np.dtype,
    draws: list[tuple[np.ndarray, np.ndarray]] | None,
    seed: int,
) -> Sequential:
    """The estimator's network, its Dense layers set to ``draws`` when given.

    ``draws`` are scikit-learn's initial kernels and intercepts
    (``initial_weights``); without them (a ``kernel_initializer``) the layers
    initialize themselves from the model's ``seed``, which also seeds shuffling.
    """
    reg = regularizers.L2(loss_scale(out_activation, n_outputs) * est.alpha / 2, per_sample=True)
    hidden, width = _hidden_layers(params, n_features, est.batch_normalization, est.residual, reg)
    out_act, _ = OUTPUTS[out_activation]
    output = _dense(n_outputs, width, out_act, params, reg, f"dense_{len(params.hidden) + 1}")
    model = Sequential([*hidden, output], seed=seed, dtype=dtype.name)
    model.build(n_features)
    if draws is not None:
        for dense, (kernel, bias) in zip(dense_layers(model), draws, strict=True):
            dense.set_weights([kernel, bias])
    return model


def initial_weights(
    params: Params, n_features: int, n_outputs: int, rs: np.random.RandomState
) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """scikit-learn's initial kernels and intercepts drawn from ``rs`` in its order
    (layer by layer, kernel then intercept), so the same ``random_state`` starts
    both libraries from the same weights; None with a ``kernel_initializer``."""
    if params.kernel_initializer is not None:
        return None
    units = [n_features, *params.hidden, n_outputs]
    draws = []
    for fan_in, fan_out in itertools.pairwise(units):
        bound = _uniform_bound(params.activation, fan_in, fan_out)
        kernel = rs.uniform(-bound, bound, (fan_in, fan_out))
        draws.append((kernel, rs.uniform(-bound, bound, fan_out)))
    return draws


def dense_layers(model: Sequential) -> list[Any]:
    """The layers with a kernel, in order, inside residual blocks too (``coefs_``)."""
    out: list[Any] = []

    def walk(layers: list[Layer]) -> None:
        for layer in layers:
            if layer.has_kernel():
                out.append(layer)
            walk(layer.sublayers())

    walk(model.layers)
    return out


def make_optimizer(est: Any, scale: float) -> optimizers.Optimizer:
    """scikit-learn's solver with the hyper-parameters adjusted to the loss scale ``c``."""
    if est.solver == "sgd":
        return optimizers.SGD(
            learning_rate=est.learning_rate_init / scale,
            momentum=est.momentum,
            nesterov=bool(est.nesterovs_momentum) and est.momentum > 0,
        )
    return optimizers.Adam(
        learning_rate=est.learning_rate_init,
        beta_1=est.beta_1,
        beta_2=est.beta_2,
        epsilon=est.epsilon * scale,
    )


def compile_model(model: Sequential, est: Any, out_activation: str, scale: float) -> None:
    """(Re)compile: keeps the weights, starts a fresh optimizer, as scikit-learn's fit."""
    _, loss = OUTPUTS[out_activation]
    for dense in dense_layers(model):
        dense.kernel_regularizer.l2 = scale * est.alpha / 2
    model.compile(loss=loss, optimizer=make_optimizer(est, scale))
