"""flow.gradient_correlation: dy/dx along a grid against finite differences and torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vgp_native import flow
from vgp_native.flow.correlation import autocorrelation
from vgp_native.layers import Activation, BatchNormalization, Dense, Residual
from vgp_native.models import Sequential

GRID = np.linspace(-2.0, 2.0, 41)


def smooth_model(dtype: str = "float64") -> Sequential:
    """One input, one output, every layer kind on a smooth path, non-trivial BN statistics."""
    model = Sequential(seed=3, dtype=dtype)
    model.add(Dense(8, activation="tanh", bias_initializer="ones", input_dim=1))
    model.add(BatchNormalization())
    model.add(Residual([Dense(8, activation="gelu"), Dense(8, activation="softplus")]))
    model.add(Activation("swish"))
    model.add(Dense(1))
    model.compile(loss="mse", optimizer="sgd")
    weights = model.get_weights()
    rng = np.random.default_rng(0)
    weights[2] = rng.normal(size=8)  # gamma
    weights[4] = rng.normal(size=8)  # moving mean
    weights[5] = rng.uniform(0.5, 2.0, size=8)  # moving variance
    model.set_weights(weights)
    return model


def test_autocorrelation_hand_worked() -> None:
    # g = [1, 2, 3, 4]: deviations [-1.5, -0.5, 0.5, 1.5], sum of squares 5;
    # lag 1: 0.75 - 0.25 + 0.75 = 1.25 -> 0.25; lag 2: -0.75 - 0.75 = -1.5 -> -0.3.
    np.testing.assert_allclose(autocorrelation([1, 2, 3, 4], max_lag=2), [1.0, 0.25, -0.3])


def test_autocorrelation_matches_the_definition() -> None:
    g = np.random.default_rng(1).normal(size=50).cumsum()
    dev = g - g.mean()
    expected = [sum(dev[i] * dev[i + k] for i in range(g.size - k)) / (dev @ dev) for k in range(6)]
    np.testing.assert_allclose(autocorrelation(g, max_lag=5), expected, rtol=1e-12)


def test_autocorrelation_tells_brown_from_white_noise() -> None:
    rng = np.random.default_rng(2)
    white = rng.normal(size=4096)
    assert abs(autocorrelation(white)[1]) < 3 / math.sqrt(white.size)
    assert autocorrelation(white.cumsum())[1] > 0.95


def test_autocorrelation_of_a_constant_is_undefined() -> None:
    assert np.isnan(autocorrelation(np.full(10, 0.1), max_lag=3)).all()
    assert np.isnan(autocorrelation(np.zeros(5))).all()


def test_gradient_matches_finite_differences() -> None:
    model = smooth_model()
    out = flow.gradient_correlation(model, GRID, max_lag=3)
    h = 1e-6
    up = model.predict(GRID[:, None] + h, verbose=0)[:, 0]
    down = model.predict(GRID[:, None] - h, verbose=0)[:, 0]
    fd = (up - down) / (2 * h)
    np.testing.assert_allclose(out["gradient"], fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(out["acf"], autocorrelation(fd, max_lag=3), atol=1e-6)
    assert out["autocorrelation"] == out["acf"][1]
    np.testing.assert_array_equal(out["x"], GRID)


def test_gradient_matches_torch_autograd() -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    model = smooth_model()
    w = [torch.tensor(a, dtype=torch.float64) for a in model.get_weights()]
    x = torch.tensor(GRID[:, None], requires_grad=True)
    h = torch.tanh(x @ w[0] + w[1])
    h = w[2] * (h - w[4]) / torch.sqrt(w[5] + 1e-3) + w[3]
    inner = F.softplus(F.gelu(h @ w[6] + w[7]) @ w[8] + w[9])
    h = F.silu(h + inner)
    (h @ w[10] + w[11]).sum().backward()
    out = flow.gradient_correlation(model, GRID)
    np.testing.assert_allclose(out["gradient"], x.grad.numpy()[:, 0], rtol=1e-10, atol=1e-12)


def test_float32_model_and_column_grid() -> None:
    model = smooth_model("float32")
    out = flow.gradient_correlation(model, GRID[:, None].astype(np.float32))
    ref = flow.gradient_correlation(smooth_model(), GRID)
    assert out["gradient"].dtype == np.float64
    np.testing.assert_allclose(out["gradient"], ref["gradient"], rtol=1e-4, atol=1e-5)


def test_bad_input() -> None:
    model = smooth_model()
    with pytest.raises(ValueError, match="strictly increasing"):
        flow.gradient_correlation(model, GRID[::-1])
    with pytest.raises(ValueError, match="evenly spaced"):
        flow.gradient_correlation(model, np.array([0.0, 0.1, 0.3, 0.4]))
    with pytest.raises(ValueError, match="1-D grid"):
        flow.gradient_correlation(model, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least 3"):
        flow.gradient_correlation(model, [0.0, 1.0])
    with pytest.raises(ValueError, match="max_lag"):
        flow.gradient_correlation(model, GRID, max_lag=0)
    with pytest.raises(ValueError, match="max_lag \\+ 2"):
        flow.gradient_correlation(model, GRID[:4], max_lag=3)
    with pytest.raises(ValueError, match="finite"):
        flow.gradient_correlation(model, np.array([0.0, np.nan, 1.0]))
    with pytest.raises(TypeError, match="numeric"):
        flow.gradient_correlation(model, ["a", "b", "c"])
    with pytest.raises(TypeError, match="numeric"):
        autocorrelation(["a", "b", "c"])
    with pytest.raises(ValueError, match="1-D"):
        autocorrelation(np.zeros((3, 3)))
    uncompiled = Sequential([Dense(1, input_dim=1)])
    with pytest.raises(ValueError, match="compile"):
        flow.gradient_correlation(uncompiled, GRID)
    wide_in = Sequential([Dense(1, input_dim=2)])
    wide_in.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="1 input feature"):
        flow.gradient_correlation(wide_in, GRID)
    wide_out = Sequential([Dense(2, input_dim=1)])
    wide_out.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="one output unit"):
        flow.gradient_correlation(wide_out, GRID)
