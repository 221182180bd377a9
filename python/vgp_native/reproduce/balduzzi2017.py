"""Balduzzi et al. (2017): shattered gradients in plain and residual relu networks.

The paper feeds networks of 200 relu units per layer with one input and one
output the 256 points of a grid on [-2, 2] and looks at the gradient
``g_i = dy/dx (x_i)`` at initialization two ways:

- along the grid, one network at a time (Figs. 1-2): the gradient of a
  shallow network is a random walk (brown noise), that of a deep plain
  network white noise, that of a deep resnet in between; Fig. 2 plots the
  autocorrelation of the series ``g`` against the lag, averaged over 20 runs;
- over the random weights (Sec. 3, Theorems 1-3): the covariance
  ``C(i, j) = E_W[g_i g_j]`` of the gradients at two inputs. Theorem 1: He
  initialization gives ``C(i, i) = 1`` and ``C(i, j) = 2^-L`` in a plain
  network of ``L`` layers whose units are each co-active on a quarter of the
  pairs of inputs (batch normalization makes them so: each unit is active on
  half the inputs, and with it the co-active proportion stays at 1/4).
  Theorem 3: in resnets with batch normalization the variance grows like
  ``beta^2 (L - 1) + 1`` and the correlation falls like ``1 / (beta sqrt(L))``.

Here ``flow.gradient_correlation`` measures both: ``over="grid"``'s
autocorrelation ``r_k`` per network, averaged over the networks (claims 1
and 4: Fig. 1), and ``over="weights"``'s correlation ``R(i, j)`` between the
gradients at two grid points over ``NETWORKS`` independent initializations,
averaged over all pairs ``i != j`` (``rbar``, claims 2 and 3: the theorems'
quantity for the typical pair). Networks, all starting with a relu layer
Dense(width, he_normal, biases N(0, 1)) and ending with a linear Dense(1):

- plain, ``L`` layers: the first layer, then ``L - 1`` x
  [Dense(width, he_normal) -> BatchNormalization -> relu];
- residual, ``L`` blocks: the first layer, then ``L`` blocks
  ``x + Dense(relu(BatchNormalization(x)))`` (he_normal; ``beta = 1``).

The first layer's biases are random and it is not normalized: with zero
biases, or with batch normalization of a one-dimensional input, every
first-layer unit would switch at the same input and a 1-layer network's
gradient would be a single step instead of the paper's random walk. Batch
normalization uses the statistics of the grid taken as one batch (the
paper's networks see the grid as their batch): one training-mode pass with
learning rate 0 and ``momentum=0`` copies them into the moving statistics,
so each input's gradient is that of a fixed function and no weight changes.

Sizes: full run width 200 (the paper's), 256 grid points, 20 networks per
depth (the paper's 20 runs), each with 4 linear output units (4 draws of the
output layer over the same hidden layers, ``over="weights"``), plain depths
1-24, residual depths 1-50; quick run width 100, 8 networks, fewer depths.
Fits: ``rbar = A b^L`` (plain) and ``rbar = A L^-alpha`` (residual), over
the depths whose ``rbar`` is above ``2 / n`` (below that, a few times the
``1 / n`` of a gradient with no structure, the estimate is noise).

What differs from the paper and what is seen here: ``NOTES``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import flow
from ..flow.correlation import autocorrelation
from ..initializers import RandomNormal
from ..layers import Activation, BatchNormalization, Dense, Residual
from ..models import Sequential
from ..optimizers import SGD
from ._figure import PALETTE, panels, seeds_from
from ._fits import fit_exponential, fit_power

NAME = "balduzzi2017"
PAPER = (
    "David Balduzzi, Marcus Frean, Lennox Leary, J. P. Lewis, Kurt Wan-Duo Ma and Brian "
    "McWilliams (2017), The shattered gradients problem: If resnets are the answer, then "
    "what is the question?, ICML 2017 (PMLR 70)"
)
SUMMARY = (
    "The input gradient dy/dx of plain and residual relu networks (He init, batch "
    "normalization with the grid's statistics) on 256 points of [-2, 2] at initialization: "
    "its autocorrelation along the grid (Figs. 1-2) and the correlation over random weights "
    "between the gradients at two grid points, averaged over all pairs (Theorems 1 and 3), "
    "against depth (width 200, 20 networks x 4 output units per depth; quick: width 100, 8 x 4). "
    "Fully connected "
    "layers, not the paper's convnets; residual blocks unscaled (beta = 1)."
)

NOTES = """\
**What is measured, and what differs from the paper.** The 2^-L of Theorem 1 and the
1/sqrt(L) of Theorem 3 describe the correlation over random weights between the gradients
at two inputs whose units are co-active on a quarter of the pairs. Claims 2 and 3 measure
it: `flow.gradient_correlation(models, x, over="weights")` over 20 networks x 4 output
units per depth (quick: 8 x 4), averaged over all pairs of the 256 grid points, fitted over
the depths where it is above 2/n. The lag-1 autocorrelation along the grid (the quantity of
the paper's Fig. 2, read by claims 1 and 4) is not the theorems' quantity: neighbours on a
fine grid share most of their active units, so it stays near 1 over the first layers (about
0.88 at 4 plain layers, where the mean pair's correlation is about 0.04): a fit of A b^L
to it gives b of about 0.88 per layer, not 1/2, and of A L^-alpha to the residual
networks' gives alpha of about 0.1, not 1/2.

**Plain networks** follow Theorem 1's rate (b about 0.45 per layer), but not its premise
that the gradient's variance stays 1: batch normalization divides each unit by its
standard deviation over the grid, smaller than its root mean square once the relu's mean
is removed, and the variance grows about 1.6-fold per layer (claim 2's row).

**Residual networks** (blocks `x + Dense(relu(BN(x)))`, beta = 1): the correlation falls
about like 1/L, not 1/sqrt(L). The claim's rule (alpha within a factor 2 of 1/2) sits on
that value: alpha moved between about 0.85 and 1.25 with the seeds, the number of output
units drawn and the depths fitted, so the claim's yes or no here is not robust; what is
robust is an exponent near twice the theorem's. Theorem 3 counts each block as adding
beta^2 to the gradient's variance (beta^2 (L - 1) + 1 = L). Here a block adds
2 Var[relu(u)] = 0.68 to the stream's variance over the grid (batch normalization removes
the relu's mean) but passes back a squared gradient of 2 E[relu'(u)^2] / 2 = 1 relative to
it, so each branch weighs more against the skip path than the theorem counts: by that
count the variance grows like L^(1/0.68) = L^1.47, and it is measured at L^1.6-1.7
(claim 3's row). Not rerun: the paper's convnets, beta-rescaled resnets (Fig. 2 (c)), the
looks-linear initialization.
"""

LO, HI = -2.0, 2.0
GRID = 256
#: Depths of the gradient panels: the paper's Fig. 1 (a) 1-layer and (b) 24-layer
#: feedforward networks and (c) a 50-layer resnet.
SHALLOW, PLAIN_DEEP, RES_DEEP = 1, 24, 50
#: Largest lag of the autocorrelation functions (Fig. 2).
MAX_LAG = 64
#: Depths drawn in the autocorrelation figure.
ACF_DEPTHS = {"plain": (1, 4, 8, 24), "residual": (1, 8, 50)}


def _sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "width": 100,
            "networks": 8,
            "outputs": 4,
            "plain": [1, 2, 3, 4, 5, 6, 8, 12, 24],
            "residual": [1, 2, 4, 8, 16, 50],
        }
    return {
        "width": 200,
        "networks": 20,
        "outputs": 4,
        "plain": [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24],
        "residual": [1, 2, 4, 8, 16, 32, 50],
    }


def build(
    kind: str, depth: int, width: int, seed: int, x: np.ndarray, outputs: int = 1
) -> Sequential:
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
    model.add(Dense(outputs))
    model.compile(loss="mse", optimizer=SGD(learning_rate=0.0))
    # One pass over the grid as a single batch: the moving statistics become the
    # grid's (momentum 0); learning rate 0 leaves every weight as initialized.
    model.fit(
        x[:, None],
        np.zeros((x.size, outputs)),
        batch_size=x.size,
        epochs=1,
        verbose=0,
        shuffle=False,
    )
    return model


def _probe(kind: str, depth: int, size: dict[str, Any], seeds: list[int], x: np.ndarray) -> Any:
    """Both estimators for the networks of one kind and depth."""
    models = [build(kind, depth, size["width"], s, x, size["outputs"]) for s in seeds]
    probe = flow.gradient_correlation(models, x, max_lag=MAX_LAG, over="weights")
    grid_acf = np.mean([autocorrelation(g, MAX_LAG) for g in probe["gradient"]], axis=0)
    return {
        "rbar": probe["mean_correlation"],
        "variance": probe["variance"],
        "weights_acf": probe["acf"],
        "grid_acf": grid_acf,
        "example": probe["gradient"][0],
    }


def measure(quick: bool, seed: int) -> dict[str, Any]:
    """Per depth and kind: ``rbar``, the gradient variance, both autocorrelation functions;
    the fits of ``rbar`` against depth and example gradients."""
    size = _sizes(quick)
    x = np.linspace(LO, HI, GRID)
    seeds = seeds_from(seed, size["networks"])
    out: dict[str, Any] = {
        "x": x,
        "networks": size["networks"],
        "outputs": size["outputs"],
        "width": size["width"],
        "floor": 2.0 / math.sqrt(GRID),
        "rbar_floor": 2.0 / GRID,
        "examples": {},
    }
    for kind in ("plain", "residual"):
        rows = [_probe(kind, depth, size, seeds, x) for depth in size[kind]]
        out[kind] = {
            "depths": list(size[kind]),
            "rbar": [r["rbar"] for r in rows],
            "variance": [r["variance"] for r in rows],
            "r1": [float(r["grid_acf"][1]) for r in rows],
            "grid_acf": np.array([r["grid_acf"] for r in rows]),
            "weights_acf": np.array([r["weights_acf"] for r in rows]),
        }
        for depth, r in zip(size[kind], rows, strict=True):
            out["examples"][(kind, depth)] = r["example"]
    out["plain_fit"] = fit_exponential(size["plain"], out["plain"]["rbar"], out["rbar_floor"])
    out["residual_fit"] = fit_power(size["residual"], out["residual"]["rbar"], out["rbar_floor"])
    # Theorem 3 (a): the variance grows like beta^2 (L - 1) + 1, i.e. L^1 at beta = 1.
    out["residual_variance_fit"] = fit_power(size["residual"], out["residual"]["variance"])
    # Theorem 1 (a): the variance stays 1; its growth factor per layer, fitted like b.
    out["plain_variance_fit"] = fit_exponential(size["plain"], out["plain"]["variance"], 0.0)
    return out


def _at(m: dict[str, Any], kind: str, key: str, depth: int) -> float:
    return m[kind][key][m[kind]["depths"].index(depth)]


def claims(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim table from the measurements of ``measure``."""
    shallow, deep = _at(m, "plain", "r1", SHALLOW), _at(m, "plain", "r1", PLAIN_DEEP)
    res_deep = _at(m, "residual", "r1", RES_DEEP)
    b, alpha, floor = m["plain_fit"]["factor"], m["residual_fit"]["alpha"], m["floor"]
    nets, rfloor = m["networks"], m["rbar_floor"]
    draws = f"{nets} networks x {m['outputs']} output units"
    growth = -m["residual_variance_fit"]["alpha"]
    return [
        {
            "claim": "A 1-layer relu network's gradient is smooth along the input (brown-noise "
            "like) while a 24-layer plain network's is shattered (white-noise like).",
            "paper_value": "Fig. 1 (a), (b); white noise has autocorrelation 0 at every lag > 0",
            "measured": f"lag-1 autocorrelation along the grid r_1 = {shallow:.3f} at 1 layer, "
            f"{deep:.3f} at 24 layers (mean over {draws}; white-noise band "
            f"|r_1| < {floor:.3f})",
            "holds": bool(shallow > 0.9 and abs(deep) < floor),
        },
        {
            "claim": "In plain relu networks the gradients' correlation falls like 2^-L with "
            "depth L.",
            "paper_value": "factor 1/2 per layer: C(i, j) = 1/2^L (Theorem 1)",
            "measured": f"correlation over weights of the gradients at two grid points, mean "
            f"over pairs, fits A b^L with b = {b:.3f} per layer ({draws} a depth; "
            f"depths {_span(m['plain_fit']['depths'])} above {rfloor:.4f}); the gradient's "
            f"variance grows x{m['plain_variance_fit']['factor']:.2f} per layer (Theorem 1: x1)",
            "holds": bool(0.5 / math.sqrt(2) <= b <= 0.5 * math.sqrt(2)),
        },
        {
            "claim": "With residual blocks (and batch normalization) the correlation falls "
            "only like L^-1/2.",
            "paper_value": "sublinear decay, 1/sqrt(L) (Theorem 3)",
            "measured": f"the same correlation fits A L^-alpha with alpha = {alpha:.3f} "
            f"(depths {_span(m['residual_fit']['depths'])} above {rfloor:.4f}); the "
            f"gradient's variance grows like L^{growth:.2f} (Theorem 3: L^1)",
            "holds": bool(0.25 <= alpha <= 1.0),
        },
        {
            "claim": "A 50-block residual network keeps its gradients correlated where a "
            "24-layer plain network has shattered them.",
            "paper_value": "Fig. 1 (c) against (b)",
            "measured": f"r_1 = {res_deep:.3f} (residual, 50 blocks) against {deep:.3f} "
            f"(plain, 24 layers)",
            "holds": bool(res_deep > 0.5 and abs(deep) < floor),
        },
    ]


def _span(depths: list[int]) -> str:
    return f"{depths[0]}-{depths[-1]}" if depths else "none"


def _gradient_figure(m: dict[str, Any]) -> Any:
    """Fig. 1: the gradient along the grid of one network of each kind."""
    fig, axes = panels(3, width=3.5, height=3.0)
    examples = [
        (("plain", SHALLOW), "(a) 1-layer plain", PALETTE[0]),
        (("plain", PLAIN_DEEP), "(b) 24-layer plain", PALETTE[1]),
        (("residual", RES_DEEP), "(c) 50-block residual", PALETTE[2]),
    ]
    for ax, (key, title, colour) in zip(axes, examples, strict=True):
        ax.plot(m["x"], m["examples"][key], color=colour, lw=0.9)
        ax.set_title(f"{title} (mean r_1 {_at(m, key[0], 'r1', key[1]):.2f})", fontsize=10)
        ax.set_xlabel("input x")
    axes[0].set_ylabel("dy/dx at initialization")
    return fig


def _acf_figure(m: dict[str, Any]) -> Any:
    """Fig. 2: autocorrelation along the grid against the lag, mean over the networks."""
    fig, axes = panels(2, width=4.6, height=3.4)
    lags = np.arange(1, MAX_LAG + 1)
    for ax, kind in zip(axes, ("plain", "residual"), strict=True):
        shown = [d for d in ACF_DEPTHS[kind] if d in m[kind]["depths"]]
        for colour, depth in zip(PALETTE, shown, strict=False):
            acf = m[kind]["grid_acf"][m[kind]["depths"].index(depth)]
            unit = "layer" if kind == "plain" else "block"
            ax.semilogx(lags, acf[1:], color=colour, label=f"{depth} {unit}{'s' * (depth > 1)}")
        ax.axhspan(-m["floor"], m["floor"], color="0.88", label="white-noise band")
        ax.axhline(0.0, color="0.5", lw=0.6)
        ax.set(
            xlabel="lag (grid steps)", ylabel="autocorrelation along the grid", ylim=(-0.3, 1.02)
        )
        ax.set_title(f"{kind} networks (mean of {m['networks']} x {m['outputs']})", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
    return fig


def _decay_figure(m: dict[str, Any]) -> Any:
    """The theorems' quantity against depth, with the theorems' rates and the fits."""
    fig, (left, right) = panels(2, width=5.0, height=3.6)
    rfloor = m["rbar_floor"]
    d = np.asarray(m["plain"]["depths"], dtype=float)
    r = np.asarray(m["plain"]["rbar"])
    pos = r > 0  # a log axis: the depths where the mean is 0 or below are left out
    left.semilogy(d[pos], r[pos], "o", color=PALETTE[1], label="plain, mean over pairs")
    left.semilogy(d, 2.0**-d, "k--", lw=1, label="2^-L (Theorem 1)")
    fit = m["plain_fit"]
    if math.isfinite(fit["factor"]):
        label = f"fit A b^L, b = {fit['factor']:.2f}"
        left.semilogy(d, fit["amplitude"] * fit["factor"] ** d, ":", color=PALETTE[1], label=label)
    left.axhspan(1e-4, rfloor, color="0.88", label=f"below 2/n = {rfloor:.4f}")
    left.set(xlabel="depth L (layers)", ylabel="correlation of gradients over weights")
    left.set_ylim(1e-4, 1.5)
    left.legend(fontsize=8, loc="upper right")
    left.set_title("plain relu networks", fontsize=10)
    d = np.asarray(m["residual"]["depths"], dtype=float)
    r = np.asarray(m["residual"]["rbar"])
    pos = r > 0
    right.loglog(d[pos], r[pos], "s", color=PALETTE[2], label="residual, mean over pairs")
    right.loglog(d, r[0] * d**-0.5, "k--", lw=1, label="L^-1/2 (Theorem 3)")
    fit = m["residual_fit"]
    if math.isfinite(fit["alpha"]):
        label = f"fit A L^-alpha, alpha = {fit['alpha']:.2f}"
        right.loglog(d, fit["amplitude"] * d ** -fit["alpha"], ":", color=PALETTE[2], label=label)
    right.axhspan(1e-4, rfloor, color="0.88", label=f"below 2/n = {rfloor:.4f}")
    right.set(xlabel="depth L (residual blocks)", ylabel="correlation of gradients over weights")
    right.set_ylim(1e-4, 1.5)
    right.legend(fontsize=8, loc="lower left")
    right.set_title("residual relu networks", fontsize=10)
    return fig


def figures(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """Fig. 1 (gradients along the grid), Fig. 2 (their autocorrelation) and the
    theorems' correlation against depth."""
    return [
        ("gradients", _gradient_figure(m)),
        ("acf", _acf_figure(m)),
        ("decay", _decay_figure(m)),
    ]


def run(quick: bool, seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The claims and figures (see the module docstring for the sizes)."""
    m = measure(quick, seed)
    return claims(m), figures(m)
