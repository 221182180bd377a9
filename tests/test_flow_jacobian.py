"""Jacobian spectra against finite differences and numpy's SVD (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vgp_native import flow
from vgp_native.flow.jacobian import spectrum_summary
from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Residual
from vgp_native.models import Sequential


def mixed_model() -> Sequential:
    """Every layer kind, with non-trivial batch-norm moving statistics."""
    model = Sequential(seed=1, dtype="float64")
    model.add(Dense(6, input_dim=3))
    model.add(BatchNormalization())
    model.add(Activation("tanh"))
    model.add(
        Residual(
            [Dense(6, activation="gelu"), Dropout(0.3), Dense(6, activation="swish")],
            activation="elu",
        )
    )
    model.add(Residual([Dense(4, activation="selu")], activation="softplus"))
    model.add(Dense(5, activation="leaky_relu"))
    model.add(Dense(3, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    weights = model.get_weights()
    rng = np.random.default_rng(0)
    weights[3] = rng.normal(size=6)  # beta
    weights[4] = rng.normal(size=6)  # moving mean
    weights[5] = rng.uniform(0.5, 2.0, size=6)  # moving variance
    model.set_weights(weights)
    return model


def finite_difference_jacobian(model: Sequential, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    n, d = x.shape
    jac = np.zeros((n, model.output_dim, d))
    for i in range(d):  # loop over input features, not samples
        e = np.zeros(d)
        e[i] = h
        up = model.predict(x + e, verbose=0)
        down = model.predict(x - e, verbose=0)
        jac[:, :, i] = (up - down) / (2 * h)
    return jac


def test_input_output_jacobian_matches_finite_differences() -> None:
    model = mixed_model()
    x = np.random.default_rng(2).normal(size=(7, 3))
    jac = flow.input_output_jacobian(model, x)
    fd = finite_difference_jacobian(model, x)
    assert jac.shape == (7, 3, 3)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-8)
    # Singular values against numpy's SVD of the finite-difference Jacobian.
    report = flow.jacobian_report(model, x, samples=7)
    sv_fd = np.sort(np.linalg.svd(fd, compute_uv=False).ravel())[::-1]
    np.testing.assert_allclose(report["input_output"]["singular_values"], sv_fd, atol=1e-8)


def test_segment_jacobians_multiply_to_the_input_output_jacobian() -> None:
    model = mixed_model()
    x = np.random.default_rng(3).normal(size=(5, 3))
    segments = flow.segment_jacobians(model, x)
    assert [name for name, _, _ in segments] == [
        layer.name for layer in model.layers if layer.has_kernel() or layer.sublayers()
    ]
    assert [rows for _, rows, _ in segments] == [[0], [1, 2], [3], [4], [5]]
    product = None
    for _, _, jac in segments:
        product = jac if product is None else jac @ product
    np.testing.assert_allclose(product, flow.input_output_jacobian(model, x), atol=1e-12)
    # Each segment against finite differences of its own map: the first segment
    # (Dense -> BatchNormalization -> tanh) in isolation.
    first = Sequential(
        dtype="float64", layers=[Dense(6, input_dim=3), BatchNormalization(), Activation("tanh")]
    )
    first.set_weights(model.get_weights()[:6])
    np.testing.assert_allclose(segments[0][2], finite_difference_jacobian(first, x), atol=1e-8)


def test_layer_spectra_in_the_report() -> None:
    model = mixed_model()
    x = np.random.default_rng(4).normal(size=(9, 3))
    report = flow.jacobian_report(model, x, samples=6)
    assert report["samples"] == 6 and report["mode"] == "infer"
    layers = report["layers"]
    assert [entry["shape"] for entry in layers] == [[6, 3], [6, 6], [4, 6], [5, 4], [3, 5]]
    for entry, (_, _, jac) in zip(layers, flow.segment_jacobians(model, x[:6]), strict=True):
        sv = np.linalg.svd(jac, compute_uv=False).ravel()
        assert entry["mean_sq"] == pytest.approx(np.mean(sv**2), rel=1e-10)
        assert entry["count"] == sv.size
    # softmax loses one direction per sample: a zero singular value out of three
    assert layers[-1]["zero_fraction"] == pytest.approx(1 / 3)


def test_spectrum_summary_formulas() -> None:
    ones = spectrum_summary(np.ones(5))
    assert ones["isometry"] == pytest.approx(1.0)
    assert ones["log_std"] == 0.0 and ones["mean_sq"] == 1.0
    spread = spectrum_summary(np.array([math.e, 1 / math.e]))
    assert spread["log_mean"] == pytest.approx(0.0, abs=1e-15)
    assert spread["log_std"] == pytest.approx(1.0)
    assert spread["isometry"] == pytest.approx(math.exp(-1.0))
    scaled = spectrum_summary(np.full(4, 0.1))
    assert scaled["isometry"] == pytest.approx(0.1)  # exp(-|ln 0.1|)
    assert scaled["mean_sq"] == pytest.approx(0.01)
    half_dead = spectrum_summary(np.array([1.0, 1.0, 0.0, 0.0]))
    assert half_dead["zero_fraction"] == 0.5
    assert half_dead["isometry"] == pytest.approx(0.5)
    empty = spectrum_summary(np.array([math.nan]))
    assert empty["count"] == 0 and math.isnan(empty["mean_sq"])


def test_seed_network_is_far_from_isometry() -> None:
    from vgp_native.datasets import make_moons

    x, y = make_moons(n_samples=200, noise=0.05, random_state=0)

    def net(activation: str, init: str) -> Sequential:
        model = Sequential(seed=0)
        model.add(Dense(10, activation=activation, input_dim=2, kernel_initializer=init))
        for _ in range(7):
            model.add(Dense(10, activation=activation, kernel_initializer=init))
        model.add(Dense(1, activation="sigmoid"))
        model.compile(loss="binary_crossentropy", optimizer="adam")
        return model

    sigmoid = flow.analyze(net("sigmoid", "glorot_uniform"), x, y).jacobian
    relu = flow.analyze(net("relu", "he_normal"), x, y).jacobian
    assert sigmoid["input_output"]["mean_sq"] < 1e-8
    assert relu["input_output"]["mean_sq"] > 1e3 * sigmoid["input_output"]["mean_sq"]
    # per-layer mean squared singular values: about chi1 = 0.056 for square sigmoid layers
    inner = [entry["mean_sq"] for entry in sigmoid["layers"][1:-1]]
    assert np.median(inner) == pytest.approx(0.056, rel=0.5)
