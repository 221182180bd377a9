"""Registries are complete: every activation has all its facts, every layer kind its parts.

An activation added to the C++ table but not to ``activations.REGISTRY`` (or
the other way round), an entry without its theory, histogram or saturation
facts, or a layer kind without a native spec or a Jacobian fails here, before
a report raises on it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vgp_native import _core, activations, initializers, ops
from vgp_native.activations import REGISTRY, ActivationFacts
from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Layer, Residual
from vgp_native.layers.base import layer_classes

NAMES = list(REGISTRY)
ELEMENTWISE = [name for name in NAMES if REGISTRY[name].elementwise]
# Away from 0, where relu-family derivatives have their kink.
X = np.concatenate([np.linspace(-6.0, -0.05, 40), np.linspace(0.05, 6.0, 40)])


def test_registry_and_native_table_name_the_same_activations() -> None:
    assert set(REGISTRY) == set(_core.ACTIVATION_CODES)
    assert activations.ACTIVATIONS == _core.ACTIVATION_CODES
    assert [f.code for f in REGISTRY.values()] == sorted(_core.ACTIVATION_CODES.values())


@pytest.mark.parametrize("name", NAMES)
def test_every_fact_is_given(name: str) -> None:
    facts = REGISTRY[name]
    fields = {f.name for f in dataclasses.fields(ActivationFacts)}
    assert fields == {
        "name", "family", "hist_range", "output_bounds", "saturation_bounds", "critical_init",
        "phi", "dphi", "phi0", "kappa0", "kappa_inf", "homogeneous", "rising", "dies",
    }  # fmt: skip
    assert facts.name == name and facts.family in activations.FAMILIES
    lo, hi = facts.hist_range
    assert lo < hi
    if facts.output_bounds is not None:
        assert facts.output_bounds[0] < facts.output_bounds[1]
        assert (lo, hi) == facts.output_bounds  # the histogram covers the whole output
    if facts.saturation_bounds is not None:
        assert facts.saturation_bounds == facts.output_bounds
    if facts.critical_init is not None:
        initializers.get(facts.critical_init.split()[0])  # names a real initializer
    if facts.elementwise:
        assert callable(facts.phi) and callable(facts.dphi)
        for value in (facts.phi0, facts.kappa0, facts.kappa_inf):
            assert np.isfinite(value) and value >= 0.0
        # "dies": the derivative is exactly zero on the whole off side, nowhere else.
        x = -np.logspace(-3, 2, 50)
        assert facts.dies == bool(np.all(facts.dphi(x) == 0.0))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_numpy_phi_and_derivative_are_the_native_ones(name: str) -> None:
    facts = REGISTRY[name]
    y = ops.activation_forward(X[None, :], name)[0]
    dy = ops.activation_backward(X[None, :], y[None, :], np.ones((1, X.size)), name)[0]
    np.testing.assert_allclose(facts.phi(X), y, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(facts.dphi(X), dy, rtol=1e-12, atol=1e-14)
    assert facts.phi(np.zeros(1))[0] == pytest.approx(facts.phi0, abs=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_mean_field_limits_follow_from_phi(name: str) -> None:
    facts = REGISTRY[name]
    eps = 1e-9
    kappa0 = (facts.dphi(np.array([eps]))[0] ** 2 + facts.dphi(np.array([-eps]))[0] ** 2) / 2
    assert kappa0 == pytest.approx(facts.kappa0, rel=1e-6)
    big = 40.0
    kappa_inf = (facts.dphi(np.array([big]))[0] ** 2 + facts.dphi(np.array([-big]))[0] ** 2) / 2
    assert kappa_inf == pytest.approx(facts.kappa_inf, rel=1e-6, abs=1e-12)
    if facts.homogeneous:
        np.testing.assert_allclose(facts.phi(3.0 * X), 3.0 * facts.phi(X), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_families_and_bounds_are_what_the_native_statistics_count(name: str) -> None:
    facts = REGISTRY[name]
    # Pre-activations deep in both tails: saturating units saturate, and a
    # column that is negative for every row is a dead unit of the relu family.
    z = np.array([[-30.0, 30.0, -30.0], [30.0, -30.0, -30.0]])
    y = ops.activation_forward(z, name)
    stats = ops.activation_stats(y, name)
    assert (stats["saturated"] > 0) == (facts.saturation_bounds is not None)
    assert (stats["dead"] > 0) == (facts.family == "relu")
    if facts.output_bounds is not None:
        assert stats["bin_edges"][0] == facts.output_bounds[0]
        assert stats["bin_edges"][-1] == facts.output_bounds[1]


def test_family_sets_are_read_from_the_registry() -> None:
    assert {n for n in NAMES if REGISTRY[n].family == "relu"} == activations.RELU_FAMILY
    assert {n for n in NAMES if REGISTRY[n].family == "saturating"} == activations.SATURATING


# -- layer kinds --------------------------------------------------------------------------

#: One small built example of each layer kind (a new kind needs an entry here).
EXAMPLES = {
    "Dense": lambda: Dense(3, activation="tanh"),
    "Activation": lambda: Activation("swish"),
    "BatchNormalization": lambda: BatchNormalization(),
    "Residual": lambda: Residual([Dense(3, activation="relu")], activation="elu"),
    "Dropout": lambda: Dropout(0.5),
}


def test_layer_kinds_are_the_native_ones() -> None:
    classes = layer_classes()
    assert set(classes) == set(EXAMPLES)
    assert {cls.native_kind for cls in classes.values()} == set(_core.LAYER_KINDS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_layer_kind_has_its_spec_jacobian_and_traits(name: str) -> None:
    cls = layer_classes()[name]
    assert cls.jacobian is not Layer.jacobian, f"{name} has no Jacobian"
    layer = EXAMPLES[name]()
    layer.build(4, np.random.default_rng(0), np.float64)
    spec = layer.native_spec()
    assert spec["kind"] == cls.native_kind in _core.LAYER_KINDS
    assert isinstance(layer.normalizes, bool) and isinstance(layer.stochastic, bool)
    x = np.random.default_rng(1).normal(size=(5, 4))
    y, jac = layer.jacobian(x)
    assert y.shape == (5, layer.output_dim) and jac.shape == (5, layer.output_dim, 4)


def test_a_layer_kind_without_a_jacobian_says_so() -> None:
    with pytest.raises(TypeError, match="no Jacobian for layer"):
        Layer(name="bare").jacobian(np.zeros((1, 2)))
