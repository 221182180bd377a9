"""Balduzzi et al. (2017): shattered gradients in plain and residual relu networks.

A network with one input and one output is evaluated on an evenly spaced grid
of ``GRID`` points on [-2, 2] at initialization; ``flow.gradient_correlation``
gives the gradient ``dy/dx`` at each point and its lag-1 autocorrelation
``r_1`` along the grid (near 1: smooth, brown-noise-like; near 0: shattered,
white-noise-like). Networks, all starting with a relu layer
Dense(width, he_normal, biases N(0, 1)) and ending with a linear Dense(1):

- plain, ``L`` layers: the first layer, then ``L - 1`` x
  [Dense(width, he_normal) -> BatchNormalization -> relu];
- residual, ``L`` blocks: the first layer, then ``L`` blocks
  ``x + Dense(relu(BatchNormalization(x)))`` (he_normal).

The first layer's biases are random and it is not normalized: with zero
biases, or with batch normalization of a one-dimensional input, every
first-layer unit would switch at the same input and a 1-layer network's
gradient would be a single step instead of the paper's random walk. Batch
normalization uses the statistics of the grid taken as one batch (the
paper's networks see the grid as their batch): one training-mode pass with
learning rate 0 and ``momentum=0`` copies them into the moving statistics,
so each input's gradient is that of a fixed function and no weight changes.

Sizes: full run width 200, 256 grid points, plain depths 1-32, residual depths
1-64, 8 networks per depth; quick run width 100, fewer depths, 3 networks.
Fits: ``r_1 = A b^L`` (plain, over depths whose mean ``r_1`` is above the
white-noise level ``2 / sqrt(n)``) and ``r_1 = A L^-alpha`` (residual).

What is seen here: plain networks go from a smooth gradient (``r_1`` = 0.98
at one layer) to white noise by 16 layers, residual networks keep ``r_1``
above 0.6 at 64 blocks, as in the paper's Fig. 1. The rates differ from the
theorems': ``r_1`` stays near 1 for the first layers and then falls steeply
(``1 - r_1`` about doubles per layer over the first four layers), so the least-squares
factor is about 0.9 per layer, not 1/2; the residual exponent is about 0.1,
not 1/2. The theorems give the correlation over random weights of the
gradients at two inputs under a simplifying assumption about which units are
active (Sec. 3 of the paper); neighbouring points of a fine grid share almost
all their active units, so their lag-1 correlation decays more slowly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import flow
from ..initializers import RandomNormal
from ..layers import Activation, BatchNormalization, Dense, Residual
from ..models import Sequential
from ..optimizers import SGD
from ._figure import PALETTE, panels, seeds_from

NAME = "balduzzi2017"
PAPER = (
    "David Balduzzi, Marcus Frean, Lennox Leary, J. P. Lewis, Kurt Wan-Duo Ma and Brian "
    "McWilliams (2017), The shattered gradients problem: If resnets are the answer, then "
    "what is the question?, ICML 2017 (PMLR 70)"
)
SUMMARY = (
    "The input gradient dy/dx of plain and residual relu networks (He init, batch "
    "normalization with the grid's statistics) on 256 points of [-2, 2] at "
    "initialization and its lag-1 autocorrelation against depth (width 200, 8 networks "
    "per depth; quick: width 100, 3): fully connected layers, not the paper's convnets."
)

LO, HI = -2.0, 2.0
GRID = 256
#: Depths of the gradient panels: the paper's Fig. 1 (a) 1-layer and (b) 24-layer
#: feedforward networks and (c) a 50-layer resnet.
SHALLOW, PLAIN_DEEP, RES_DEEP = 1, 24, 50


def _sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "width": 100,
            "seeds": 3,
            "plain": [1, 2, 4, 6, 8, 12, 16, 24],
            "residual": [1, 4, 16, 50],
        }
    return {
        "width": 200,
        "seeds": 8,
        "plain": [1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 32],
        "residual": [1, 2, 4, 8, 16, 32, 50, 64],
    }


def build(kind: str, depth: int, width: int, seed: int, x: np.ndarray) -> Sequential:
    """A "plain" or "residual" network of ``depth``, its batch norm set to ``x``'s statistics."""
    model = Sequential(seed=seed)
    model.add(
        Dense(
            width,
            activation="relu",
            kernel_initializer="he_normal",
            bias_initializer=RandomNormal(0.0, 1.0),
            input_dim=1,
        )
    )
    for _ in range(depth - 1 if kind == "plain" else depth):
        if kind == "plain":
            model.add(Dense(width, kernel_initializer="he_normal"))
            model.add(BatchNormalization(momentum=0.0))
            model.add(Activation("relu"))
        else:
            branch = [BatchNormalization(momentum=0.0), Activation("relu")]
            model.add(Residual([*branch, Dense(width, kernel_initializer="he_normal")]))
    model.add(Dense(1))
    model.compile(loss="mse", optimizer=SGD(learning_rate=0.0))
    # One pass over the grid as a single batch: the moving statistics become the
    # grid's (momentum 0); learning rate 0 leaves every weight as initialized.
    model.fit(x[:, None], np.zeros(x.size), batch_size=x.size, epochs=1, verbose=0, shuffle=False)
    return model


def fit_exponential(depths: Any, r: Any, floor: float) -> dict[str, float]:
    """``r = A b^L`` by least squares on ``log r`` over the depths with ``r > floor``.

    Returns:
        ``{"factor": b, "amplitude": A, "points": depths used}`` (NaN with fewer than 2).
    """
    d, v = np.asarray(depths, dtype=float), np.asarray(r, dtype=float)
    keep = v > floor
    if keep.sum() < 2:
        return {"factor": math.nan, "amplitude": math.nan, "points": int(keep.sum())}
    slope, icept = np.polyfit(d[keep], np.log(v[keep]), 1)
    return {"factor": math.exp(slope), "amplitude": math.exp(icept), "points": int(keep.sum())}


def fit_power(depths: Any, r: Any) -> dict[str, float]:
    """``r = A L^-alpha`` by least squares on ``log r`` against ``log L``.

    Returns:
        ``{"alpha": alpha, "amplitude": A}`` (NaN when some ``r <= 0``).
    """
    d, v = np.asarray(depths, dtype=float), np.asarray(r, dtype=float)
    if (v <= 0).any():
        return {"alpha": math.nan, "amplitude": math.nan}
    slope, icept = np.polyfit(np.log(d), np.log(v), 1)
    return {"alpha": -float(slope), "amplitude": math.exp(icept)}


def measure(quick: bool, seed: int) -> dict[str, Any]:
    """Mean lag-1 autocorrelation per depth for both kinds, the fits, and example gradients."""
    size = _sizes(quick)
    x = np.linspace(LO, HI, GRID)
    seeds = seeds_from(seed, size["seeds"])
    out: dict[str, Any] = {"x": x, "floor": 2.0 / math.sqrt(GRID), "examples": {}}
    for kind in ("plain", "residual"):
        means = []
        for depth in size[kind]:
            r = []
            for k, s in enumerate(seeds):
                probe = flow.gradient_correlation(build(kind, depth, size["width"], s, x), x)
                r.append(probe["autocorrelation"])
                if k == 0:
                    out["examples"][(kind, depth)] = probe["gradient"]
            means.append(float(np.mean(r)))
        out[kind] = {"depths": list(size[kind]), "r1": means}
    out["plain_fit"] = fit_exponential(size["plain"], out["plain"]["r1"], out["floor"])
    out["residual_fit"] = fit_power(size["residual"], out["residual"]["r1"])
    return out


def _r1(m: dict[str, Any], kind: str, depth: int) -> float:
    return m[kind]["r1"][m[kind]["depths"].index(depth)]


def claims(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim table from the measurements of ``measure``."""
    shallow, deep = _r1(m, "plain", SHALLOW), _r1(m, "plain", PLAIN_DEEP)
    res_deep = _r1(m, "residual", RES_DEEP)
    b, alpha, floor = m["plain_fit"]["factor"], m["residual_fit"]["alpha"], m["floor"]
    return [
        {
            "claim": "A 1-layer relu network's gradient is smooth along the input (brown-noise "
            "like) while a 24-layer plain network's is shattered (white-noise like).",
            "paper_value": "Fig. 1 (a), (b); white noise has autocorrelation 0 at every lag > 0",
            "measured": f"r_1 = {shallow:.3f} at 1 layer, {deep:.3f} at 24 layers "
            f"(white-noise band |r_1| < {floor:.3f})",
            "holds": bool(shallow > 0.9 and abs(deep) < floor),
        },
        {
            "claim": "In plain relu networks the gradients' correlation falls like 2^-L with "
            "depth L.",
            "paper_value": "factor 1/2 per layer: C(i, j) = 1/2^L (Theorem 1)",
            "measured": f"r_1 fits A b^L with b = {b:.3f} per layer "
            f"({m['plain_fit']['points']} depths with r_1 > {floor:.3f})",
            "holds": bool(0.5 / math.sqrt(2) <= b <= 0.5 * math.sqrt(2)),
        },
        {
            "claim": "With residual blocks (and batch normalization) the correlation falls "
            "only like L^-1/2.",
            "paper_value": "sublinear decay, 1/sqrt(L) (Theorem 3)",
            "measured": f"r_1 fits A L^-alpha with alpha = {alpha:.3f} "
            f"(depths {m['residual']['depths'][0]}-{m['residual']['depths'][-1]})",
            "holds": bool(0.25 <= alpha <= 1.0),
        },
        {
            "claim": "A 50-block residual network keeps its gradients correlated where a "
            "24-layer plain network has shattered them.",
            "paper_value": "Fig. 1 (c) against (b)",
            "measured": f"r_1 = {res_deep:.3f} (residual, 50 blocks) against {deep:.3f} "
            "(plain, 24 layers)",
            "holds": bool(res_deep > 0.5 and abs(deep) < floor),
        },
    ]


def figures(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """Fig. 1 (gradients along the grid) and the decay of ``r_1`` with depth."""
    x = m["x"]
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    grad, grad_axes = panels(3, width=3.5, height=3.0)
    examples = [
        (("plain", SHALLOW), "(a) 1-layer plain", PALETTE[0]),
        (("plain", PLAIN_DEEP), "(b) 24-layer plain", PALETTE[1]),
        (("residual", RES_DEEP), "(c) 50-block residual", PALETTE[2]),
    ]
    for ax, (key, title, colour) in zip(grad_axes, examples, strict=True):
        ax.plot(x, m["examples"][key], color=colour, lw=0.9)
        ax.set_title(f"{title} (mean r_1 {_r1(m, *key):.2f})", fontsize=10)
        ax.set_xlabel("input x")
    grad.axes[0].set_ylabel("dy/dx at initialization")

    decay, (left, right) = panels(2, width=5.0, height=3.6)
    d = np.asarray(m["plain"]["depths"], dtype=float)
    r = np.asarray(m["plain"]["r1"])
    left.plot(d, r, "o-", color=PALETTE[1], label="plain, measured")
    left.plot(d, 2.0**-d, "k--", lw=1, label="2^-L (Theorem 1)")
    fit = m["plain_fit"]
    if math.isfinite(fit["factor"]):
        label = f"fit A b^L, b = {fit['factor']:.2f}"
        left.plot(d, fit["amplitude"] * fit["factor"] ** d, ":", color=PALETTE[1], label=label)
    left.axhspan(-m["floor"], m["floor"], color="0.85", label="white-noise band")
    left.set(xlabel="depth L (layers)", ylabel="lag-1 autocorrelation r_1", ylim=(-0.25, 1.05))
    left.legend(fontsize=8, loc="upper right")
    left.set_title("plain relu networks", fontsize=10)
    d = np.asarray(m["residual"]["depths"], dtype=float)
    r = np.asarray(m["residual"]["r1"])
    right.loglog(d, r, "s-", color=PALETTE[2], label="residual, measured")
    right.loglog(d, r[0] * d**-0.5, "k--", lw=1, label="L^-1/2 (Theorem 3)")
    fit = m["residual_fit"]
    if math.isfinite(fit["alpha"]):
        label = f"fit A L^-alpha, alpha = {fit['alpha']:.2f}"
        right.loglog(d, fit["amplitude"] * d ** -fit["alpha"], ":", color=PALETTE[2], label=label)
    right.set_yticks([0.1, 0.2, 0.3, 0.5, 0.7, 1.0])
    right.yaxis.set_major_formatter(ScalarFormatter())
    right.yaxis.set_minor_formatter(NullFormatter())
    right.set(xlabel="depth L (residual blocks)", ylabel="lag-1 autocorrelation r_1")
    right.legend(fontsize=8, loc="lower left")
    right.set_title("residual relu networks", fontsize=10)
    return [("gradients", grad), ("decay", decay)]


def run(quick: bool, seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The claims and figures (see the module docstring for the sizes)."""
    m = measure(quick, seed)
    return claims(m), figures(m)
