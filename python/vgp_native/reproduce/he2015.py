"""He et al. (2015): rectifier networks need twice Xavier's weight variance.

A relu layer zeroes half of its pre-activation's mass, so with weights of
variance ``Var[w] = 1/n`` (Xavier) the variance of the signal halves at every
layer, forward (He et al. 2015, eq. 9: ``Var[y_L] = Var[y_1] prod 1/2 n Var[w]``)
and backward (eq. 13, the same product for ``Var[dL/dx]``): the signal's scale
shrinks by ``1/sqrt(2)`` per layer, ``2^-14.5`` over the 29 steps of a 30-layer
network. He initialization, ``Var[w] = 2/n`` (eqs. 10 and 14), holds it. Their
Fig. 3 trains a 30-layer network both ways: He's converges, Xavier's stalls.

Here: 30 hidden relu layers of 128 units and a sigmoid output on ``make_moons``
(512 points, noise 0.1), ``glorot_normal`` (Xavier) against ``he_normal``.
At initialization ``flow.analyze`` measures, per hidden layer, the root mean
square of the activations (forward signal; for a relu output it is
``sqrt(Var[y] / 2)``, proportional to the pre-activation's scale) and the norm
of the backpropagated signal ``dL/dh`` (backward). Each network is then trained
with SGD (learning rate 0.01, momentum 0.9, as the paper's solver), batch 32,
for the same number of epochs. Full run: 3 seeds derived from ``seed``, 60
epochs; quick run: 1 seed, 25 epochs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import flow
from ..datasets import make_moons
from ..layers import Dense
from ..models import Sequential
from ..optimizers import SGD
from ._figure import PALETTE, panels, seeds_from

NAME = "he2015"
PAPER = (
    "Kaiming He, Xiangyu Zhang, Shaoqing Ren and Jian Sun (2015), Delving Deep into "
    "Rectifiers: Surpassing Human-Level Performance on ImageNet Classification, ICCV 2015"
)
SUMMARY = (
    "A 30-layer relu MLP (128 units per layer) on make_moons instead of the paper's 30-layer "
    "ImageNet convnet: forward and backpropagated signal per layer at initialization under "
    "Xavier and He init, then training loss under SGD with momentum for the same budget "
    "(full: 3 seeds x 60 epochs; quick: 1 seed x 25 epochs)."
)

DEPTH = 30
WIDTH = 128
#: Tolerances of the claims: Xavier's per-layer factor within 10 % of 1/sqrt(2);
#: He's total factor within 3x of 1; "stalls": loss above 90 % of chance;
#: "well below": He's loss under half Xavier's.
XAVIER_TOL = 0.10
HE_SPAN = 3.0
STALL = 0.9
WELL_BELOW = 0.5
INITS = {"xavier": "glorot_normal", "he": "he_normal"}


def _model(init: str, seed: int) -> Sequential:
    model = Sequential(seed=seed)
    model.add(Dense(WIDTH, activation="relu", kernel_initializer=init, input_dim=2))
    for _ in range(DEPTH - 1):
        model.add(Dense(WIDTH, activation="relu", kernel_initializer=init))
    model.add(Dense(1, activation="sigmoid", kernel_initializer=init))
    model.compile(loss="binary_crossentropy", optimizer=SGD(0.01, momentum=0.9))
    return model


def _signals(model: Sequential, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward (activation RMS) and backward (``||dL/dh||``) signal per hidden layer."""
    layers = flow.analyze(model, X, y, jacobian_samples=0).to_dict()["layers"][:DEPTH]
    forward = np.array([math.hypot(r["act_mean"], r["act_std"]) for r in layers])
    backward = np.array([r["signal_norm"] for r in layers])
    return forward, backward


def measure(quick: bool, seed: int) -> dict[str, Any]:
    """Signals at initialization and loss curves, per init and seed.

    Returns:
        ``{"seeds", "epochs", "chance", "forward": {init: (seeds, DEPTH)},
        "backward": {...}, "loss": {init: (seeds, epochs)}, "initial_loss": {...}}``;
        forward signals are divided by the first hidden layer's, backward ones by
        the last hidden layer's.
    """
    seeds = seeds_from(seed, 1 if quick else 3)
    epochs = 25 if quick else 60
    X, y = make_moons(512, noise=0.1, random_state=seed)
    out: dict[str, Any] = {"seeds": seeds, "epochs": epochs, "chance": math.log(2.0)}
    for key in ("forward", "backward", "loss", "initial_loss"):
        out[key] = {name: [] for name in INITS}
    for s in seeds:
        for name, init in INITS.items():
            model = _model(init, s)
            fwd, bwd = _signals(model, X, y)
            out["forward"][name].append(fwd / fwd[0])
            out["backward"][name].append(bwd / bwd[-1])
            out["initial_loss"][name].append(model.evaluate(X, y, verbose=0))
            history = model.fit(X, y, epochs=epochs, batch_size=32, verbose=0)
            out["loss"][name].append(history.history["loss"])
    for key in ("forward", "backward", "loss", "initial_loss"):
        out[key] = {name: np.array(v, dtype=np.float64) for name, v in out[key].items()}
    return out


def factors(m: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per seed: the total factor over the 29 steps and the per-layer (geometric mean) factor.

    Keys ``"<direction>_<init>_total"`` and ``"<direction>_<init>_per_layer"``, with
    direction ``forward`` (layer 30 over layer 1) or ``backward`` (layer 1 over 30).
    """
    out = {}
    for direction in ("forward", "backward"):
        for name in INITS:
            sig = m[direction][name]
            total = sig[:, -1] if direction == "forward" else sig[:, 0]
            out[f"{direction}_{name}_total"] = total
            out[f"{direction}_{name}_per_layer"] = total ** (1.0 / (DEPTH - 1))
    return out


def _range(values: np.ndarray, fmt: str) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return format(lo, fmt) if lo == hi else f"{format(lo, fmt)}..{format(hi, fmt)}"


def claims(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The paper's claims, checked against ``measure``'s numbers."""
    f = factors(m)
    target = 1.0 / math.sqrt(2.0)
    n = len(m["seeds"])
    over = f"over {n} seeds" if n > 1 else "1 seed"
    out = []
    for direction, eq in (("forward", "9"), ("backward", "13")):
        per = f[f"{direction}_xavier_per_layer"]
        total = f[f"{direction}_xavier_total"]
        out.append(
            {
                "claim": f"With Xavier init the {direction} signal shrinks by 1/sqrt(2) per "
                "relu layer.",
                "paper_value": f"x0.707 per layer, 2^-14.5 over 29 layers (eq. {eq}, n Var[w]=1)",
                "measured": f"x{_range(per, '.3f')} per layer, 2^{_range(np.log2(total), '.1f')}"
                f" ({over})",
                "holds": bool(np.all(np.abs(per / target - 1.0) <= XAVIER_TOL)),
            }
        )
    for direction, eq in (("forward", "10"), ("backward", "14")):
        total = f[f"{direction}_he_total"]
        out.append(
            {
                "claim": f"With He init the {direction} signal holds its scale over 30 layers "
                f"(within {HE_SPAN:g}x).",
                "paper_value": f"x1 per layer (eq. {eq}, 1/2 n Var[w]=1)",
                "measured": f"x{_range(total, '.2f')} over 29 layers ({over})",
                "holds": bool(np.all((total >= 1 / HE_SPAN) & (total <= HE_SPAN))),
            }
        )
    he_end, xa_end = m["loss"]["he"][:, -1], m["loss"]["xavier"][:, -1]
    out.append(
        {
            "claim": "Trained for the same budget, He's training loss falls well below "
            "Xavier's (under half).",
            "paper_value": "Fig. 3: 30 layers, He init converges, Xavier does not",
            "measured": f"final loss He {_range(he_end, '.3f')}, Xavier {_range(xa_end, '.3f')}"
            f" ({m['epochs']} epochs, {over})",
            "holds": bool(np.all(he_end < WELL_BELOW * xa_end)),
        }
    )
    out.append(
        {
            "claim": "Xavier's 30-layer relu network stalls: its loss stays near chance "
            f"(above {STALL:.0%} of ln 2).",
            "paper_value": "Fig. 3: with Xavier init the 30-layer model stalls",
            "measured": f"final loss {_range(xa_end, '.3f')} vs ln 2 = {m['chance']:.3f}",
            "holds": bool(np.all(xa_end > STALL * m["chance"])),
        }
    )
    return out


def figures(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """The signal per layer at initialization, and the training loss (their Fig. 3)."""
    fig, (fwd_ax, bwd_ax) = panels(2)
    layers = np.arange(1, DEPTH + 1)
    for ax, direction, title in (
        (fwd_ax, "forward", "forward: activation RMS / layer 1's"),
        (bwd_ax, "backward", "backward: ||dL/dh|| / layer 30's"),
    ):
        steps = layers - 1 if direction == "forward" else DEPTH - layers
        ax.plot(layers, 2.0 ** (-steps / 2), color="0.5", ls="--", lw=1, label="2^(-k/2) (eq. 9)")
        for i, name in enumerate(INITS):
            for k, sig in enumerate(m[direction][name]):
                label = f"{name} ({INITS[name]})" if k == 0 else None
                ax.plot(layers, sig, color=PALETTE[i], marker="os"[i], ms=3, lw=1, label=label)
        ax.set_yscale("log", base=2)
        ax.set_xlabel("hidden layer")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="lower left" if direction == "forward" else "lower right")
    fwd_ax.set_ylabel("signal, relative (log2 scale)")
    fig.suptitle(f"He et al. 2015: {DEPTH}-layer relu net at initialization", fontsize=11)

    fig2, (ax,) = panels(1, width=6.0)
    epochs = np.arange(1, m["epochs"] + 1)
    for i, name in enumerate(INITS):
        for k, loss in enumerate(m["loss"][name]):
            label = f"{name} ({INITS[name]})" if k == 0 else None
            ax.plot(epochs, loss, color=PALETTE[i], lw=1.5, label=label)
    ax.axhline(m["chance"], color="0.5", ls="--", lw=1, label="chance (ln 2)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (binary cross-entropy)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{DEPTH} relu layers, SGD + momentum (cf. their Fig. 3)", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return [("signals", fig), ("training", fig2)]


def run(quick: bool, seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The preset's claims and figures (see the module docstring for the setting)."""
    m = measure(quick, seed)
    return claims(m), figures(m)
