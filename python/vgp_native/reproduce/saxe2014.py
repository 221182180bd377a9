"""Saxe, McClelland & Ganguli (2014): depth-independent learning from orthogonal init.

A deep linear network ``y = W_D ... W_2 W_1 x`` computes a linear map, yet its
gradient-descent dynamics are nonlinear and change with depth. Saxe et al.
solve them exactly and find that, from initial conditions whose product of
weight matrices has all singular values 1 (random orthogonal matrices in
every layer), learning takes a finite, depth-independent time, while scaled
random Gaussian matrices (``Var = 1/n``), whose product has singular values
spread ever wider with depth, learn more and more slowly as depth grows.

Here: ``n``-dimensional whitened inputs ``x ~ N(0, I)`` (256 samples), a fixed
target map ``A = U diag(s) V^T`` with random orthogonal ``U, V`` and singular
values ``s`` evenly spread from 0.5 to 2; networks of ``D`` linear Dense layers
(``n`` units, no bias) with ``Orthogonal()`` or ``RandomNormal(0, 1/sqrt(n))``
kernels, mean squared error, SGD with batches of 32. The learning rate is the
best of ``{0.3, 1, 3, 10} / D`` for each depth and initialization: gradient
descent on ``D`` layers moves the product map about ``D`` times as fast, and
the best of a grid keeps either initialization from being handicapped by one
step size. Measured: the epochs until the epoch's mean loss falls below 5 % of
the target's mean square (the loss of the zero map), with ``log(loss)``
interpolated between the epochs around the crossing, capped at a budget; the
growth with depth is summarized by the exponent ``a`` of ``epochs ~ depth^a``.
Orthogonal networks take a few more epochs at depth 8 than at depth 2 and then
level off; Gaussian ones slow down by orders of magnitude.

Sizes: full ``n = 32``, depths 2 to 64, 1000 epochs at most; quick ``n = 16``,
depths 2 to 32, 300 epochs at most.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..callbacks import Callback
from ..initializers import Orthogonal, RandomNormal
from ..layers import Dense
from ..models import Sequential
from ..optimizers import SGD
from ._figure import PALETTE, panels

NAME = "saxe2014"
PAPER = (
    "Andrew M. Saxe, James L. McClelland and Surya Ganguli (2014), Exact solutions to the "
    "nonlinear dynamics of learning in deep linear neural networks, ICLR 2014"
)
SUMMARY = (
    "Deep linear networks (32 units, depths 2-64; quick: 16 units, depths 2-32) learning a fixed "
    "linear map from whitened Gaussian inputs instead of the paper's MNIST: epochs of SGD "
    "(batch 32) until the loss falls below 5 % of the target's mean square, orthogonal vs scaled "
    "Gaussian init, each with the best learning rate of {0.3, 1, 3, 10}/depth."
)

INITS = ("orthogonal", "gaussian")
LEARNING_RATES = (0.3, 1.0, 3.0, 10.0)
THRESHOLD = 0.05
#: Growth of the epochs with depth is measured by the exponent ``alpha`` of a
#: least-squares fit ``epochs ~ depth^alpha`` over all depths (a network that
#: never reached the threshold counts as the budget, which only lowers alpha).
#: "Nearly flat": alpha below 1/2, slower than sqrt(depth); "grows with depth":
#: alpha at least 1, as fast as depth or faster.
FLAT = 0.5
GROWS = 1.0


class _Threshold(Callback):
    """Stop training once the epoch's loss falls below ``level``."""

    def __init__(self, level: float) -> None:
        super().__init__()
        self.level = level

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is not None and logs["loss"] < self.level:
            self.model.stop_training = True


def _kernel(init: str, n: int) -> Any:
    return Orthogonal() if init == "orthogonal" else RandomNormal(0.0, 1.0 / math.sqrt(n))


def _crossing(losses: list[float], level: float) -> float | None:
    """The (fractional) epoch at which the loss curve crosses ``level``, or None.

    ``losses[0]`` is the loss before training, ``losses[e]`` the mean loss of
    epoch ``e``; between the last epoch above ``level`` and the first below it,
    ``log(loss)`` is interpolated linearly, so that a few epochs still resolve
    finely.
    """
    below = [e for e, loss in enumerate(losses) if loss < level]
    if not below or below[0] == 0:
        return None if not below else 0.0
    e = below[0]
    before, after = math.log(losses[e - 1]), math.log(losses[e])
    return e - 1 + (before - math.log(level)) / (before - after)


def _train(
    init: str, depth: int, lr: float, data: tuple[np.ndarray, np.ndarray], budget: int, seed: int
) -> tuple[float | None, list[float]]:
    """Epochs to the threshold (None: not within ``budget``) and the loss curve (epoch 0 first)."""
    X, Y = data
    n = X.shape[1]
    model = Sequential(seed=seed)
    for k in range(depth):
        extra = {"input_dim": n} if k == 0 else {}
        model.add(Dense(n, use_bias=False, kernel_initializer=_kernel(init, n), **extra))
    model.compile(loss="mse", optimizer=SGD(lr))
    level = THRESHOLD * float(np.mean(Y**2))
    start = float(model.evaluate(X, Y, verbose=0))
    history = model.fit(
        X, Y, epochs=budget, batch_size=32, verbose=0, callbacks=[_Threshold(level)]
    )
    losses = [start, *history.history["loss"]]
    return _crossing(losses, level), losses


def measure(quick: bool, seed: int) -> dict[str, Any]:
    """Epochs to the threshold per initialization and depth (best learning rate of the grid).

    Returns:
        ``{"depths", "budget", "epochs": {init: [float | None per depth]},
        "lr": {init: [...]}, "curves": {init: [loss list per depth]}, "target_ms"}``;
        ``None`` where no learning rate reached the threshold within the budget.
    """
    n, depths, budget = (16, [2, 4, 8, 16, 32], 300) if quick else (32, [2, 4, 8, 16, 32, 64], 1000)
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.normal(size=(n, n)))
    v, _ = np.linalg.qr(rng.normal(size=(n, n)))
    target = u @ np.diag(np.linspace(0.5, 2.0, n)) @ v.T
    X = rng.normal(size=(256, n))
    Y = X @ target.T
    out: dict[str, Any] = {"depths": depths, "budget": budget, "target_ms": float(np.mean(Y**2))}
    for key in ("epochs", "lr", "curves"):
        out[key] = {init: [] for init in INITS}
    for init in INITS:
        for depth in depths:
            tries = []
            for lr0 in LEARNING_RATES:
                hit, curve = _train(init, depth, lr0 / depth, (X, Y), budget, seed)
                tries.append((math.inf if hit is None else hit, lr0 / depth, curve, hit))
            _, lr, curve, hit = min(tries, key=lambda t: t[0])
            out["epochs"][init].append(hit)
            out["lr"][init].append(lr)
            out["curves"][init].append(curve)
    return out


def _epochs(m: dict[str, Any], init: str) -> np.ndarray:
    """Epochs per depth, the budget standing in for "not reached"."""
    return np.array([m["budget"] if e is None else e for e in m["epochs"][init]], dtype=float)


def exponent(m: dict[str, Any], init: str) -> float:
    """``alpha`` of the least-squares fit ``log epochs = alpha log depth + c``."""
    return float(np.polyfit(np.log(m["depths"]), np.log(_epochs(m, init)), 1)[0])


def _listed(m: dict[str, Any], init: str) -> str:
    return ", ".join(
        f"{'>' + str(m['budget']) if e is None else format(e, '.1f')}" for e in m["epochs"][init]
    )


def claims(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The paper's claims, checked against ``measure``'s numbers."""
    orth, gauss = _epochs(m, "orthogonal"), _epochs(m, "gaussian")
    a_orth, a_gauss = exponent(m, "orthogonal"), exponent(m, "gaussian")
    reached = all(e is not None for e in m["epochs"]["orthogonal"])
    depths = "/".join(str(d) for d in m["depths"])
    deepest = m["depths"][-1]
    return [
        {
            "claim": f"With orthogonal init the epochs to reach the loss threshold stay nearly "
            f"flat from depth 2 to {deepest} (epochs ~ depth^a with a < {FLAT:g}).",
            "paper_value": "abstract: random orthogonal init enjoys depth-independent "
            "learning times",
            "measured": f"epochs {_listed(m, 'orthogonal')} at depth {depths}; a = {a_orth:.2f}",
            "holds": reached and a_orth < FLAT,
        },
        {
            "claim": f"With scaled Gaussian init (Var = 1/n) the epochs grow with depth "
            f"(a >= {GROWS:g}).",
            "paper_value": "abstract: scaled random Gaussian init cannot reach the "
            "depth-independent class; learning slows with depth",
            "measured": f"epochs {_listed(m, 'gaussian')} at depth {depths}; a "
            f"{'>= ' if None in m['epochs']['gaussian'] else '= '}{a_gauss:.2f}",
            "holds": a_gauss >= GROWS,
        },
        {
            "claim": f"At depth {deepest} orthogonal init reaches the threshold in fewer "
            "epochs than scaled Gaussian init.",
            "paper_value": "abstract: orthogonal init learns deep networks faster",
            "measured": f"{orth[-1]:.1f} vs "
            f"{'>' if m['epochs']['gaussian'][-1] is None else ''}{gauss[-1]:.0f} epochs",
            "holds": bool(orth[-1] < gauss[-1]),
        },
    ]


def figures(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """Epochs to the threshold against depth, and the loss curves behind them."""
    fig, (ax, curve_ax) = panels(2)
    depths = np.array(m["depths"])
    for i, init in enumerate(INITS):
        epochs = _epochs(m, init)
        missing = np.array([e is None for e in m["epochs"][init]])
        label = "orthogonal" if init == "orthogonal" else "scaled Gaussian N(0, 1/n)"
        ax.plot(depths, epochs, color=PALETTE[i], marker="os"[i], label=label)
        if missing.any():
            ax.scatter(
                depths[missing],
                epochs[missing],
                marker="^",
                s=70,
                color=PALETTE[i],
                zorder=3,
                label=f"{init}: budget reached" if i else None,
            )
    ax.axhline(m["budget"], color="0.5", ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(depths, [str(d) for d in depths])
    ax.set_xlabel("depth (linear layers)")
    ax.set_ylabel(f"epochs to loss < {THRESHOLD:.0%} of target")
    ax.set_title("learning time vs depth (dotted: budget)", fontsize=10)
    ax.legend(fontsize=8, loc="center right")
    shades = np.linspace(0.35, 1.0, 3)
    shown = (depths[0], depths[len(depths) // 2], depths[-1])
    for i, init in enumerate(INITS):
        curves = dict(zip(m["depths"], m["curves"][init], strict=True))
        for depth, shade in zip(shown, shades, strict=True):
            rel = np.array(curves[depth][1:]) / m["target_ms"]
            curve_ax.plot(
                np.arange(1, len(rel) + 1),
                rel,
                color=PALETTE[i],
                alpha=shade,
                ls="-" if init == "orthogonal" else "--",
                label=f"{init} D={depth}",
            )
    curve_ax.axhline(THRESHOLD, color="0.5", ls=":", lw=1)
    curve_ax.set_xscale("log")
    curve_ax.set_yscale("log")
    curve_ax.set_ylim(THRESHOLD / 3, None)
    curve_ax.set_xlabel("epoch")
    curve_ax.set_ylabel("epoch's loss / target mean square")
    curve_ax.set_title("loss until the threshold (dotted), best learning rate", fontsize=10)
    curve_ax.legend(fontsize=7, loc="lower right", ncol=2)
    fig.suptitle("Saxe et al. 2014: deep linear networks", fontsize=11)
    return [("learning_time", fig)]


def run(quick: bool, seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The preset's claims and figures (see the module docstring for the setting)."""
    m = measure(quick, seed)
    return claims(m), figures(m)
