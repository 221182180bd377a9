"""Pennington, Schoenholz & Ganguli (2017): dynamical isometry needs orthogonal sigmoids.

Keeping the mean squared singular value of the input-output Jacobian at 1
(criticality, chi1 = 1) stops gradients from vanishing or exploding on
average; dynamical isometry asks more: that *all* singular values stay near 1.
Pennington et al. compute the whole spectrum with free probability. At
criticality the variance of the spectrum of ``J J^T`` grows linearly with the
depth L: fast for Gaussian weights; for orthogonal weights with a tanh at a
small fixed point q* slowly enough that the spectrum stays concentrated near
1; and relu networks cannot be isometric at all (every layer switches off
about half of the directions for a given input).

Shape: with one output unit the input-output Jacobian of a sample is a 1 x n
row, whose only singular value is the gradient norm. So these networks stop at
their last hidden layer: ``L`` Dense layers of ``n`` units, inputs of ``n``
features, and ``flow.input_output_jacobian`` gives the square ``n x n``
Jacobian ``dh_L/dx`` per input, in float64.

Settings (critical, chi1 = 1 by ``flow.theory.mean_field``): tanh with
orthogonal kernels of gain ``sqrt(1.05)``; tanh with Gaussian kernels of the
same variance ``1.05 / n``; relu with orthogonal kernels of gain ``sqrt(2)``.
Biases ``N(0, 2.01e-5)`` everywhere. tanh inputs are ``N(0, q*)`` with the
mean-field fixed point ``q* = 0.026``; relu is scale-free, its inputs ``N(0, 1)``.
Spread: ``std(ln s)`` over the singular values above 1e-12 of the largest
(smaller ones cannot be resolved in float64; their fraction is reported) and
the relative variance ``Var[s^2] / E[s^2]^2`` of the eigenvalues of ``J J^T``,
the quantity whose linear growth in L the paper derives.

Sizes: full ``n = 256``, depths 2, 8, 32, 128; quick ``n = 128``, depths 8 and
32; 8 inputs each (8 n singular values per network).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import flow
from ..initializers import Orthogonal, RandomNormal
from ..layers import Dense
from ..models import Sequential
from ._figure import PALETTE, panels

NAME = "pennington2017"
PAPER = (
    "Jeffrey Pennington, Samuel S. Schoenholz and Surya Ganguli (2017), Resurrecting the "
    "sigmoid in deep learning through dynamical isometry: theory and practice, NeurIPS 2017"
)
SUMMARY = (
    "Singular values of the square Jacobian from the input to the last hidden layer at "
    "initialization (no output layer, so the spectrum is not a single gradient norm), for "
    "critical tanh-orthogonal (sigma_w^2 = 1.05, sigma_b^2 = 2.01e-5), tanh-Gaussian and "
    "relu-orthogonal MLPs of 256 units (quick: 128) at depths 2-128 (quick: 8, 32); finite "
    "width instead of the paper's large-width limit."
)

SIGMA_B2 = 2.01e-5
#: (label, activation, kernel kind, sigma_w^2).
CONFIGS = (
    ("tanh, orthogonal", "tanh", "orthogonal", 1.05),
    ("tanh, Gaussian", "tanh", "gaussian", 1.05),
    ("relu, orthogonal", "relu", "orthogonal", 2.0),
)
#: "Near 1": within a factor 2; "concentrates": at least this fraction there.
CONCENTRATED = 0.8
#: "Mass near 0": singular values below 0.1, at least this fraction (at depth >= 32).
NEAR_ZERO, ZERO_MASS = 0.1, 0.5
SAMPLES = 8


def _network(activation: str, kind: str, sigma_w2: float, depth: int, n: int, seed: int) -> Any:
    model = Sequential(seed=seed, dtype="float64")
    for k in range(depth):
        kernel = (
            Orthogonal(gain=math.sqrt(sigma_w2))
            if kind == "orthogonal"
            else RandomNormal(0.0, math.sqrt(sigma_w2 / n))
        )
        extra = {"input_dim": n} if k == 0 else {}
        bias = RandomNormal(0.0, math.sqrt(SIGMA_B2))
        model.add(Dense(n, activation, kernel_initializer=kernel, bias_initializer=bias, **extra))
    model.compile(loss="mse", optimizer="sgd")
    return model


def spread(sv: np.ndarray) -> dict[str, float]:
    """The spread measures of one network's pooled singular values ``sv``."""
    summary = flow.jacobian.spectrum_summary(sv)
    lam = sv**2
    return {
        "log_std": summary["log_std"],
        "unresolved": summary["zero_fraction"],
        "rel_var": float(lam.var() / lam.mean() ** 2),
        "mean_sq": float(lam.mean()),
        "near_one": float(np.mean((sv >= 0.5) & (sv <= 2.0))),
        "near_zero": float(np.mean(sv < NEAR_ZERO)),
    }


def measure(quick: bool, seed: int) -> dict[str, Any]:
    """Singular values and spread per configuration and depth.

    Returns:
        ``{"depths", "n", "q_star", "sv": {label: [array per depth]},
        "spread": {label: [dict per depth]}}`` (see ``spread``).
    """
    n, depths = (128, [8, 32]) if quick else (256, [2, 8, 32, 128])
    q_star = flow.theory.mean_field("tanh", 1.05, SIGMA_B2)["q_star"]
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"depths": depths, "n": n, "q_star": q_star, "sv": {}, "spread": {}}
    for label, activation, kind, sigma_w2 in CONFIGS:
        out["sv"][label], out["spread"][label] = [], []
        for depth in depths:
            x = rng.normal(size=(SAMPLES, n)) * (math.sqrt(q_star) if activation == "tanh" else 1)
            model = _network(activation, kind, sigma_w2, depth, n, seed)
            jac = flow.input_output_jacobian(model, x)
            sv = np.linalg.svd(jac, compute_uv=False).ravel()
            out["sv"][label].append(sv)
            out["spread"][label].append(spread(sv))
    return out


def _values(m: dict[str, Any], label: str, key: str) -> np.ndarray:
    return np.array([s[key] for s in m["spread"][label]])


def _by_depth(m: dict[str, Any], values: np.ndarray, fmt: str) -> str:
    return ", ".join(f"L{d} {format(v, fmt)}" for d, v in zip(m["depths"], values, strict=True))


def claims(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The paper's claims, checked against ``measure``'s numbers."""
    orth, gauss, relu = (label for label, *_ in CONFIGS)
    near_one = _values(m, orth, "near_one")
    std_o, std_g = _values(m, orth, "log_std"), _values(m, gauss, "log_std")
    var_o, var_g = _values(m, orth, "rel_var"), _values(m, gauss, "rel_var")
    deep = np.array(m["depths"]) >= 32
    zero_r, zero_o = _values(m, relu, "near_zero"), _values(m, orth, "near_zero")
    return [
        {
            "claim": "tanh with orthogonal weights at small q* concentrates the Jacobian's "
            f"singular values near 1 (at least {CONCENTRATED:.0%} within [0.5, 2] at every "
            "depth).",
            "paper_value": "abstract: sigmoidal networks achieve isometry with orthogonal weights",
            "measured": f"within [0.5, 2]: {_by_depth(m, near_one, '.0%')}; std ln s "
            f"{_by_depth(m, std_o, '.2f')}",
            "holds": bool(np.all(near_one >= CONCENTRATED)),
        },
        {
            "claim": "tanh with Gaussian weights spreads the singular values more than "
            "with orthogonal ones, at every depth (std of ln s and Var[s^2]).",
            "paper_value": "abstract: isometry only with orthogonal weights",
            "measured": f"std ln s Gaussian {_by_depth(m, std_g, '.2f')} vs orthogonal "
            f"{_by_depth(m, std_o, '.2f')}",
            "holds": bool(np.all(std_g > std_o) and np.all(var_g > var_o)),
        },
        {
            "claim": "tanh with Gaussian weights spreads more with depth: Var[s^2]/E[s^2]^2 "
            "grows with L.",
            "paper_value": "variance of J J^T's spectrum grows linearly in L",
            "measured": f"Var[s^2]/E[s^2]^2 {_by_depth(m, var_g, '.3g')} (orthogonal "
            f"{_by_depth(m, var_o, '.2g')})",
            "holds": bool(np.all(np.diff(var_g) > 0)),
        },
        {
            "claim": f"relu with orthogonal weights puts mass near 0 (at least "
            f"{ZERO_MASS:.0%} of singular values below {NEAR_ZERO} at depth 32 or more).",
            "paper_value": "abstract: ReLU networks are incapable of dynamical isometry",
            "measured": f"below {NEAR_ZERO}: relu {_by_depth(m, zero_r, '.0%')}; tanh-orthogonal "
            f"{_by_depth(m, zero_o, '.0%')}",
            "holds": bool(np.all(zero_r[deep] >= ZERO_MASS)) and bool(deep.any()),
        },
    ]


def figures(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """Singular value densities per depth (as their Fig. 1) and the spread against depth."""
    fig, axes = panels(3, width=4.2, height=3.4)
    edges = np.linspace(-6.0, 1.5, 61)
    shades = np.linspace(0.3, 1.0, len(m["depths"]))
    for i, (ax, (label, *_)) in enumerate(zip(axes, CONFIGS, strict=True)):
        for depth, sv, shade in zip(m["depths"], m["sv"][label], shades, strict=True):
            # Values below 1e-6 (exact zeros of relu included) go into the first bin.
            logs = np.log10(np.clip(sv, 10.0 ** edges[0], None))
            ax.hist(
                logs,
                bins=edges,
                histtype="step",
                color=PALETTE[i],
                alpha=shade,
                lw=1.5,
                density=True,
                label=f"L = {depth}",
            )
        ax.axvline(0.0, color="0.5", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_ylim(top=60.0)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("log10 singular value (1e-6 and below: first bin)")
        ax.legend(fontsize=8, loc="upper center", ncol=2)
    axes[0].set_ylabel("density")
    fig.suptitle(
        f"Pennington et al. 2017: spectrum of dh_L/dx at initialization, n = {m['n']}", fontsize=11
    )

    fig2, (var_ax, std_ax) = panels(2)
    for ax, key in ((var_ax, "rel_var"), (std_ax, "log_std")):
        for i, (label, *_) in enumerate(CONFIGS):
            values = _values(m, label, key)
            ax.plot(m["depths"], values, color=PALETTE[i], marker="os^"[i], label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(m["depths"], [str(d) for d in m["depths"]])
        ax.set_xlabel("depth L")
        ax.legend(fontsize=8, loc="upper left")
    var_ax.set_yscale("log")
    var_ax.set_ylabel("Var[s^2] / E[s^2]^2")
    var_ax.set_title("spread of J J^T's eigenvalues", fontsize=10)
    std_ax.set_ylabel("std of ln s (s > 1e-12 max s)")
    std_ax.set_title("spread of ln s", fontsize=10)
    return [("spectra", fig), ("spread", fig2)]


def run(quick: bool, seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The preset's claims and figures (see the module docstring for the setting)."""
    m = measure(quick, seed)
    return claims(m), figures(m)
