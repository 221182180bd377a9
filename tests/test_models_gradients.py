"""Whole-model gradients: every layer kind and loss, in float64.

Checked against central finite differences of the model's own loss and, when
PyTorch is installed, against torch autograd of an independent torch
implementation of the same network; one full-batch SGD step with learning
rate 1 must move each weight by exactly minus its gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Residual
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD
from vgp_native.regularizers import L2

N_SAMPLES = 12


def _data(loss: str, in_dim: int, out_dim: int, rng: np.random.Generator):
    x = rng.normal(size=(N_SAMPLES, in_dim))
    if loss == "binary_crossentropy":
        y = rng.uniform(0.05, 0.95, size=(N_SAMPLES, out_dim))
    elif loss == "mse":
        y = rng.normal(size=(N_SAMPLES, out_dim))
    elif loss == "categorical_crossentropy":
        y = rng.dirichlet(np.ones(out_dim), size=N_SAMPLES)
    else:
        y = rng.integers(0, out_dim, size=N_SAMPLES).astype(np.float64)
    return x, y


# name -> (layer factory, input width, output width, loss)
CASES: dict[str, tuple[Callable[[], list], int, int, str]] = {
    "sigmoid_bce_fused": (
        lambda: [Dense(5, "sigmoid", input_dim=3), Dense(4, "sigmoid"), Dense(1, "sigmoid")],
        3,
        1,
        "binary_crossentropy",
    ),
    "smooth_activations_mse": (
        lambda: [
            Dense(5, "tanh", input_dim=3),
            Dense(5, "elu"),
            Dense(5, "selu"),
            Dense(5, "gelu"),
            Dense(5, "softplus"),
            Dense(5, "swish"),
            Dense(2),
        ],
        3,
        2,
        "mse",
    ),
    "softmax_cce_fused": (
        lambda: [Dense(6, "tanh", input_dim=4), Dense(3, "softmax")],
        4,
        3,
        "categorical_crossentropy",
    ),
    "softmax_sparse_fused": (
        lambda: [Dense(6, "gelu", input_dim=4), Dense(4, "softmax")],
        4,
        4,
        "sparse_categorical_crossentropy",
    ),
    "activation_layer_softmax": (
        lambda: [Dense(6, "tanh", input_dim=4), Dense(3), Activation("softmax")],
        4,
        3,
        "categorical_crossentropy",
    ),
    "bce_from_probabilities": (
        lambda: [Dense(4, "tanh", input_dim=3), Dense(2, "sigmoid"), Dropout(0.0)],
        3,
        2,
        "binary_crossentropy",
    ),
    "cce_from_probabilities": (
        lambda: [Dense(4, "tanh", input_dim=3), Dense(3, "softmax"), Dropout(0.0)],
        3,
        3,
        "categorical_crossentropy",
    ),
    "sparse_from_probabilities": (
        lambda: [Dense(4, "tanh", input_dim=3), Dense(3, "softmax"), Dropout(0.0)],
        3,
        3,
        "sparse_categorical_crossentropy",
    ),
    "batchnorm": (
        lambda: [
            Dense(6, input_dim=3),
            BatchNormalization(),
            Activation("tanh"),
            Dense(5),
            BatchNormalization(momentum=0.9, epsilon=1e-2),
            Activation("sigmoid"),
            Dense(1, "sigmoid"),
        ],
        3,
        1,
        "binary_crossentropy",
    ),
    "residual_identity": (
        lambda: [
            Dense(5, "tanh", input_dim=3),
            Residual([Dense(5, "tanh"), BatchNormalization(), Dense(5)], activation="tanh"),
            Residual([Dense(5, "elu")]),
            Dense(1),
        ],
        3,
        1,
        "mse",
    ),
    "residual_projection_nested": (
        lambda: [
            Residual(
                [Dense(6, "tanh"), Residual([Dense(6, "softplus")], activation="tanh")],
                activation="swish",
            ),
            Dense(2, "sigmoid"),
        ],
        4,
        2,
        "binary_crossentropy",
    ),
    # Keras' L2 on some kernels (the penalty joins the loss), and scikit-learn's
    # per-sample scaling inside a residual block.
    "l2_regularized": (
        lambda: [
            Dense(5, "tanh", input_dim=3, kernel_regularizer=L2(0.3)),
            Dense(4, "sigmoid"),
            Dense(1, "sigmoid", kernel_regularizer="l2"),
        ],
        3,
        1,
        "binary_crossentropy",
    ),
    "l2_per_sample_residual": (
        lambda: [
            Dense(5, "tanh", input_dim=3),
            Residual([Dense(5, "softplus", kernel_regularizer=L2(0.5, per_sample=True))]),
            Dense(2, kernel_regularizer=L2(0.05, per_sample=True)),
        ],
        3,
        2,
        "mse",
    ),
}


# Exact gradients of kinked activations: checked against autograd only (finite
# differences are unreliable at the kink).
TORCH_ONLY_CASES = {
    "relu_family": (
        lambda: [
            Dense(6, "relu", input_dim=3),
            Dense(6, "leaky_relu"),
            Residual([Dense(6, "relu"), BatchNormalization()], activation="relu"),
            Dense(2, "softmax"),
        ],
        3,
        2,
        "sparse_categorical_crossentropy",
    ),
}


def _build(case: str, seed: int = 0) -> tuple[Sequential, np.ndarray, np.ndarray]:
    factory, in_dim, out_dim, loss = {**CASES, **TORCH_ONLY_CASES}[case]
    model = Sequential(seed=seed, dtype="float64")
    for layer in factory():
        model.add(layer)
    model.build(in_dim)
    model.compile(loss=loss, optimizer=SGD(learning_rate=1.0))
    # Non-trivial batch-norm parameters, so gamma/beta gradients are exercised.
    rng = np.random.default_rng(seed + 100)
    for layer, w in zip(model.weights, model.get_weights(), strict=True):
        if w.ndim == 1:
            layer[...] = w + 0.3 * rng.normal(size=w.shape)
    x, y = _data(loss, in_dim, out_dim, np.random.default_rng(seed + 1))
    return model, x, y


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_finite_differences(case: str) -> None:
    model, x, y = _build(case)
    _, grads = model.compute_gradients(x, y)
    weights = model.weights  # live views into the native network
    eps = 1e-6
    checked = 0
    for w, g in zip(weights, grads, strict=True):
        if g is None:  # batch-norm moving statistics are not trained
            continue
        fd = np.empty_like(w)
        flat = w.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up, _ = model.compute_gradients(x, y)
            flat[i] = old - eps
            down, _ = model.compute_gradients(x, y)
            flat[i] = old
            fd.reshape(-1)[i] = (up - down) / (2 * eps)
        # Relative error, with an absolute floor for gradients that are zero in exact
        # arithmetic (a bias feeding batch norm) where differences only see rounding.
        err = np.linalg.norm(g - fd)
        bound = 1e-6 * np.linalg.norm(fd) + 1e-8
        assert err < bound, f"{case}: gradient error {err:.2e} > {bound:.2e} for shape {w.shape}"
        checked += 1
    assert checked == sum(g is not None for g in grads) > 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_sgd_step_moves_each_weight_by_minus_its_gradient(case: str) -> None:
    model, x, y = _build(case)
    before = model.get_weights()
    _, grads = model.compute_gradients(x, y)
    model.fit(x, y, epochs=1, batch_size=N_SAMPLES, shuffle=False, verbose=0)
    after = model.get_weights()
    for w0, w1, g in zip(before, after, grads, strict=True):
        if g is None:
            continue
        np.testing.assert_allclose(w1, w0 - g, rtol=0, atol=1e-12)


# -- PyTorch parity ------------------------------------------------------------------------


def _torch_forward(torch, layers, params, x, penalties=None):
    """An independent torch implementation of the layer list, weights from ``params``;
    the kernel regularizers' penalties are appended to ``penalties``."""
    import torch.nn.functional as F

    acts = {
        "linear": lambda t: t,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
        "elu": F.elu,
        "selu": torch.selu,
        "gelu": F.gelu,
        "softplus": F.softplus,
        "swish": F.silu,
        "softmax": lambda t: torch.softmax(t, dim=1),
    }
    it = iter(params)

    def run(seq, h):
        for layer in seq:
            if isinstance(layer, Dense):
                kernel = next(it)
                reg = layer.kernel_regularizer
                if reg is not None and penalties is not None:
                    scale = reg.l2 / x.shape[0] if reg.per_sample else reg.l2
                    penalties.append(scale * (kernel**2).sum())
                h = h @ kernel
                if layer.use_bias:
                    h = h + next(it)
                h = acts[layer.activation](h)
            elif isinstance(layer, Activation):
                h = acts[layer.activation](h)
            elif isinstance(layer, BatchNormalization):
                gamma, beta, _, _ = next(it), next(it), next(it), next(it)
                mean = h.mean(0)
                var = ((h - mean) ** 2).mean(0)
                h = gamma * (h - mean) / torch.sqrt(var + layer.epsilon) + beta
            elif isinstance(layer, Dropout):
                pass
            elif isinstance(layer, Residual):
                inner = run(layer.layers, h)
                skip = h
                if layer.has_projection:
                    skip = h @ next(it) + next(it)
                h = acts[layer.activation](skip + inner)
        return h

    return run(layers, x)


def _torch_loss(torch, loss, out, y):
    import torch.nn.functional as F

    if loss == "mse":
        return ((out - y) ** 2).mean()
    if loss == "binary_crossentropy":
        p = out.clamp(1e-7, 1 - 1e-7)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
    if loss == "categorical_crossentropy":
        p = (out / out.sum(1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
        return -(y * torch.log(p)).sum(1).mean()
    p = (out / out.sum(1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
    return F.nll_loss(torch.log(p), y.reshape(-1).long())


@pytest.mark.parametrize("case", sorted(CASES) + sorted(TORCH_ONLY_CASES))
def test_gradients_match_torch_autograd(case: str) -> None:
    torch = pytest.importorskip("torch")
    model, x, y = _build(case)
    _, grads = model.compute_gradients(x, y)
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in model.weights]
    penalties: list = []
    out = _torch_forward(torch, model.layers, params, torch.tensor(x), penalties)
    loss = _torch_loss(torch, model.loss, out, torch.tensor(y)) + sum(penalties)
    loss.backward()
    ours, _ = model.compute_gradients(x, y)
    # The fused sigmoid/softmax losses equal the clipped textbook ones away from saturation.
    assert ours == pytest.approx(loss.item(), rel=1e-10)
    for p, g in zip(params, grads, strict=True):
        if g is None:
            continue
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-9, atol=1e-12)
