"""The mean-field prediction next to the measured per-layer decay."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flow_nets import seed_network
from vgp_native import flow
from vgp_native.datasets import make_moons
from vgp_native.initializers import RandomNormal
from vgp_native.layers import BatchNormalization, Dense, Residual
from vgp_native.models import Sequential


def wide(activation: str, init: object, width: int = 256, depth: int = 10) -> Sequential:
    return seed_network(0, "plain", activation, init, depth, width, "sgd")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_moons(n_samples=256, noise=0.05, random_state=0)


@pytest.mark.parametrize(
    ("activation", "init", "sigma_w2", "factor"),
    [
        ("sigmoid", "glorot_uniform", 1.0, 0.236),  # chi1 = 0.056: the seed's network
        ("relu", "glorot_uniform", 1.0, math.sqrt(0.5)),  # chi1 = sigma_w^2 / 2
        ("relu", "he_normal", 2.0, 1.0),  # the edge of chaos
        ("tanh", RandomNormal(stddev=math.sqrt(0.5 / 256)), 0.5, math.sqrt(0.5)),
    ],
)
def test_measured_decay_of_a_wide_network_follows_mean_field(
    data, activation, init, sigma_w2, factor
) -> None:
    report = flow.analyze(wide(activation, init), *data, jacobian_samples=0)
    th = report.theory
    assert th is not None
    assert th["activation"] == activation
    assert th["sigma_w2"] == pytest.approx(sigma_w2)
    assert th["predicted_factor"] == pytest.approx(factor, rel=2e-3)
    assert th["hidden_layers"] == 10
    # Measured geometric-mean decay of the backpropagated signal, within 20%.
    assert th["measured_signal_factor"] == pytest.approx(th["predicted_factor"], rel=0.2)
    # The signal decays as predicted even where the kernel gradients do not
    # (relu + glorot: the forward activations shrink at the same rate).
    signal = np.array([row["signal_norm"] for row in report.layers])
    per_layer = signal[:-2] / signal[1:-1]
    assert np.median(per_layer) == pytest.approx(factor, rel=0.2)


def test_seed_network_factor_matches_design(data) -> None:
    """DESIGN.md: sigmoid with glorot has chi1 ~ 0.056, factor ~ 0.24."""
    model = wide("sigmoid", "glorot_uniform", width=10, depth=8)
    th = flow.analyze(model, *data).theory
    assert th["chi1"] == pytest.approx(0.056, abs=5e-4)
    assert th["predicted_factor"] == pytest.approx(0.24, abs=0.005)
    assert th["trainable_depth"] < 8
    # The vanishing finding puts the prediction next to the measured decay.
    vanishing = next(f for f in flow.analyze(model, *data).finding_details if f.kind == "vanishing")
    assert f"chi1 = {th['chi1']:.3g}" in vanishing.evidence
    assert f"sqrt(chi1) = {th['predicted_factor']:.3g}" in vanishing.evidence


def test_theory_is_left_out_where_it_does_not_apply(data) -> None:
    bn = Sequential(seed=0)
    bn.add(Dense(8, input_dim=2))
    bn.add(BatchNormalization())
    bn.add(Dense(8, activation="tanh"))
    bn.add(Dense(8, activation="tanh"))
    bn.add(Dense(1, activation="sigmoid"))
    bn.compile(loss="binary_crossentropy", optimizer="adam")
    res = Sequential(seed=0)
    res.add(Dense(8, activation="tanh", input_dim=2))
    res.add(Residual([Dense(8, activation="tanh")]))
    res.add(Dense(8, activation="tanh"))
    res.add(Dense(1, activation="sigmoid"))
    res.compile(loss="binary_crossentropy", optimizer="adam")
    mixed = Sequential(seed=0)
    mixed.add(Dense(8, activation="tanh", input_dim=2))
    mixed.add(Dense(8, activation="relu"))
    mixed.add(Dense(8, activation="tanh"))
    mixed.add(Dense(1, activation="sigmoid"))
    mixed.compile(loss="binary_crossentropy", optimizer="adam")
    for model in (bn, res, mixed):
        report = flow.analyze(model, *data)
        assert report.theory is None
        assert "mean field" not in str(report)
