"""Schoenholz et al. (2017): deep information propagation bounds the trainable depth.

Random tanh networks with weights ``N(0, sigma_w^2 / fan_in)`` and biases
``N(0, sigma_b^2)``, ``sigma_b^2 = 0.05`` as in the paper, over a grid of
``sigma_w^2`` and depth ``L`` (hidden layers, width 32), each trained with plain
SGD (learning rate 0.01, batch 32, 100 epochs = 800 steps) on
``make_circles(256, noise=0.05, factor=0.5)`` (a linear classifier gets
chance, 0.5, so a network either learns the circles or stays near chance).
The heatmap shows the final training accuracy (inference mode) with the
mean-field trainable depth ``6 xi`` of ``flow.theory.mean_field("tanh",
sigma_w^2, 0.05)`` overlaid; a network "trains" when its accuracy reaches 0.9.

The package's depth scale is ``xi = 1 / |ln chi1|``: it is the paper's
``xi_c`` in the ordered phase (``chi1 < 1``, where ``c* = 1``) and the
gradient depth scale there; in the chaotic phase the paper's ``xi_c`` uses
the slope of the correlation map at ``c* < 1`` instead, which is not the
same number. Grid: sigma_w^2 1.0-4.0 in steps of 0.25, depths 4-96 (quick:
four sigma_w^2 and four depths); the paper used MNIST and CIFAR-10, wide
layers and depths up to 300.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import flow
from ..datasets import make_circles
from ..initializers import RandomNormal
from ..layers import Dense
from ..models import Sequential
from ..optimizers import SGD
from ._figure import panels

NAME = "schoenholz2017"
PAPER = (
    "Samuel S. Schoenholz, Justin Gilmer, Surya Ganguli and Jascha Sohl-Dickstein (2017), "
    "Deep Information Propagation, ICLR 2017"
)
SUMMARY = (
    "tanh networks of width 32 over sigma_w^2 1-4 x depth 4-96 (sigma_b^2 = 0.05), 800 "
    "SGD steps on two circles instead of MNIST/CIFAR-10 with wide layers to depth 300; "
    "training accuracy against the mean-field 6 xi (xi = 1/|ln chi1|, the paper's xi_c "
    "only in the ordered phase)."
)

SIGMA_B2 = 0.05
WIDTH, BATCH, EPOCHS = 32, 32, 100
#: Training accuracy at which a network counts as trained.
TRAINED = 0.9


def _sizes(quick: bool) -> tuple[list[float], list[int]]:
    if quick:
        return [1.0, 2.0, 3.0, 4.0], [4, 16, 48, 96]
    return [float(s) for s in np.arange(1.0, 4.01, 0.25)], [4, 8, 12, 16, 24, 32, 48, 64, 80, 96]


def build(sigma_w2: float, depth: int, seed: int) -> Sequential:
    """A tanh network of ``depth`` hidden layers at ``(sigma_w^2, SIGMA_B2)``."""
    model = Sequential(seed=seed)
    bias = RandomNormal(0.0, math.sqrt(SIGMA_B2))
    for i in range(depth):
        fan_in = 2 if i == 0 else WIDTH
        model.add(
            Dense(
                WIDTH,
                activation="tanh",
                kernel_initializer=RandomNormal(0.0, math.sqrt(sigma_w2 / fan_in)),
                bias_initializer=bias,
                input_dim=2 if i == 0 else None,
            )
        )
    out = RandomNormal(0.0, math.sqrt(sigma_w2 / WIDTH))
    model.add(Dense(1, activation="sigmoid", kernel_initializer=out))
    model.compile(loss="binary_crossentropy", optimizer=SGD(0.01), metrics=["accuracy"])
    return model


def trainable_depth(sigma_w2: float) -> float:
    """``6 xi`` at ``(sigma_w^2, SIGMA_B2)`` for tanh (``flow.theory.mean_field``)."""
    return float(flow.theory.mean_field("tanh", sigma_w2, SIGMA_B2)["trainable_depth"])


def measure(quick: bool, seed: int) -> dict[str, Any]:
    """Training accuracy of every grid cell and the mean-field trainable depths."""
    sigmas, depths = _sizes(quick)
    x, y = make_circles(256, noise=0.05, factor=0.5, random_state=seed)
    acc = np.zeros((len(depths), len(sigmas)))
    for j, s2 in enumerate(sigmas):
        for i, depth in enumerate(depths):
            model = build(s2, depth, seed)
            model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)
            acc[i, j] = model.evaluate(x, y, verbose=0)[1]
    return {
        "sigmas": sigmas,
        "depths": depths,
        "accuracy": acc,
        "six_xi": np.array([trainable_depth(s) for s in sigmas]),
    }


def sides(m: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """``(trained, total)`` of the cells within ``6 xi`` and of those beyond ``2 x 6 xi``."""
    depth = np.asarray(m["depths"], dtype=float)[:, None]
    trained = m["accuracy"] >= TRAINED
    within = depth <= m["six_xi"][None, :]
    beyond = depth >= 2.0 * m["six_xi"][None, :]
    return {
        "within": (int(trained[within].sum()), int(within.sum())),
        "beyond": (int(trained[beyond].sum()), int(beyond.sum())),
    }


def claims(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim table from the measurements of ``measure``."""
    s = sides(m)
    (tw, nw), (tb, nb) = s["within"], s["beyond"]
    fw, fb = tw / max(nw, 1), tb / max(nb, 1)
    return [
        {
            "claim": f"Networks within the mean-field trainable depth 6 xi train (accuracy >= "
            f"{TRAINED}).",
            "paper_value": "Fig. 5-6: networks train up to L ~ 6 xi_c, the white dashed curve",
            "measured": f"{tw} of {nw} networks with L <= 6 xi train ({fw:.0%})",
            "holds": bool(nw > 0 and fw >= 0.8),
        },
        {
            "claim": "Networks much deeper than 6 xi fail to train.",
            "paper_value": "Fig. 5-6: beyond 6 xi_c training accuracy stays at chance",
            "measured": f"{tb} of {nb} networks with L >= 2 x 6 xi train ({fb:.0%})",
            "holds": bool(nb > 0 and fb <= 0.2),
        },
    ]


def figures(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """The accuracy heatmap over sigma_w^2 x depth with the 6 xi curve (the paper's Fig. 5)."""
    sigmas, depths = np.asarray(m["sigmas"]), np.asarray(m["depths"], dtype=float)

    def edges(v: np.ndarray) -> np.ndarray:
        mid = (v[1:] + v[:-1]) / 2
        return np.r_[v[0] - (mid[0] - v[0]), mid, v[-1] + (v[-1] - mid[-1])]

    fig, (ax,) = panels(1, width=6.4, height=4.4)
    mesh = ax.pcolormesh(
        edges(sigmas), edges(depths), m["accuracy"], cmap="viridis", vmin=0.4, vmax=1.0
    )
    fig.colorbar(mesh, ax=ax, label="training accuracy")
    fine = np.linspace(sigmas[0], sigmas[-1], 241)
    six_xi = np.array([trainable_depth(s) for s in fine])
    top = edges(depths)[-1]
    ax.plot(fine, np.minimum(six_xi, 1e6), color="white", ls="--", lw=2, label="6 xi")
    ax.plot(fine, np.minimum(2 * six_xi, 1e6), color="white", ls=":", lw=1.5, label="2 x 6 xi")
    ax.set(
        xlim=(edges(sigmas)[0], edges(sigmas)[-1]),
        ylim=(edges(depths)[0], top),
        xlabel="sigma_w^2",
        ylabel="depth L (hidden tanh layers)",
    )
    ax.set_title(
        f"tanh, sigma_b^2 = {SIGMA_B2}: training accuracy after {EPOCHS} epochs\n"
        "white: 6 xi (dashed) and 2 x 6 xi (dotted), mean-field theory",
        fontsize=10,
    )
    return [("heatmap", fig)]


def run(quick: bool, seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The claims and figures (see the module docstring for the sizes)."""
    m = measure(quick, seed)
    return claims(m), figures(m)
