"""Mean-field theory of signal propagation in deep random networks.

A wide network with weights ``W ~ (0, sigma_w^2 / fan_in)`` and biases
``b ~ (0, sigma_b^2)`` carries, layer after layer, pre-activations whose
second moment q follows the length map (Poole et al. 2016, "Exponential
expressivity in deep neural networks through transient chaos")::

    q_{l+1} = sigma_w^2 E[phi(sqrt(q_l) z)^2] + sigma_b^2,      z ~ N(0, 1),

which settles at a fixed point q*. Backpropagation multiplies the squared
gradient norm per layer by (Schoenholz et al. 2017, "Deep Information
Propagation")::

    chi1 = sigma_w^2 E[phi'(sqrt(q*) z)^2],

so the gradient norm changes by sqrt(chi1) per layer: chi1 < 1 is the ordered
phase (gradients vanish), chi1 > 1 the chaotic phase (they explode), and
chi1 = 1 the edge of chaos. Signals survive about ``xi = 1 / |ln chi1|``
layers, and Schoenholz et al. found networks train up to about ``6 xi`` layers.

``sigma_w^2 = fan_in * Var(W)``: Glorot on square layers gives 1, He gives 2
(:func:`sigma_w2_for`). A sigmoid network with Glorot weights has chi1 = 0.056:
each layer passes on only sqrt(0.056) = 0.24 of the gradient, the vanishing
gradient problem of the seed document.

The Gaussian expectations use composite Gauss-Legendre quadrature in z on
panels graded geometrically toward z = 0 (down to 1e-16), on each half-line
to |z| = 12. Plain Gauss-Hermite (``hermegauss``) is spectrally accurate only
for smooth integrands: at the kink of relu, leaky_relu, elu and selu it
converges slowly (for selu's E[phi'^2], 2e-4 to 3e-2 relative error with 256
nodes over q = 0.01 .. 30), it slows likewise for tanh, sigmoid, softplus,
swish and gelu once a large q brings their complex singularities near the real
axis, and numpy's ``hermegauss`` overflows beyond about 360 nodes. Splitting at
the kink and grading the panels gives about 1e-15 relative accuracy where
checked (closed forms for relu and elu, adaptive quadrature for tanh, q from
1e-8 to 1e8), and the rule stays well scaled for q from 1e-30 to 1e250, the
range the fixed-point search explores.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.polynomial.legendre import leggauss

from .. import activations as _activations
from .. import initializers as _initializers
from .._validation import check_float, check_int
from ..activations import ActivationFacts

__all__ = ["gradient_factor", "mean_field", "predicted_decay", "sigma_w2_for"]

#: |chi1 - 1| below this counts as critical (depth scale infinite).
CRITICAL_TOL = 1e-12


def _quadrature(nodes_per_panel: int = 32, z_max: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w with sum(w f(z)) = E[f(z)], z ~ N(0, 1), f smooth off z = 0."""
    edges = [0.0, *(10.0**-k for k in range(16, -1, -1)), *np.arange(2.0, z_max + 1.0)]
    t, w = leggauss(nodes_per_panel)
    lo, hi = np.array(edges[:-1])[:, None], np.array(edges[1:])[:, None]
    half_z = ((hi - lo) / 2 * t + (hi + lo) / 2).ravel()
    half_w = ((hi - lo) / 2 * w).ravel() * np.exp(-(half_z**2) / 2) / math.sqrt(2 * math.pi)
    return np.concatenate([-half_z[::-1], half_z]), np.concatenate([half_w[::-1], half_w])


_Z, _W = _quadrature()

#: The activations mean-field theory covers: the elementwise ones of the registry.
ELEMENTWISE: dict[str, ActivationFacts] = {
    name: f for name, f in _activations.REGISTRY.items() if f.elementwise
}


def _activation(name: Any) -> str:
    key = _activations.get(name, "activation")
    if key not in ELEMENTWISE:
        raise ValueError(
            f"activation={key!r} couples the units of a layer; mean-field theory covers "
            f"elementwise activations only: {', '.join(ELEMENTWISE)}"
        )
    return key


def _expect(fn: Callable[[np.ndarray], np.ndarray], q: float) -> float:
    """E[fn(sqrt(q) z)], z ~ N(0, 1)."""
    return float(np.dot(_W, fn(math.sqrt(q) * _Z)))


def _find_q_star(name: str, sigma_w2: float, sigma_b2: float) -> float:
    """The fixed point that q_{l+1} = sigma_w2 V(q_l) + sigma_b2 reaches from q_0 = 1.

    The map is non-decreasing in q for these activations, so the iterates move
    monotonically to the nearest root of F(q) = sigma_w2 V(q) + sigma_b2 - q in
    the direction of F(1): found by doubling or halving q until F changes sign,
    then bisecting. Signs are read from F(q) / q, which stays well scaled.
    """
    facts = ELEMENTWISE[name]
    phi, phi0, kappa_inf = facts.phi, facts.phi0, facts.kappa_inf

    def sign_ratio(q: float) -> float:  # F(q) / q
        return sigma_w2 * _expect(lambda x: phi(x) ** 2, q) / q + sigma_b2 / q - 1.0

    start = sign_ratio(1.0)
    if start == 0.0:
        return 1.0
    if start > 0.0:
        growth = sigma_w2 * kappa_inf - 1.0  # lim F(q) / q as q -> inf
        rising = facts.rising
        if growth > CRITICAL_TOL and not rising:
            return math.inf  # F(q) / q >= growth > 0 for every q: the length map runs away.
        # At the critical growth rate F(q)/q tends to 0 and, once below the rounding
        # noise, cannot show a root: the map then drifts without bound (elu, selu,
        # softplus), so only a clearly negative ratio counts as a root.
        noise = 1e-13 if abs(growth) <= CRITICAL_TOL else 0.0
        lo, hi = 1.0, 2.0
        while (ratio := sign_ratio(hi)) > -noise:
            if (noise > 0.0 and ratio <= noise) or hi > 1e250:
                return math.inf
            if rising and ratio - sigma_b2 / hi > 0.0:
                return math.inf  # sigma_w2 V(q) / q > 1 here and V(q) / q only rises beyond
            lo, hi = hi, 2.0 * hi
    else:
        collapses = phi0 == 0.0 and sigma_b2 == 0.0  # F(0) = 0: q = 0 is a fixed point
        # Below q ~ 1e-14, F(q)/q differs from its limit sigma_w2 kappa0 - 1 by rounding
        # only, so a root is believed only where the ratio is clearly positive.
        noise = 1e-13 if collapses else 0.0
        floor = 1e-30 if collapses else 1e-300
        hi, lo = 1.0, 0.5
        while sign_ratio(lo) <= noise:
            hi, lo = lo, 0.5 * lo
            if lo < floor:
                return 0.0 if collapses else lo
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        if sign_ratio(mid) > 0.0:  # F(lo) > 0 >= F(hi) throughout
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _homogeneous(name: str, sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    """q* and chi1 in closed form: V(q) = kappa q and E[phi'^2] = kappa at every q."""
    kappa = ELEMENTWISE[name].kappa0
    rate = sigma_w2 * kappa
    if abs(rate - 1.0) <= CRITICAL_TOL:
        return (math.nan if sigma_b2 == 0.0 else math.inf), rate
    if rate < 1.0:
        return sigma_b2 / (1.0 - rate), rate
    return math.inf, rate


def mean_field(activation: str, sigma_w2: float, sigma_b2: float = 0.0) -> dict[str, float]:
    """Fixed point q*, chi1 and depth scales of a deep random network (Schoenholz et al. 2017).

    Args:
        activation: an elementwise activation name (all of activations.py but softmax).
        sigma_w2: ``fan_in * Var(W)`` (> 0): 1 for Glorot on square layers, 2 for He.
        sigma_b2: ``Var(b)`` (>= 0).

    Returns:
        ``{"q_star", "chi1", "depth_scale", "trainable_depth"}``:

        - ``q_star``: the fixed point of ``q = sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2``
          reached from ``q = 1``. It is ``math.inf`` when the map runs away (e.g. relu
          with sigma_w2 > 2, linear with sigma_w2 > 1, or at the critical sigma_w2 with
          sigma_b2 > 0), ``0.0`` when it collapses (e.g. tanh with sigma_w2 <= 1 and
          sigma_b2 = 0), and ``math.nan`` for linear, relu and leaky_relu exactly at
          sigma_w2 kappa = 1 with sigma_b2 = 0 (relu: sigma_w2 = 2), where every q is
          a fixed point.
        - ``chi1 = sigma_w2 E[phi'(sqrt(q*) z)^2]``. For linear, relu and leaky_relu
          it does not depend on q: ``sigma_w2``, ``sigma_w2 / 2``, ``sigma_w2 * 0.52``.
          At q* = 0 and q* = inf it is the limit: ``sigma_w2 (phi'(0+)^2 + phi'(0-)^2) / 2``
          and ``sigma_w2 (phi'(+inf)^2 + phi'(-inf)^2) / 2``.
        - ``depth_scale = 1 / |ln chi1|`` (``math.inf`` when |chi1 - 1| <= 1e-12).
        - ``trainable_depth = 6 * depth_scale``.
    """
    name = _activation(activation)
    sigma_w2 = check_float(sigma_w2, "sigma_w2", minimum=0.0, min_inclusive=False)
    sigma_b2 = check_float(sigma_b2, "sigma_b2", minimum=0.0)
    facts = ELEMENTWISE[name]
    dphi, kappa0, kappa_inf = facts.dphi, facts.kappa0, facts.kappa_inf
    if facts.homogeneous:
        q_star, chi1 = _homogeneous(name, sigma_w2, sigma_b2)
    else:
        q_star = _find_q_star(name, sigma_w2, sigma_b2)
        if q_star == 0.0:
            chi1 = sigma_w2 * kappa0
        elif math.isinf(q_star):
            chi1 = sigma_w2 * kappa_inf
        else:
            chi1 = sigma_w2 * _expect(lambda x: dphi(x) ** 2, q_star)
    if abs(chi1 - 1.0) <= CRITICAL_TOL:
        depth_scale = math.inf
    else:
        depth_scale = 1.0 / abs(math.log(chi1))
    return {
        "q_star": float(q_star),
        "chi1": float(chi1),
        "depth_scale": depth_scale,
        "trainable_depth": 6.0 * depth_scale,
    }


def gradient_factor(activation: str, sigma_w2: float, sigma_b2: float = 0.0) -> float:
    """sqrt(chi1): the predicted ratio of a layer's gradient norm to the next layer's."""
    return math.sqrt(mean_field(activation, sigma_w2, sigma_b2)["chi1"])


def predicted_decay(
    activation: str, sigma_w2: float, sigma_b2: float = 0.0, *, depth: int
) -> np.ndarray:
    """Predicted gradient norm of each of ``depth`` layers relative to the last one.

    Entry ``l`` (``l = 0 .. depth - 1``) is ``chi1 ** ((depth - 1 - l) / 2)``: the
    last layer is 1, and with sigmoid + Glorot (chi1 = 0.056) the first of 8
    layers gets 0.24**7 = 4e-5 of the last one's gradient.
    """
    depth = check_int(depth, "depth", minimum=1)
    chi1 = mean_field(activation, sigma_w2, sigma_b2)["chi1"]
    exponents = (depth - 1 - np.arange(depth)) / 2.0
    return np.power(chi1, exponents)


def sigma_w2_for(initializer: Any, fan_in: int, fan_out: int) -> float:
    """``fan_in * Var(W)`` of a ``(fan_in, fan_out)`` kernel drawn by ``initializer``.

    Glorot gives ``2 fan_in / (fan_in + fan_out)`` (1 on square layers), He and
    LeCun ``2`` and ``1``, orthogonal ``gain^2 min(1, fan_in / fan_out)``.

    Raises:
        ValueError: the initializer's weights have a non-zero mean (ones, constant,
            a shifted RandomUniform): mean-field theory assumes zero-mean weights.
        TypeError: the initializer has no analytic variance (a plain callable).
    """
    fan_in = check_int(fan_in, "fan_in", minimum=1)
    fan_out = check_int(fan_out, "fan_out", minimum=1)
    init = _initializers.get(initializer)
    variance = _initializers.weight_variance(init, (fan_in, fan_out))
    mean = init.moments((fan_in, fan_out))[0]  # type: ignore[union-attr]
    if mean != 0.0:
        raise ValueError(
            f"initializer {init!r} draws weights with mean {mean}; mean-field theory "
            "(sigma_w^2 = fan_in * Var(W)) assumes zero-mean weights"
        )
    return fan_in * variance
