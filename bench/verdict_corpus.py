"""Calibration corpus for the gradient-flow verdicts: a labelled set of small runs.

Each configuration is trained on moons for a fixed budget with a
``GradientFlow`` callback; its report's verdicts are compared with labels that
come from outside the verdict code:

- the training outcome, on held-out data in inference mode: test accuracy
  >= 0.95 "trained", <= 0.75 "failed", between "unclear";
- mean-field theory at initialization (Schoenholz et al. 2017), computed here
  from scratch, independently of ``vgp_native.flow`` (its own Gaussian
  integrals, the per-layer chi along the actual depth from the data's input
  scale, biases of non-zero mean included): a plain network is "pathological"
  when its hidden layers outnumber the trainable depth 6 xi, xi = 1 / |ln chi|
  at the deepest layer, "vanishing" for chi < 1 and "exploding" for chi > 1,
  else "sound". Residual networks get the residual-stream version of the
  theory (Yang & Schoenholz 2017; see ``_theory_residual``). Networks with
  batch normalization are outside it ("n/a"); with a standard initializer
  they count as sound initializations.

Metrics (each over the runs it concerns):

- headline false alarms: trained from a sound initialization, ``verdict`` not
  healthy;
- training-verdict false alarms: trained, ``training_verdict`` not healthy;
- misses: failed, or pathological at initialization by theory, ``verdict`` healthy;
- initial agreement: ``initial_verdict`` healthy vs not, against theory (runs
  the theory covers).

The old rule ("the most severe condition in any record", a layer dead at 50 %
of its units off for a batch, saturated at 50 % of its outputs, every row's
ratio judged against the 1e-3..1e3 band) is applied to the same records for
comparison.

Usage::

    python bench/verdict_corpus.py [--jobs 2] [--epochs 100] [--json PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

import vgp_native as vn
from vgp_native import initializers, optimizers
from vgp_native.datasets import make_circles, make_moons, make_spirals, train_test_split
from vgp_native.layers import Activation, BatchNormalization, Dense, Residual
from vgp_native.models import Sequential

ORDER = ("non-finite", "exploding", "vanishing", "dead", "saturated", "healthy")
SELU_SCALE, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772

# -- mean-field theory, independent of the package ----------------------------------------


def _phi(name: str, x: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * x))
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    if name == "selu":
        return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))
    raise KeyError(name)


def _dphi(name: str, x: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        s = 0.5 * (1.0 + np.tanh(0.5 * x))
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if name == "relu":
        return (x > 0).astype(np.float64)
    if name == "elu":
        return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))
    if name == "selu":
        return SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))
    raise KeyError(name)


def _expect(fn: Any, mean: float, q: float) -> float:
    """E[fn(mean + sqrt(q) z)], z ~ N(0, 1): trapezoid rule on a fine grid in h."""
    sd = math.sqrt(max(q, 1e-300))
    half = max(12.0 * sd, 40.0)
    h = np.linspace(mean - half, mean + half, 200_001)
    w = np.exp(-0.5 * ((h - mean) / sd) ** 2)
    return float(np.sum(w * fn(h)) / np.sum(w))


def _chis(act: str, sigma_w2: float, bias: float, q0: float, depth: int) -> list[float]:
    """chi = sigma_w^2 E[phi'(h)^2] at each hidden layer, h ~ N(bias, q_l) along the depth."""
    out, q = [], q0
    for _ in range(depth):
        out.append(sigma_w2 * _expect(lambda h: _dphi(act, h) ** 2, bias, q))
        q = sigma_w2 * _expect(lambda h: _phi(act, h) ** 2, bias, q)
        q = min(q, 1e12) if math.isfinite(q) else 1e12
    return out


def _variance(init: Any, fan_in: int, fan_out: int) -> float:
    """Var(W) of one kernel entry for the corpus's initializers."""
    if isinstance(init, tuple):
        kind, value = init
        return value**2 if kind == "normal" else value / fan_in
    if init.startswith("glorot"):
        return 2.0 / (fan_in + fan_out)
    if init.startswith("he"):
        return 2.0 / fan_in
    if init.startswith("lecun"):
        return 1.0 / fan_in
    if init == "orthogonal":
        return 1.0 / max(fan_in, fan_out)
    raise KeyError(init)


def _theory_residual(cfg: dict[str, Any], q0: float, sigma_w2: float) -> dict[str, Any]:
    """Mean field of a residual stream (Yang & Schoenholz 2017): ``h + W2 phi(W1 h)``.

    The stream's second moment grows by the branch's, ``s += sigma_w2 E[phi(h1)^2]`` with
    ``h1 ~ N(bias, sigma_w2 s)``, and each block multiplies the squared gradient by
    ``chi_block = 1 + sigma_w2^2 E[phi'(h1)^2]`` (the identity plus the branch's
    Jacobian); over ``B`` blocks it is trainable while ``B <= 6 xi``, ``xi = 1 / ln chi_block``.
    """
    act, bias = cfg["activation"], cfg["bias"]
    s = _expect(lambda h: _phi(act, h) ** 2, bias, q0)  # after the plain first layer
    blocks = (cfg["depth"] - 1) // 2
    chi = 1.0
    for _ in range(blocks):
        q1 = sigma_w2 * s
        chi = 1.0 + sigma_w2**2 * _expect(lambda h: _dphi(act, h) ** 2, bias, q1)
        s = min(s + sigma_w2 * _expect(lambda h: _phi(act, h) ** 2, bias, q1), 1e12)
    xi = 1.0 / math.log(chi) if chi > 1.0 + 1e-3 else math.inf
    label = "exploding" if blocks > 6.0 * xi else "sound"
    return {"label": label, "chi": chi, "trainable_depth": 6.0 * xi}


def theory(cfg: dict[str, Any], x: np.ndarray) -> dict[str, Any]:
    """Mean-field label of a configuration at initialization."""
    if cfg["norm"] != "none":
        return {"label": "n/a", "chi": math.nan, "trainable_depth": math.nan}
    width, depth = cfg["width"], cfg["depth"]
    q0 = _variance(cfg["init"], x.shape[1], width) * float(np.mean(np.sum(x**2, axis=1)))
    sigma_w2 = width * _variance(cfg["init"], width, width)
    if cfg["residual"]:
        return _theory_residual(cfg, q0, sigma_w2)
    chi = _chis(cfg["activation"], sigma_w2, cfg["bias"], q0, depth)[-1]
    xi = math.inf if abs(chi - 1.0) < 1e-3 else 1.0 / abs(math.log(max(chi, 1e-300)))
    label = "sound"
    if depth > 6.0 * xi:
        label = "vanishing" if chi < 1.0 else "exploding"
    return {"label": label, "chi": chi, "trainable_depth": 6.0 * xi}


# -- the corpus ---------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "depth": 8,
    "width": 10,
    "activation": "relu",
    "init": "he_normal",
    "bias": 0.0,
    "norm": "none",
    "residual": False,
    "optimizer": "adam",
    "lr": 1e-3,
    "seed": 0,
}


def corpus() -> list[dict[str, Any]]:
    """The configurations, each a dict over ``BASE``'s keys."""
    out: list[dict[str, Any]] = []

    def add(**kw: Any) -> None:
        out.append(BASE | kw)

    sound = {
        "relu": ("he_normal", "he_uniform"),
        "elu": ("he_normal",),
        "tanh": ("glorot_uniform", "lecun_normal", "orthogonal"),
        "selu": ("lecun_normal",),
    }
    shapes = ((2, 10), (4, 32), (8, 10), (8, 64), (16, 32), (30, 10), (30, 32))
    for act, inits in sound.items():
        for init in inits:
            for depth, width in shapes:
                add(activation=act, init=init, depth=depth, width=width)
    for depth, width in ((2, 10), (2, 32), (4, 10), (8, 10), (8, 64), (16, 32), (30, 10)):
        add(activation="sigmoid", init="glorot_uniform", depth=depth, width=width)
    for depth in (4, 8, 16, 30):  # relu with Glorot weights: chi1 = 1/2, 6 xi = 8.7
        add(activation="relu", init="glorot_uniform", depth=depth, width=32)
    for act in ("tanh", "relu", "sigmoid"):  # naive small N(0, 0.05)
        for depth in (4, 8, 16):
            add(activation=act, init=("normal", 0.05), depth=depth, width=32)
    for act in ("tanh", "relu"):  # naive large N(0, 1)
        for depth in (4, 8):
            add(activation=act, init=("normal", 1.0), depth=depth, width=10)
    for act in ("tanh", "relu"):  # deliberately exploding: sigma_w^2 >= 3 at depth 30
        for sigma_w2 in (3.0, 4.0):
            for width in (10, 32):
                add(activation=act, init=("scaled", sigma_w2), depth=30, width=width)
    add(activation="tanh", init=("scaled", 10.0), depth=16, width=32)
    add(activation="sigmoid", init=("scaled", 16.0), depth=8, width=32)
    for bias in (-0.5, -1.0, -2.0):  # dead: a negative bias keeps relu units off
        for depth in (4, 8, 16):
            add(activation="relu", bias=bias, depth=depth, width=32)
    for bias in (-1.0, -0.5):
        add(activation="relu", bias=bias, depth=8, width=10)
    for act, bias in (("sigmoid", 4.0), ("tanh", 3.0)):  # saturated by a large bias
        for depth in (4, 8):
            add(activation=act, init="glorot_uniform", bias=bias, depth=depth, width=32)
    for act in ("tanh", "sigmoid"):  # saturated by huge weights, N(0, 2)
        for depth in (4, 8, 16):
            add(activation=act, init=("normal", 2.0), depth=depth, width=32)
    for act in ("sigmoid", "tanh", "relu"):
        init = "he_normal" if act == "relu" else "glorot_uniform"
        for depth, width in ((4, 10), (8, 10), (8, 32), (16, 32), (30, 10)):
            add(activation=act, init=init, norm="batchnorm", depth=depth, width=width)
        for depth, width in ((8, 10), (16, 32), (30, 10)):
            add(activation=act, init=init, residual=True, depth=depth, width=width)
    for act, init in (
        ("relu", "he_normal"),
        ("tanh", "glorot_uniform"),
        ("sigmoid", "glorot_uniform"),
    ):
        for lr in (0.01, 0.1):  # SGD at two learning rates
            for depth in (4, 8, 16):
                add(activation=act, init=init, optimizer="sgd", lr=lr, depth=depth, width=32)
    for act, init in (("relu", "he_normal"), ("tanh", "glorot_uniform")):
        for depth in (4, 16):  # Adam at ten times its default rate
            add(activation=act, init=init, lr=0.01, depth=depth, width=32)
    for act, init, lr in (
        ("relu", "he_normal", 50.0),
        ("relu", "he_normal", 5.0),
        ("tanh", "glorot_uniform", 50.0),
    ):
        add(activation=act, init=init, optimizer="sgd", lr=lr, depth=8, width=32)  # diverging
    add(activation="relu", init="he_normal", lr=1.0, depth=8, width=32)
    for seed in (1, 2):  # more draws of the narrow networks that sit near the limits
        for depth, width in ((8, 10), (16, 10), (30, 10), (30, 64)):
            add(activation="relu", depth=depth, width=width, seed=seed)
        for depth in (8, 30):
            add(activation="tanh", init="glorot_uniform", depth=depth, width=10, seed=seed)
            add(
                activation="sigmoid",
                init="glorot_uniform",
                depth=depth,
                norm="batchnorm",
                seed=seed,
            )
            add(activation="relu", depth=depth, width=10, residual=True, seed=seed)
    return out


def _kernel_init(init: Any) -> Any:
    if isinstance(init, tuple):
        kind, value = init
        if kind == "normal":
            return initializers.RandomNormal(stddev=value)
        return initializers.VarianceScaling(
            scale=value, mode="fan_in", distribution="untruncated_normal"
        )
    return init


def _hidden(cfg: dict[str, Any], last_in_branch: bool = False, **first: Any) -> list[Any]:
    """One hidden layer: Dense(act), or Dense -> BatchNormalization -> act."""
    bias = initializers.Constant(cfg["bias"]) if cfg["bias"] else "zeros"
    kw = {"kernel_initializer": _kernel_init(cfg["init"]), "bias_initializer": bias, **first}
    act = None if last_in_branch else cfg["activation"]
    if cfg["norm"] == "batchnorm":
        tail = [] if act is None else [Activation(act)]
        return [Dense(cfg["width"], **kw), BatchNormalization(), *tail]
    return [Dense(cfg["width"], activation=act, **kw)]


def build(cfg: dict[str, Any]) -> Sequential:
    """The network of a configuration: ``depth`` hidden Dense layers of ``width`` units."""
    model = Sequential(seed=cfg["seed"])
    for layer in _hidden(cfg, input_dim=2):
        model.add(layer)
    rest = cfg["depth"] - 1
    while rest > 0:
        if cfg["residual"] and rest >= 2:  # h + f(act(f(h))), He et al. 2016
            model.add(Residual(_hidden(cfg) + _hidden(cfg, last_in_branch=True)))
            rest -= 2
        else:
            for layer in _hidden(cfg):
                model.add(layer)
            rest -= 1
    model.add(Dense(1, activation="sigmoid", kernel_initializer=_kernel_init(cfg["init"])))
    opt = {"adam": optimizers.Adam, "sgd": optimizers.SGD}[cfg["optimizer"]]
    model.compile(
        loss="binary_crossentropy", optimizer=opt(learning_rate=cfg["lr"]), metrics=["accuracy"]
    )
    return model


# -- the old rule, on the same records ------------------------------------------------------


def old_rule(report: Any) -> str:
    """The most severe condition in any record, as the verdicts were judged before."""
    h = report.data
    grad, signal = h.field("grad_norm"), h.field("signal_norm")
    acts = [r.activation for r in h.rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_grad = grad / grad[:, -1:]
        rel_signal = signal[:, :-1] / signal[:, -2:-1] if grad.shape[1] >= 2 else rel_grad[:, :0]
    bad = (h.field("grad_nonfinite") + h.field("signal_nonfinite") + h.field("act_nonfinite")) > 0
    values = np.stack([grad, signal, h.field("weight_norm"), h.update_ratio], axis=-1)
    nonfinite = (bad | ~np.isfinite(values).all(axis=-1)).any(axis=1)
    with np.errstate(invalid="ignore"):
        exploding = (
            (rel_grad > 1e3).any(axis=1)
            | (rel_signal > 1e3).any(axis=1)
            | (grad > 1e6).any(axis=1)
            | (h.update_ratio > 1.0).any(axis=1)
        )
        vanishing = (rel_grad < 1e-3).any(axis=1) | (rel_signal < 1e-3).any(axis=1)
    family = np.array([a in ("relu", "leaky_relu", "elu", "selu") for a in acts])
    bounded = np.array([a in ("sigmoid", "tanh") for a in acts])
    bounded[-1] = False  # the output sigmoid is fused with the loss
    dead = (family & (h.field("dead") >= 0.5)).any(axis=1)
    saturated = (bounded & (h.field("saturated") >= 0.5)).any(axis=1)
    seen = {
        "non-finite": nonfinite.any(),
        "exploding": (exploding & ~nonfinite).any(),
        "vanishing": (vanishing & ~nonfinite).any(),
        "dead": (dead & ~nonfinite).any(),
        "saturated": (saturated & ~nonfinite).any(),
    }
    return next((v for v in ORDER[:-1] if seen[v]), "healthy")


# -- running ------------------------------------------------------------------------------


# The data sets the corpus can run on: 400 points each, 300 for training.
DATASETS = {
    "moons": lambda: make_moons(n_samples=400, noise=0.1, random_state=0),
    "circles": lambda: make_circles(n_samples=400, noise=0.05, factor=0.5, random_state=0),
    "spirals": lambda: make_spirals(n_samples=400, noise=0.1, random_state=0),
}


def _data(dataset: str) -> tuple[np.ndarray, ...]:
    x, y = DATASETS[dataset]()
    return tuple(train_test_split(x, y, test_size=0.25, random_state=0))


def run_one(cfg: dict[str, Any], epochs: int, dataset: str = "moons") -> dict[str, Any]:
    """Train one configuration; its labels, verdicts and the old rule's verdict."""
    x_train, x_test, y_train, y_test = _data(dataset)
    t0 = time.perf_counter()
    model = build(cfg)
    flow = vn.callbacks.GradientFlow()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0, callbacks=[flow])
    report = flow.report()
    test_acc = float(model.evaluate(x_test, y_test, verbose=0)[1])
    outcome = "trained" if test_acc >= 0.95 else "failed" if test_acc <= 0.75 else "unclear"
    th = theory(cfg, x_train)
    return {
        **cfg,
        "init": cfg["init"]
        if isinstance(cfg["init"], str)
        else f"{cfg['init'][0]}({cfg['init'][1]:g})",
        "test_accuracy": test_acc,
        "outcome": outcome,
        "theory": th["label"],
        "trainable_depth": th["trainable_depth"],
        "verdict": report.verdict,
        "initial_verdict": report.initial_verdict,
        "training_verdict": report.training_verdict,
        "events": [e["verdict"] for e in report.events],
        "old_verdict": old_rule(report),
        "seconds": time.perf_counter() - t0,
    }


def _sound(run: dict[str, Any]) -> bool:
    return run["theory"] == "sound" or (run["theory"] == "n/a" and run["bias"] == 0.0)


def metrics(runs: list[dict[str, Any]], key: str) -> dict[str, tuple[int, int]]:
    """``name -> (count, of)`` for the four targets, judging verdict field ``key``."""
    head = [r for r in runs if r["outcome"] == "trained" and _sound(r)]
    trained = [r for r in runs if r["outcome"] == "trained"]
    pathological = [
        r for r in runs if r["outcome"] == "failed" or r["theory"] in ("vanishing", "exploding")
    ]
    covered = [r for r in runs if r["theory"] != "n/a"]
    init_key = "initial_verdict" if key == "verdict" else key
    train_key = "training_verdict" if key == "verdict" else key
    return {
        "headline false alarms": (sum(r[key] != "healthy" for r in head), len(head)),
        "training false alarms": (sum(r[train_key] != "healthy" for r in trained), len(trained)),
        "misses": (sum(r[key] == "healthy" for r in pathological), len(pathological)),
        "initial agreement": (
            sum((r[init_key] == "healthy") == (r["theory"] == "sound") for r in covered),
            len(covered),
        ),
    }


def confusion(runs: list[dict[str, Any]], key: str) -> list[list[Any]]:
    """Rows: the labels; columns: the verdicts of field ``key``."""

    def label(r: dict[str, Any]) -> str:
        if r["outcome"] == "failed":
            return "failed"
        if r["theory"] in ("vanishing", "exploding"):
            return f"{r['outcome']}, {r['theory']} by theory"
        return f"{r['outcome']}, sound init" if _sound(r) else f"{r['outcome']}, other"

    labels = sorted({label(r) for r in runs})
    return [
        [lab, *[sum(label(r) == lab and r[key] == v for r in runs) for v in ORDER]]
        for lab in labels
    ]


def markdown(runs: list[dict[str, Any]]) -> str:
    lines = [
        f"{len(runs)} runs. Targets: false alarms <= 3 %, misses <= 5 %, agreement >= 95 %.",
        "",
    ]
    old, new = metrics(runs, "old_verdict"), metrics(runs, "verdict")
    lines += ["| metric | old rule | new rule |", "|---|---:|---:|"]
    for name in new:
        cells = [f"{a} / {b} ({100 * a / max(b, 1):.1f} %)" for a, b in (old[name], new[name])]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    for key, title in (("old_verdict", "old rule"), ("verdict", "new rule (headline)")):
        lines += ["", f"Confusion, {title}:", "", "| label | " + " | ".join(ORDER) + " |"]
        lines.append("|---|" + "---:|" * len(ORDER))
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in confusion(runs, key)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", default=None, help="write every run's record here")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="moons")
    args = parser.parse_args(argv)
    configs = corpus()[: args.limit]
    cpu = platform.processor() or platform.machine()
    print(f"{len(configs)} configurations on {args.dataset}, {args.epochs} epochs each; {cpu}")
    vn.set_num_threads(1)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        n = len(configs)
        runs = list(pool.map(run_one, configs, [args.epochs] * n, [args.dataset] * n))
    for r in runs:
        if (r["outcome"] == "trained" and r["verdict"] != "healthy" and _sound(r)) or (
            r["verdict"] == "healthy"
            and (r["outcome"] == "failed" or (r["theory"] != "sound" and r["theory"] != "n/a"))
        ):
            print(
                f"  {r['activation']} {r['init']} depth {r['depth']} width {r['width']} "
                f"{r['norm']} residual={r['residual']} {r['optimizer']} lr={r['lr']} "
                f"bias={r['bias']}: "
                f"test {r['test_accuracy']:.2f}, theory {r['theory']}, verdict {r['verdict']} "
                f"({r['initial_verdict']} / {r['training_verdict']})"
            )
    print(markdown(runs))
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(runs, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
