"""flow.gradient_correlation: dy/dx along a grid against finite differences and torch, and
its two estimators (along the grid, over the weights of many networks) against their formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vgp_native import flow
from vgp_native.flow.correlation import autocorrelation, correlation_over_weights
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


def test_correlation_over_weights_hand_worked() -> None:
    # G = [[1, 1, 0], [1, -1, 2]]: C = G^T G / 2 = [[1, 0, 1], [0, 1, -1], [1, -1, 2]];
    # R(0, 1) = 0, R(0, 2) = 1/sqrt(2), R(1, 2) = -1/sqrt(2); the mean over the six ordered
    # pairs is 0; lag 1 averages R(0, 1) and R(1, 2); the mean variance is 4/3.
    out = correlation_over_weights([[1, 1, 0], [1, -1, 2]], max_lag=2)
    np.testing.assert_allclose(out["covariance"], [[1, 0, 1], [0, 1, -1], [1, -1, 2]])
    h = 1 / math.sqrt(2)
    np.testing.assert_allclose(out["correlation"], [[1, 0, h], [0, 1, -h], [h, -h, 1]])
    np.testing.assert_allclose(out["acf"], [1.0, -h / 2, h])
    assert out["autocorrelation"] == out["acf"][1]
    assert out["mean_correlation"] == pytest.approx(0.0, abs=1e-15)
    assert out["variance"] == pytest.approx(4 / 3)


def test_correlation_over_weights_matches_the_definition() -> None:
    G = np.random.default_rng(4).normal(size=(7, 12)).cumsum(axis=1)
    out = correlation_over_weights(G, max_lag=3)
    n = G.shape[1]
    cov = [[np.mean(G[:, i] * G[:, j]) for j in range(n)] for i in range(n)]
    corr = [[cov[i][j] / math.sqrt(cov[i][i] * cov[j][j]) for j in range(n)] for i in range(n)]
    np.testing.assert_allclose(out["covariance"], cov, rtol=1e-12)
    np.testing.assert_allclose(out["correlation"], corr, rtol=1e-12)
    lags = [np.mean([corr[i][i + k] for i in range(n - k)]) for k in range(4)]
    np.testing.assert_allclose(out["acf"], lags, rtol=1e-12)
    pairs = [corr[i][j] for i in range(n) for j in range(n) if i != j]
    assert out["mean_correlation"] == pytest.approx(np.mean(pairs), rel=1e-12)


def test_correlation_over_weights_undefined_points() -> None:
    G = np.array([[1.0, 0.0, 2.0], [3.0, 0.0, -1.0]])  # every network flat at point 1
    out = correlation_over_weights(G)
    assert np.isnan(out["correlation"][1]).all()
    # Only the pair (0, 2) is defined: C = [[5, -0.5], [-0.5, 2.5]].
    assert out["mean_correlation"] == pytest.approx(-0.5 / math.sqrt(5 * 2.5))
    assert np.isnan(out["autocorrelation"])
    bad = correlation_over_weights(np.array([[1.0, np.inf, 0.0], [1.0, 2.0, 3.0]]))
    assert np.isnan(bad["correlation"]).all() and math.isnan(bad["mean_correlation"])


def ensemble(dtype: str = "float64") -> list[Sequential]:
    """Three relu networks with random biases, one input, one output."""
    models = []
    for seed in range(3):
        model = Sequential(seed=seed, dtype=dtype)
        model.add(Dense(16, activation="relu", bias_initializer="he_normal", input_dim=1))
        model.add(Dense(16, activation="relu", bias_initializer="he_normal"))
        model.add(Dense(1))
        model.compile(loss="mse", optimizer="sgd")
        models.append(model)
    return models


def test_over_weights_matches_finite_differences() -> None:
    models = ensemble()
    out = flow.gradient_correlation(models, GRID, max_lag=2, over="weights")
    h = 1e-6
    fd = np.stack(
        [
            (m.predict(GRID[:, None] + h, verbose=0) - m.predict(GRID[:, None] - h, verbose=0))[
                :, 0
            ]
            / (2 * h)
            for m in models
        ]
    )
    np.testing.assert_allclose(out["gradient"], fd, rtol=1e-5, atol=1e-7)
    ref = correlation_over_weights(fd, max_lag=2)
    for key in ("covariance", "correlation", "acf"):
        np.testing.assert_allclose(out[key], ref[key], rtol=1e-5, atol=1e-7)
    assert out["mean_correlation"] == pytest.approx(ref["mean_correlation"], rel=1e-5)
    np.testing.assert_array_equal(out["x"], GRID)
    # Each row is the grid estimator's gradient of that model.
    np.testing.assert_array_equal(
        out["gradient"][1], flow.gradient_correlation(models[1], GRID)["gradient"]
    )


def test_over_weights_of_linear_networks_is_fully_correlated() -> None:
    # A linear network's gradient is one constant per network: R(i, j) = 1 for every pair.
    models = []
    for seed in range(4):
        model = Sequential([Dense(5, input_dim=1), Dense(1)], seed=seed, dtype="float64")
        model.compile(loss="mse", optimizer="sgd")
        models.append(model)
    out = flow.gradient_correlation(models, GRID, over="weights")
    np.testing.assert_allclose(out["correlation"], 1.0, rtol=1e-12)
    assert out["mean_correlation"] == pytest.approx(1.0)
    slopes = np.array([m.predict(np.array([[1.0]]), verbose=0)[0, 0] for m in models])
    slopes -= np.array([m.predict(np.array([[0.0]]), verbose=0)[0, 0] for m in models])
    assert out["variance"] == pytest.approx(np.mean(slopes**2), rel=1e-10)


def test_over_bad_input() -> None:
    models = ensemble()
    with pytest.raises(ValueError, match="over must be 'grid' or 'weights'"):
        flow.gradient_correlation(models[0], GRID, over="pairs")
    with pytest.raises(TypeError, match="over='weights'"):
        flow.gradient_correlation(models, GRID)
    with pytest.raises(TypeError, match="at least 2 models"):
        flow.gradient_correlation(models[0], GRID, over="weights")
    with pytest.raises(TypeError, match="of length 1"):
        flow.gradient_correlation(models[:1], GRID, over="weights")
    wide = Sequential([Dense(2, input_dim=2)])
    wide.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match=r"model\[3\] must take 1 input feature"):
        flow.gradient_correlation([*models, wide], GRID, over="weights")
    with pytest.raises(ValueError, match=r"max\(max_lag \+ 1, 2\) = 4"):
        correlation_over_weights(np.zeros((2, 3)), max_lag=3)
    with pytest.raises(ValueError, match=r"shape \(networks >= 2"):
        correlation_over_weights(np.zeros((1, 5)))
    with pytest.raises(TypeError, match="numeric"):
        correlation_over_weights([["a", "b", "c"], ["d", "e", "f"]])


def test_over_weights_counts_each_output_unit_as_a_draw() -> None:
    # A 3-unit output layer is three scalar networks sharing the hidden layers: unit k's
    # gradient is that of the network whose output layer is kernel column k.
    many = Sequential(seed=5, dtype="float64")
    many.add(Dense(8, activation="relu", bias_initializer="he_normal", input_dim=1))
    many.add(Dense(3))
    many.compile(loss="mse", optimizer="sgd")
    kernel, bias, out_kernel, out_bias = many.get_weights()
    singles = []
    for k in range(3):
        one = Sequential([Dense(8, activation="relu", input_dim=1), Dense(1)], dtype="float64")
        one.compile(loss="mse", optimizer="sgd")
        one.set_weights([kernel, bias, out_kernel[:, k : k + 1], out_bias[k : k + 1]])
        singles.append(one)
    pooled = flow.gradient_correlation([many, singles[0]], GRID, over="weights")
    assert pooled["gradient"].shape == (4, GRID.size)
    for k, one in enumerate(singles):
        np.testing.assert_allclose(
            pooled["gradient"][k], flow.gradient_correlation(one, GRID)["gradient"], rtol=1e-12
        )
    np.testing.assert_array_equal(pooled["gradient"][3], pooled["gradient"][0])
    with pytest.raises(ValueError, match=r"must have one output unit.*over='weights'"):
        flow.gradient_correlation(many, GRID)
