"""Mean-field theory against an independent trapezoid-rule fixed-point iteration."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from vgp_native.flow import theory

Branch = Callable[[np.ndarray], np.ndarray]
LAMBDA, ALPHA = 1.0507009873554805, 1.6732632423543772  # SELU (Klambauer et al. 2017)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_erf = np.vectorize(math.erf, otypes=[float])

# Each activation as (branch for x >= 0, branch for x <= 0), each branch analytic,
# so the reference integrates the two half-lines separately and never straddles a kink.
REFERENCE: dict[str, tuple[Branch, Branch]] = {
    "linear": (lambda x: x, lambda x: x),
    "sigmoid": (_sigmoid, _sigmoid),
    "tanh": (np.tanh, np.tanh),
    "relu": (lambda x: x, np.zeros_like),
    "leaky_relu": (lambda x: x, lambda x: 0.2 * x),
    "elu": (lambda x: x, lambda x: np.exp(x) - 1.0),
    "selu": (lambda x: LAMBDA * x, lambda x: LAMBDA * ALPHA * (np.exp(x) - 1.0)),
    "gelu": ((g := lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))), g),
    "softplus": (lambda x: np.log1p(np.exp(x)), lambda x: np.log1p(np.exp(x))),
    "swish": (lambda x: x * _sigmoid(x), lambda x: x * _sigmoid(x)),
}

# The trapezoid rule on each half-line: its error is O(h^2) times the jump of the
# integrand's slope at z = 0 (Euler-Maclaurin), so the kinked activations get a fine
# grid; for smooth integrands it converges geometrically and a coarse one suffices.
_KINKED = {"relu", "leaky_relu", "elu", "selu"}


def _grid(name: str) -> tuple[np.ndarray, np.ndarray]:
    step = 2e-4 if name in _KINKED else 4e-3
    z = np.linspace(0.0, 12.0, round(12.0 / step) + 1)
    return z, np.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)


def _derivative(branch: Branch) -> Branch:
    step = 1e-5
    return lambda x: (branch(x + step) - branch(x - step)) / (2 * step)


def _expect_square(name: str, q: float, derivative: bool = False) -> float:
    """E[f(sqrt(q) z)^2], z ~ N(0, 1), by the trapezoid rule on each half-line."""
    right, left = REFERENCE[name]
    if derivative:
        right, left = _derivative(right), _derivative(left)
    z, pdf = _grid(name)
    x = math.sqrt(q) * z
    return float(np.trapezoid(right(x) ** 2 * pdf, z) + np.trapezoid(left(-x) ** 2 * pdf, z))


def _reference(name: str, sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    """q* by plain fixed-point iteration of the length map from q = 1, then chi1."""
    q = 1.0
    for _ in range(5000):
        new = sigma_w2 * _expect_square(name, q) + sigma_b2
        if abs(new - q) <= 1e-13 * new:
            break
        q = new
    else:
        raise AssertionError(f"the reference iteration did not converge for {name}")
    return new, sigma_w2 * _expect_square(name, new, derivative=True)


@pytest.mark.parametrize(
    ("name", "sigma_w2", "sigma_b2"),
    [
        ("linear", 0.5, 0.2),
        ("sigmoid", 1.0, 0.0),
        ("sigmoid", 2.0, 0.5),
        ("tanh", 1.5, 0.1),
        ("tanh", 2.5, 0.0),
        ("relu", 1.5, 0.5),
        ("leaky_relu", 1.0, 0.2),
        ("elu", 1.5, 0.3),
        ("selu", 0.7, 0.1),
        ("selu", 1.0, 0.0),
        ("gelu", 1.5, 0.3),
        ("softplus", 1.0, 0.2),
        ("swish", 2.0, 0.05),
        # Just above sigma_w2 = 2 the length map of swish grows at infinity, yet it has
        # a stable fixed point above q = 1: q* must be finite.
        ("swish", 2.0002, 0.4),
    ],
)
def test_mean_field_matches_independent_integration(
    name: str, sigma_w2: float, sigma_b2: float
) -> None:
    q_ref, chi1_ref = _reference(name, sigma_w2, sigma_b2)
    result = theory.mean_field(name, sigma_w2, sigma_b2)
    assert set(result) == {"q_star", "chi1", "depth_scale", "trainable_depth"}
    assert result["q_star"] == pytest.approx(q_ref, rel=1e-7)
    assert result["chi1"] == pytest.approx(chi1_ref, rel=1e-7)
    assert result["depth_scale"] == pytest.approx(1 / abs(math.log(chi1_ref)), rel=1e-6)
    assert result["trainable_depth"] == pytest.approx(6 * result["depth_scale"], rel=1e-15)


def test_gelu_fixed_point_hidden_above_one_is_found_and_stable() -> None:
    # As for swish above: sigma_w2 * kappa_inf = 1.0001 > 1, yet q* is finite.
    sigma_w2, sigma_b2 = 2.0002, 0.15
    q_star = theory.mean_field("gelu", sigma_w2, sigma_b2)["q_star"]
    assert 1.0 < q_star < 2.0

    def length_map(q: float) -> float:
        return sigma_w2 * _expect_square("gelu", q) + sigma_b2

    assert length_map(q_star) == pytest.approx(q_star, rel=1e-9)
    assert 0.99 * q_star < length_map(0.99 * q_star) < q_star  # pulled up
    assert q_star < length_map(1.01 * q_star) < 1.01 * q_star  # and down: stable


# --------------------------------------------------------------- values to remember


def test_sigmoid_with_glorot_loses_three_quarters_of_the_gradient_per_layer() -> None:
    result = theory.mean_field("sigmoid", 1.0)
    assert result["chi1"] == pytest.approx(0.056, abs=5e-4)  # DESIGN.md: 0.056
    assert theory.gradient_factor("sigmoid", 1.0) == pytest.approx(0.24, abs=5e-3)
    assert result["trainable_depth"] < 3


def test_relu_with_he_is_critical() -> None:
    result = theory.mean_field("relu", 2.0)
    assert result["chi1"] == 1.0
    assert result["depth_scale"] == math.inf and result["trainable_depth"] == math.inf
    assert math.isnan(result["q_star"])  # every q is a fixed point of q -> q
    assert theory.mean_field("relu", 2.0, 0.1)["q_star"] == math.inf  # q grows by 0.1 a layer


@pytest.mark.parametrize("sigma_w2", [0.5, 1.0, 1.9, 2.0, 3.0])
@pytest.mark.parametrize("sigma_b2", [0.0, 0.3])
def test_homogeneous_activations_in_closed_form(sigma_w2: float, sigma_b2: float) -> None:
    for name, kappa in [("relu", 0.5), ("leaky_relu", 0.52), ("linear", 1.0)]:
        result = theory.mean_field(name, sigma_w2, sigma_b2)
        assert result["chi1"] == pytest.approx(sigma_w2 * kappa, rel=1e-15)  # any q
        rate = sigma_w2 * kappa
        if rate < 1:
            assert result["q_star"] == pytest.approx(sigma_b2 / (1 - rate), rel=1e-14)
        elif rate > 1:
            assert result["q_star"] == math.inf


def test_tanh_phases() -> None:
    critical = theory.mean_field("tanh", 1.0, 0.0)
    assert critical["chi1"] == pytest.approx(1.0, abs=1e-12)
    assert critical["q_star"] == 0.0 and critical["depth_scale"] == math.inf
    ordered = theory.mean_field("tanh", 0.5, 0.0)
    chaotic = theory.mean_field("tanh", 2.5, 0.0)
    assert math.log(ordered["chi1"]) < 0 < math.log(chaotic["chi1"])
    assert ordered["q_star"] == 0.0 and ordered["chi1"] == pytest.approx(0.5)
    assert chaotic["q_star"] > 0.5
    # With bias noise the edge of chaos moves to larger sigma_w2 (Poole et al. 2016).
    assert theory.mean_field("tanh", 1.0, 0.05)["chi1"] < 1.0


def test_selu_with_lecun_has_the_self_normalizing_fixed_point() -> None:
    result = theory.mean_field("selu", 1.0)
    assert result["q_star"] == pytest.approx(1.0, abs=1e-12)  # Klambauer et al. 2017


@pytest.mark.parametrize(
    ("name", "sigma_w2", "chi1"),
    [("relu", 2.5, 1.25), ("linear", 1.5, 1.5), ("elu", 2.5, 1.25), ("selu", 2.0, LAMBDA**2)],
)
def test_runaway_length_map_gives_infinite_q(name: str, sigma_w2: float, chi1: float) -> None:
    result = theory.mean_field(name, sigma_w2)
    assert result["q_star"] == math.inf
    assert result["chi1"] == pytest.approx(chi1, rel=1e-12)  # limit of phi'^2: half the slope^2


@pytest.mark.parametrize("name", ["elu", "softplus"])
def test_critical_unbounded_activations_drift_to_infinity(name: str) -> None:
    # sigma_w2 = 2: the length map grows like q + c with c > 0, so q* = inf, chi1 -> 1.
    result = theory.mean_field(name, 2.0)
    assert result["q_star"] == math.inf and result["chi1"] == pytest.approx(1.0)


def test_collapse_to_zero_uses_the_slope_at_zero() -> None:
    assert theory.mean_field("relu", 1.0)["q_star"] == 0.0
    gelu = theory.mean_field("gelu", 1.0)
    assert gelu["q_star"] == 0.0 and gelu["chi1"] == pytest.approx(0.25)  # gelu'(0) = 1/2
    elu = theory.mean_field("elu", 0.8)
    assert elu["q_star"] == 0.0 and elu["chi1"] == pytest.approx(0.8)


def test_elu_just_below_criticality_has_a_large_finite_fixed_point() -> None:
    q_star = theory.mean_field("elu", 2.0 - 1e-6)["q_star"]
    # For large q, E[elu(x)^2] = q / 2 + 1/2 + O(1 / sqrt(q)): q* = (1 - 5e-7) / 5e-7 roughly.
    assert 1e6 < q_star < 4e6


def test_predicted_decay() -> None:
    chi1 = theory.mean_field("sigmoid", 1.0)["chi1"]
    decay = theory.predicted_decay("sigmoid", 1.0, depth=8)
    assert decay.shape == (8,) and decay.dtype == np.float64
    assert decay[-1] == 1.0
    np.testing.assert_allclose(decay[:-1] / decay[1:], math.sqrt(chi1), rtol=1e-12)
    assert decay[0] == pytest.approx(chi1**3.5, rel=1e-12)
    np.testing.assert_allclose(theory.predicted_decay("relu", 2.0, depth=5), 1.0)
    assert theory.predicted_decay("tanh", 2.5, 0.0, depth=1).tolist() == [1.0]


@pytest.mark.parametrize(
    ("init", "fan_in", "fan_out", "expected"),
    [
        ("glorot_uniform", 10, 10, 1.0),
        ("glorot_normal", 10, 10, 1.0),
        ("he_normal", 10, 10, 2.0),
        ("he_uniform", 7, 3, 2.0),
        ("lecun_normal", 5, 50, 1.0),
        ("glorot_uniform", 2, 10, 2 * 2 / 12),
        ("orthogonal", 16, 4, 1.0),
        ("orthogonal", 4, 16, 0.25),
        ("random_normal", 100, 3, 100 * 0.05**2),
        ("zeros", 4, 4, 0.0),
    ],
)
def test_sigma_w2_for(init: str, fan_in: int, fan_out: int, expected: float) -> None:
    assert theory.sigma_w2_for(init, fan_in, fan_out) == pytest.approx(expected, rel=1e-12)


def test_sigma_w2_for_feeds_mean_field() -> None:
    sigma_w2 = theory.sigma_w2_for("glorot_uniform", 10, 10)
    assert theory.mean_field("sigmoid", sigma_w2)["chi1"] == pytest.approx(0.0557, abs=1e-4)


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: theory.mean_field("sigmoidal", 1.0), ValueError, "Unknown activation"),
        (lambda: theory.mean_field("softmax", 1.0), ValueError, "activation='softmax'"),
        (lambda: theory.mean_field(3, 1.0), TypeError, "activation"),
        (lambda: theory.mean_field("tanh", 0.0), ValueError, "sigma_w2 must be > 0"),
        (lambda: theory.mean_field("tanh", -1.0), ValueError, "sigma_w2 must be > 0"),
        (lambda: theory.mean_field("tanh", math.inf), ValueError, "sigma_w2 must be finite"),
        (lambda: theory.mean_field("tanh", "1"), TypeError, "sigma_w2 must be a number"),
        (lambda: theory.mean_field("tanh", 1.0, -0.1), ValueError, "sigma_b2 must be >= 0"),
        (lambda: theory.gradient_factor("relu", 0.0), ValueError, "sigma_w2"),
        (lambda: theory.predicted_decay("relu", 2.0, depth=0), ValueError, "depth must be >= 1"),
        (lambda: theory.predicted_decay("relu", 2.0, depth=2.0), TypeError, "depth"),
        (lambda: theory.sigma_w2_for("ones", 4, 4), ValueError, "zero-mean weights"),
        (lambda: theory.sigma_w2_for("glorot_uniform", 0, 4), ValueError, "fan_in must be >= 1"),
        (lambda: theory.sigma_w2_for("nope", 4, 4), ValueError, "Unknown initializer"),
        (lambda: theory.sigma_w2_for(np.zeros, 4, 4), TypeError, "no moments"),
    ],
)
def test_errors(call: Callable[[], object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()
