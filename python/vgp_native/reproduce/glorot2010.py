"""Glorot & Bengio (2010): why standard initialization starves the lower layers.

In the linear regime of tanh, the variance of the backpropagated gradient
``dC/ds`` changes by ``n Var[W]`` per layer (their Sec. 4.2.1). The "standard"
initialization ``W ~ U[-1/sqrt(n), 1/sqrt(n)]`` (eq. 1) gives ``n Var[W] = 1/3``
(eq. 15): the gradient variance shrinks threefold per layer going down. The
normalized initialization ``U[-sqrt(6/(n_j + n_{j+1})), +...]`` (eq. 16, Xavier,
``glorot_uniform``) gives ``n Var[W] = 1`` on square layers. The layer Jacobians
``J = dz^{i+1}/dz^i`` then have a mean singular value of about 0.8 (normalized)
against 0.5 (standard). Their Fig. 2 trains a 4-hidden-layer sigmoid network
with standard initialization: the top hidden layer saturates at 0 early while
the lower layers stay near 0.5.

Data: a small Shapeset-like set made here (16x16 binary images holding one or
two shapes among square, disk and triangle; 9 classes: three single shapes and
six pairs), in place of the paper's 32x32 Shapeset-3x2.

- Gradients at initialization: 5 hidden tanh layers of 256 units (quick: 128)
  and a 9-way softmax, on 512 images centred and scaled to standard deviation
  0.1 so that the units work in the linear regime of the derivation.
  ``flow.analyze`` gives ``||dC/dh||`` per hidden layer; the ratio of squares of
  neighbours is the per-layer variance factor. ``flow.segment_jacobians`` gives
  the four hidden-to-hidden Jacobians on 32 inputs (quick: 16).
- Saturation during training (Fig. 2): 4 hidden sigmoid layers of 200 units
  (the paper: 1000), standard initialization, SGD with learning rate 0.1 and
  batches of 10 on raw images, 2000 images x 100 epochs (quick: 1000 x 60);
  ``callbacks.GradientFlow`` records the mean and spread of each layer's
  activations per epoch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import callbacks, flow
from ..initializers import RandomUniform
from ..layers import Dense
from ..models import Sequential
from ..optimizers import SGD
from ._figure import PALETTE, panels

NAME = "glorot2010"
PAPER = (
    "Xavier Glorot and Yoshua Bengio (2010), Understanding the difficulty of training deep "
    "feedforward neural networks, AISTATS 2010 (PMLR 9:249-256)"
)
SUMMARY = (
    "Gradient variance and layer-Jacobian singular values at initialization in a "
    "5-hidden-layer tanh MLP (256 units, inputs scaled into the linear regime), standard vs "
    "normalized init; then the Fig. 2 saturation trend in a 4-hidden-layer sigmoid MLP "
    "(200 units instead of 1000) trained by SGD on a small Shapeset-like image set made here "
    "(16x16, 9 classes) instead of Shapeset-3x2."
)

SIZE = 16
N_CLASSES = 9
_PAIRS = np.array([(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)])
#: "Within 20 %" of the predicted variance factor (1/3 or 1).
FACTOR_TOL = 0.20
#: Fig. 2: "saturated at 0" is a mean activation below this, and "near 0.5"
#: within this distance of 0.5.
SATURATED = 0.1
NEAR_HALF = 0.15


def _shape_masks(kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(n, SIZE, SIZE)`` masks of one shape each: 0 square, 1 disk, 2 triangle."""
    n = kind.shape[0]
    r = rng.uniform(2.0, SIZE / 4, n)
    cx = r + rng.uniform(0.0, 1.0, n) * (SIZE - 1 - 2 * r)
    cy = r + rng.uniform(0.0, 1.0, n) * (SIZE - 1 - 2 * r)
    gy, gx = np.mgrid[0:SIZE, 0:SIZE]
    dx, dy, r = gx[None] - cx[:, None, None], gy[None] - cy[:, None, None], r[:, None, None]
    square = np.maximum(np.abs(dx), np.abs(dy)) <= r
    disk = dx**2 + dy**2 <= r**2
    triangle = (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    k = kind[:, None, None]
    return np.where(k == 0, square, np.where(k == 1, disk, triangle))


def make_shapes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` binary 16x16 images (flattened) and labels 0..8.

    Labels 0-2: one square, disk or triangle; 3-8: two shapes, the unordered
    pairs (square, square), (square, disk), ..., (triangle, triangle). Position
    and size are random; two shapes may overlap.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_CLASSES, n)
    pair = _PAIRS[np.maximum(y - 3, 0)]
    first = np.where(y < 3, y, pair[:, 0])
    second = _shape_masks(pair[:, 1], rng) & (y >= 3)[:, None, None]
    images = _shape_masks(first, rng) | second
    return images.reshape(n, -1).astype(np.float64), y


def _standard(fan_in: int) -> RandomUniform:
    """The paper's "standard" initialization U[-1/sqrt(n), 1/sqrt(n)] (eq. 1)."""
    limit = 1.0 / math.sqrt(fan_in)
    return RandomUniform(-limit, limit)


def _init(kind: str, fan_in: int) -> Any:
    return _standard(fan_in) if kind == "standard" else "glorot_uniform"


def _mlp(kind: str, widths: list[int], activation: str, seed: int, optimizer: Any) -> Sequential:
    model = Sequential(seed=seed)
    fan_in = SIZE * SIZE
    for k, width in enumerate(widths):
        extra = {"input_dim": fan_in} if k == 0 else {}
        model.add(Dense(width, activation, kernel_initializer=_init(kind, fan_in), **extra))
        fan_in = width
    model.add(Dense(N_CLASSES, "softmax", kernel_initializer=_init(kind, fan_in)))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer)
    return model


def _at_init(kind: str, X: np.ndarray, y: np.ndarray, width: int, seed: int, n_jac: int) -> Any:
    """Per-layer gradient-variance factors and hidden-to-hidden Jacobian singular values."""
    model = _mlp(kind, [width] * 5, "tanh", seed, "sgd")
    rows = flow.analyze(model, X, y, jacobian_samples=0).to_dict()["layers"][:5]
    signal = np.array([r["signal_norm"] for r in rows])
    # Var[dC/ds^i] / Var[dC/ds^{i+1}] for equal widths: the ratio of squared norms.
    factors = (signal[:-1] / signal[1:]) ** 2
    jacobians = [jac for _, _, jac in flow.segment_jacobians(model, X[:n_jac])[1:5]]
    sv = np.concatenate([np.linalg.svd(j, compute_uv=False).ravel() for j in jacobians])
    return signal / signal[-1], factors, sv


def measure(quick: bool, seed: int) -> dict[str, Any]:
    """Everything the claims and figures use.

    Returns:
        ``{"variance": {kind: (5,)}, "factors": {kind: (4,)}, "singular": {kind: (k,)},
        "act_mean": (epochs + 1, 4), "act_std": ..., "loss": (epochs + 1,), "epochs",
        "updates_per_epoch"}`` with kind ``standard`` or ``normalized``; ``variance``
        is ``||dC/dh||^2`` per hidden layer over the top hidden layer's.
    """
    width, n_jac = (128, 16) if quick else (256, 32)
    X, y = make_shapes(512, seed)
    X = 0.1 * (X - X.mean(axis=0)) / (X.std() or 1.0)
    out: dict[str, Any] = {"variance": {}, "factors": {}, "singular": {}}
    for kind in ("standard", "normalized"):
        signal, factors, sv = _at_init(kind, X, y, width, seed, n_jac)
        out["variance"][kind] = signal**2
        out["factors"][kind] = factors
        out["singular"][kind] = sv

    n_train, epochs = (1000, 60) if quick else (2000, 100)
    X, y = make_shapes(n_train, seed + 1)
    model = _mlp("standard", [200] * 4, "sigmoid", seed, SGD(0.1))
    recorder = callbacks.GradientFlow()
    model.fit(X, y, epochs=epochs, batch_size=10, verbose=0, callbacks=[recorder])
    history = recorder.history
    out["act_mean"] = history.field("act_mean")[:, :4]
    out["act_std"] = history.field("act_std")[:, :4]
    out["loss"] = np.asarray(history.loss, dtype=np.float64)
    out["epochs"] = epochs
    out["updates_per_epoch"] = math.ceil(n_train / 10)
    return out


def saturation(m: dict[str, Any]) -> dict[str, Any]:
    """Fig. 2 numbers: when the top layer's mean falls below ``SATURATED``, the others' range."""
    top = m["act_mean"][:, 3]
    below = np.flatnonzero(top < SATURATED)
    lower = m["act_mean"][:, :3]
    return {
        "first_epoch": int(below[0]) if below.size else None,
        "final_top": float(top[-1]),
        "lower_min": lower.min(axis=0),
        "lower_max": lower.max(axis=0),
    }


def claims(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The paper's claims, checked against ``measure``'s numbers."""
    std_f, norm_f = m["factors"]["standard"], m["factors"]["normalized"]
    sv_std, sv_norm = (float(np.mean(m["singular"][k])) for k in ("standard", "normalized"))
    sat = saturation(m)
    first, epochs = sat["first_epoch"], m["epochs"]
    lower_far = np.maximum(np.abs(sat["lower_min"] - 0.5), np.abs(sat["lower_max"] - 0.5))
    spans = ", ".join(
        f"L{i + 1} {lo:.2f}..{hi:.2f}"
        for i, (lo, hi) in enumerate(zip(sat["lower_min"], sat["lower_max"], strict=True))
    )

    def listed(values: np.ndarray) -> str:
        return ", ".join(f"{v:.3f}" for v in values)

    return [
        {
            "claim": "Standard init U[-1/sqrt(n), 1/sqrt(n)]: the backpropagated gradient's "
            "variance shrinks by n Var[W] = 1/3 per tanh layer (each within 20 %).",
            "paper_value": "n Var[W] = 1/3 per layer (eq. 15)",
            "measured": f"per-layer factors {listed(std_f)}",
            "holds": bool(np.all(np.abs(std_f * 3.0 - 1.0) <= FACTOR_TOL)),
        },
        {
            "claim": "Normalized (Xavier) init: the gradient's variance stays the same from "
            "layer to layer (each factor within 20 % of 1).",
            "paper_value": "n Var[W] = 1 per layer (eq. 16)",
            "measured": f"per-layer factors {listed(norm_f)}",
            "holds": bool(np.all(np.abs(norm_f - 1.0) <= FACTOR_TOL)),
        },
        {
            "claim": "The mean singular value of the layer Jacobians dz^(i+1)/dz^i is larger "
            "under normalized init than under standard init.",
            "paper_value": "about 0.8 normalized vs 0.5 standard (Sec. 4.2.2)",
            "measured": f"{sv_norm:.2f} normalized vs {sv_std:.2f} standard",
            "holds": sv_norm > sv_std,
        },
        {
            "claim": f"Fig. 2 trend: with standard init the top sigmoid layer saturates at 0 "
            f"early (mean < {SATURATED} within the first half of training) and stays there.",
            "paper_value": "Fig. 2: top hidden layer quickly saturates at 0",
            "measured": "never below 0.1"
            if first is None
            else f"mean < {SATURATED} from epoch {first} of {epochs} "
            f"({first * m['updates_per_epoch']} updates); final {sat['final_top']:.3f}; "
            f"loss {m['loss'][-1]:.2f} (chance ln 9 = {math.log(N_CLASSES):.2f})",
            "holds": first is not None and first <= epochs / 2 and sat["final_top"] < SATURATED,
        },
        {
            "claim": f"Fig. 2 trend: meanwhile the lower hidden layers stay near 0.5 (mean "
            f"within {NEAR_HALF} of 0.5 throughout).",
            "paper_value": "Fig. 2: layers 1-3 stay around 0.5",
            "measured": f"mean ranges {spans}",
            "holds": bool(np.all(lower_far <= NEAR_HALF)),
        },
    ]


def figures(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """Gradient variance and Jacobian spectra at initialization; the Fig. 2 picture."""
    fig, (var_ax, sv_ax) = panels(2)
    layers = np.arange(1, 6)
    var_ax.plot(layers, 3.0 ** -(5 - layers), color="0.5", ls="--", lw=1, label="3^-(5-i) (eq. 15)")
    for i, kind in enumerate(("standard", "normalized")):
        var_ax.plot(layers, m["variance"][kind], color=PALETTE[i], marker="os"[i], label=kind)
        values = m["singular"][kind]
        sv_ax.hist(
            values,
            bins=40,
            range=(0, 2.5),
            histtype="step",
            color=PALETTE[i],
            lw=1.5,
            density=True,
            label=f"{kind}: mean {np.mean(values):.2f}",
        )
        paper = 0.5 if kind == "standard" else 0.8
        sv_ax.axvline(paper, color=PALETTE[i], ls=":", lw=1.2)
    var_ax.set_yscale("log")
    var_ax.set_xticks(layers)
    var_ax.set_xlabel("hidden layer (5 = top)")
    var_ax.set_ylabel("Var[dC/ds] / top layer's")
    var_ax.set_title("backpropagated gradient at initialization", fontsize=10)
    var_ax.legend(fontsize=8, loc="lower right")
    sv_ax.set_xlabel("singular value of dz^(i+1)/dz^i, i = 1..4")
    sv_ax.set_ylabel("density")
    sv_ax.set_title("layer Jacobians (dotted: paper's means 0.5, 0.8)", fontsize=10)
    sv_ax.legend(fontsize=8, loc="upper right")
    fig.suptitle("Glorot & Bengio 2010: 5 tanh layers, linear regime", fontsize=11)

    fig2, (ax,) = panels(1, width=6.4, height=4.0)
    epochs = np.arange(m["act_mean"].shape[0])
    for k in range(4):
        mean, std = m["act_mean"][:, k], m["act_std"][:, k]
        ax.plot(epochs, mean, color=PALETTE[k], lw=1.5, label=f"layer {k + 1}")
        ax.fill_between(epochs, mean - std, mean + std, color=PALETTE[k], alpha=0.2, lw=0)
    ax.axhline(SATURATED, color="0.5", ls=":", lw=1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"epoch ({m['updates_per_epoch']} updates of 10 images)")
    ax.set_ylabel("mean activation (band: +-1 std)")
    ax.set_title("sigmoid, standard init: activations during training (cf. Fig. 2)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", ncol=4)
    return [("gradients", fig), ("saturation", fig2)]


def run(quick: bool, seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The preset's claims and figures (see the module docstring for the setting)."""
    m = measure(quick, seed)
    return claims(m), figures(m)
