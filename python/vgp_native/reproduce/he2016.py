"""He et al. (2016): degradation of deep plain networks is not a vanishing gradient.

The paper trains plain and residual convnets of 20 and 56 layers on CIFAR-10
(SGD with momentum 0.9, batch normalization after every convolution): the
plain 56-layer network ends with a higher *training* error than the plain
20-layer one, although its gradients have healthy norms, while the residual
56-layer network beats the residual 20-layer one.

Here the networks are MLPs of width 32 on two interleaved spirals
(``make_spirals(512, noise=0.1, turns=1.5)``), with the same count of Dense
layers (20 or 56, the last the sigmoid output):

- plain: ``D - 1`` x [Dense(32, he_normal) -> BatchNormalization -> relu];
- residual: one such layer, then ``(D - 2) / 2`` blocks
  ``relu(x + BN(Dense(relu(BN(Dense(x))))))`` (the paper's basic block).

SGD(0.01, momentum 0.9), batch 32, 300 epochs (4800 steps; quick 150), 3 seeds
(quick 2). Training loss: the mean of the last 10 epochs' losses. Gradients:
each network's ``GradientFlowReport`` (``callbacks.GradientFlow``); the claim
reads its verdict through training (``training_verdict`` where the report
gives one, else its overall ``verdict``), and ``flow.compare_depths`` is asked
whether the gap is degradation.

What is seen here: the plain 56-layer network stays near the chance loss
ln 2 while the 20-layer one trains; its report says "exploding", because at
initialization a stack of batch-normalized relu layers amplifies the
backpropagated gradient (first/last kernel-gradient ratio about 3e4 in the
probe and the first epoch); from the second epoch on its records are
healthy. A report that judges training apart from initialization
(``training_verdict``) calls those records healthy, and the claim follows it.
The residual 56-layer network trains about as well as the 20-layer one but
not better within this budget (the paper trained for 64 000 steps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import flow
from ..callbacks import GradientFlow
from ..datasets import make_spirals
from ..layers import Activation, BatchNormalization, Dense, Residual
from ..models import Sequential
from ..optimizers import SGD
from ._figure import PALETTE, panels, seeds_from

NAME = "he2016"
PAPER = (
    "Kaiming He, Xiangyu Zhang, Shaoqing Ren and Jian Sun (2016), Deep Residual Learning "
    "for Image Recognition, CVPR 2016"
)
SUMMARY = (
    "Plain and residual batch-normalized relu MLPs of 20 and 56 Dense layers (width 32) "
    "on two spirals instead of CIFAR-10 convnets, SGD with momentum for 4800 steps "
    "(quick: 2400), 3 seeds (quick: 2); gradients judged by the package's own report."
)

WIDTH, BATCH, SHALLOW, DEEP = 32, 32, 20, 56
#: Epochs averaged for the final training loss.
TAIL = 10


def _hidden(first: bool) -> list[Any]:
    kw = {"input_dim": 2} if first else {}
    return [
        Dense(WIDTH, kernel_initializer="he_normal", **kw),
        BatchNormalization(),
        Activation("relu"),
    ]


def build(depth: int, residual: bool, seed: int) -> Sequential:
    """A plain or residual network with ``depth`` Dense layers (module docstring)."""
    model = Sequential(_hidden(True), seed=seed)
    if residual:
        for _ in range((depth - 2) // 2):
            inner = [*_hidden(False)[:2], Activation("relu")]
            inner += [Dense(WIDTH, kernel_initializer="he_normal"), BatchNormalization()]
            model.add(Residual(inner, activation="relu"))
    else:
        for _ in range(depth - 2):
            for layer in _hidden(False):
                model.add(layer)
    model.add(Dense(1, activation="sigmoid", kernel_initializer="he_normal"))
    model.compile(
        loss="binary_crossentropy", optimizer=SGD(0.01, momentum=0.9), metrics=["accuracy"]
    )
    return model


def verdicts(report: Any) -> dict[str, str | None]:
    """The report's overall verdict and, where the report judges them apart, its verdicts
    at initialization and through training (None where it does not)."""
    return {
        "verdict": str(report.verdict),
        "initial": getattr(report, "initial_verdict", None),
        "training": getattr(report, "training_verdict", None),
    }


def through_training(v: dict[str, str | None]) -> str:
    """The verdict the claim reads: through training, else the overall one."""
    return v["training"] or v["verdict"]


def _describe(v: dict[str, str | None]) -> str:
    if v["initial"] is None and v["training"] is None:
        return str(v["verdict"])
    return f"{v['verdict']} (initialization {v['initial']}, training {v['training']})"


def measure(quick: bool, seed: int) -> dict[str, Any]:
    """Train the four networks for each seed; losses, verdicts and degradation findings."""
    epochs, n_seeds = (150, 2) if quick else (300, 3)
    seeds = seeds_from(seed, n_seeds)
    runs: dict[str, list[dict[str, Any]]] = {}
    findings = []
    for s in seeds:
        x, y = make_spirals(512, noise=0.1, turns=1.5, random_state=s)
        reports = {}
        for kind in ("plain", "residual"):
            for depth in (SHALLOW, DEEP):
                model = build(depth, kind == "residual", s)
                rec = GradientFlow()
                hist = model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[rec])
                report = rec.report()
                reports[(kind, depth)] = report
                losses = np.asarray(hist.history["loss"])
                runs.setdefault(f"{kind}{depth}", []).append(
                    {
                        "loss": float(losses[-TAIL:].mean()),
                        "curve": losses,
                        "verdicts": verdicts(report),
                        "grad_norm": report.history.field("grad_norm")[[0, -1]],
                    }
                )
        found = flow.compare_depths(reports[("plain", DEEP)], reports[("plain", SHALLOW)])
        findings.append(None if found is None else found.kind)
    return {"runs": runs, "degradation": findings, "epochs": epochs, "seeds": seeds}


def _losses(m: dict[str, Any], key: str) -> np.ndarray:
    return np.array([r["loss"] for r in m["runs"][key]])


def claims(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim table from the measurements of ``measure``."""
    p20, p56 = _losses(m, "plain20"), _losses(m, "plain56")
    r20, r56 = _losses(m, "residual20"), _losses(m, "residual56")
    n = p20.size
    deep = [r["verdicts"] for r in m["runs"]["plain56"]]
    training = [through_training(v) for v in deep]
    described = [_describe(v) for v in deep]
    overall = ", ".join(f"{d} in {described.count(d)} of {n}" for d in sorted(set(described)))
    degr = sum(k == "degradation" for k in m["degradation"])

    def fmt(a: np.ndarray) -> str:
        return "/".join(f"{v:.3f}" for v in a)

    return [
        {
            "claim": "A plain batch-normalized relu network of 56 layers ends with a higher "
            "training loss than one of 20 layers after the same budget, in every seed.",
            "paper_value": "Fig. 1 and Fig. 6 (left): plain-56 has higher training error "
            "than plain-20 on CIFAR-10",
            "measured": f"final training loss {fmt(p56)} (56) vs {fmt(p20)} (20), {n} seeds",
            "holds": bool((p56 > p20).all()),
        },
        {
            "claim": "The 56-layer plain network's gradients are healthy through training by "
            "this package's report (so the gap is degradation, not a vanishing gradient).",
            "paper_value": "Sec. 4.1: with BN the backward propagated gradients exhibit "
            "healthy norms",
            "measured": f"report verdict {overall} seeds; compare_depths names degradation in "
            f"{degr} of {n} seeds",
            "holds": bool(all(v == "healthy" for v in training)),
        },
        {
            "claim": "With residual blocks the 56-layer network trains at least as well as "
            "the 20-layer one (mean over seeds).",
            "paper_value": "Fig. 6 (middle), Table 6: ResNet-56 has lower training error "
            "than ResNet-20",
            "measured": f"final training loss {fmt(r56)} (56) vs {fmt(r20)} (20); means "
            f"{r56.mean():.3f} vs {r20.mean():.3f}",
            "holds": bool(r56.mean() <= r20.mean()),
        },
    ]


def figures(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """Training loss of the four networks (Fig. 6 style) and plain-56's gradient norms."""
    fig, (plain, res, grads) = panels(3, width=3.7, height=3.5)
    colours = {SHALLOW: PALETTE[0], DEEP: PALETTE[1]}
    for ax, kind, title in ((plain, "plain", "plain"), (res, "residual", "residual")):
        for depth in (SHALLOW, DEEP):
            curves = np.array([r["curve"] for r in m["runs"][f"{kind}{depth}"]])
            ax.plot(
                np.arange(1, curves.shape[1] + 1),
                curves.mean(axis=0),
                color=colours[depth],
                label=f"{title}-{depth}",
            )
        ax.set(xlabel="epoch", ylabel="training loss (mean over seeds)", ylim=(0, 0.8))
        ax.set_title(f"{title} networks", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
    g = m["runs"]["plain56"][0]["grad_norm"]
    layers = np.arange(1, g.shape[1] + 1)
    grads.semilogy(layers, g[0], color=PALETTE[3], label="at initialization")
    grads.semilogy(layers, g[1], color=PALETTE[2], label=f"after epoch {m['epochs']}")
    grads.set(xlabel="Dense layer (input -> output)", ylabel="kernel-gradient norm")
    grads.set_title(f"plain-{DEEP} gradients (seed {m['seeds'][0]})", fontsize=10)
    grads.legend(fontsize=8, loc="upper right")
    return [("training", fig)]


def run(quick: bool, seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The claims and figures (see the module docstring for the sizes)."""
    m = measure(quick, seed)
    return claims(m), figures(m)
