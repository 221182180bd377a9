"""vgp_native.sklearn against scikit-learn's MLPClassifier / MLPRegressor, side by side.

The same estimator parameters for both (scikit-learn's defaults unless a case
says otherwise), the same data and train/test split. Each repetition fits both
libraries with ``random_state = repetition``, interleaved, after a short pause
(so no library's idle threads take the cores from the next); the table gives
the median fit time and the mean test accuracy (R^2 for the regression) over
the repetitions. "ours" is the default estimator, which records a gradient-flow
report during fit (``gradient_flow=True``); "no flow" switches it off; the
report itself is assembled when ``flow_report_`` is first read, outside fit
("report" column: the time of that first read).

Cases:
    seed        the seed's network: 2-[10 logistic x8]-1, make_moons(250, noise=0.05,
                random_state=42), 20% test, batch 32, 100 epochs (n_iter_no_change=100,
                so that neither library stops early)
    moons       make_moons(1000, noise=0.2), hidden (100,), scikit-learn's defaults
    circles     make_circles(1000, noise=0.1, factor=0.5), hidden (100,), defaults
    digits      load_digits (1797 x 64, 10 classes), scaled to [0, 1], defaults
    regression  make_regression(2000, 20 features, noise=10), target standardized,
                MLPRegressor defaults, learning_rate_init=0.01

``--threads N`` sets both libraries' thread counts (vgp-native's OpenMP and, through
threadpoolctl, the BLAS scikit-learn's matrix products use); by default each
library keeps its own.

Usage:
    python bench/bench_sklearn.py [--repeats 5] [--threads N] [--cases seed,moons] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn
from sklearn import neural_network as sk
from sklearn.datasets import load_digits, make_circles, make_moons, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import vgp_native as vn
from vgp_native import sklearn as vs


def _seed():
    X, y = make_moons(n_samples=250, noise=0.05, random_state=42)
    return X, y, 0.2, 42


def _regression():
    X, y = make_regression(n_samples=2000, n_features=20, noise=10.0, random_state=0)
    return X, (y - y.mean()) / y.std(), 0.25, 0


def _digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y, 0.25, 0


# name: (estimator class name, data, parameters)
CASES: dict[str, tuple[str, Callable[[], tuple[Any, ...]], dict[str, Any]]] = {
    "seed": (
        "MLPClassifier",
        _seed,
        {
            "hidden_layer_sizes": (10,) * 8,
            "activation": "logistic",
            "batch_size": 32,
            "max_iter": 100,
            "n_iter_no_change": 100,
        },
    ),
    "moons": (
        "MLPClassifier",
        lambda: (*make_moons(n_samples=1000, noise=0.2, random_state=0), 0.25, 0),
        {},
    ),
    "circles": (
        "MLPClassifier",
        lambda: (*make_circles(n_samples=1000, noise=0.1, factor=0.5, random_state=0), 0.25, 0),
        {},
    ),
    "digits": ("MLPClassifier", _digits, {}),
    "regression": ("MLPRegressor", _regression, {"learning_rate_init": 0.01}),
}


def _fit(module: Any, cls: str, params: dict[str, Any], seed: int, data) -> tuple[float, Any]:
    X_tr, _, y_tr, _ = data
    est = getattr(module, cls)(random_state=seed, **params)
    time.sleep(0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        est.fit(X_tr, y_tr)
        return time.perf_counter() - t0, est


def run_case(name: str, repeats: int) -> dict[str, Any]:
    cls, make, params = CASES[name]
    X, y, test_size, split_seed = make()
    data = train_test_split(X, y, test_size=test_size, random_state=split_seed)
    _, X_te, _, y_te = data
    runs: dict[str, list[tuple[float, float, int]]] = {"sklearn": [], "ours": [], "no flow": []}
    report_s: list[float] = []
    _fit(vs, cls, params, 0, data)  # warm-up: imports, first allocations
    for seed in range(repeats):
        for key, module, extra in (
            ("sklearn", sk, {}),
            ("ours", vs, {}),
            ("no flow", vs, {"gradient_flow": False}),
        ):
            seconds, est = _fit(module, cls, {**params, **extra}, seed, data)
            runs[key].append((seconds, est.score(X_te, y_te), est.n_iter_))
            if key == "ours":
                t0 = time.perf_counter()
                _ = est.flow_report_
                report_s.append(time.perf_counter() - t0)
    out: dict[str, Any] = {"case": name, "train_rows": len(data[0]), "report_s": report_s}
    for key, rows in runs.items():
        out[key] = {
            "fit_s": statistics.median(r[0] for r in rows),
            "score": float(np.mean([r[1] for r in rows])),
            "epochs": float(np.mean([r[2] for r in rows])),
        }
    return out


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| case | train rows | epochs (sklearn / ours) | scikit-learn fit s | ours fit s "
        "| x faster | no flow fit s | x faster | report s | score sklearn | score ours |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s, o, nf = r["sklearn"], r["ours"], r["no flow"]
        lines.append(
            f"| {r['case']} | {r['train_rows']} | {s['epochs']:.0f} / {o['epochs']:.0f} "
            f"| {s['fit_s']:.4f} | {o['fit_s']:.4f} | {s['fit_s'] / o['fit_s']:.1f} "
            f"| {nf['fit_s']:.4f} | {s['fit_s'] / nf['fit_s']:.1f} "
            f"| {statistics.median(r['report_s']):.3f} | {s['score']:.3f} | {o['score']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    names = [c for c in args.cases.split(",") if c]
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; expected some of {', '.join(CASES)}")
    limits: Any = contextlib.nullcontext()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        vn.set_num_threads(args.threads)
        limits = threadpool_limits(args.threads)
    with limits:
        print(
            f"{_cpu()}; vgp-native {vn.__version__} ({vn.get_num_threads()} threads), "
            f"scikit-learn {sklearn.__version__} (BLAS threads: "
            f"{args.threads if args.threads is not None else 'default'}), numpy "
            f"{np.__version__}; {args.repeats} repetitions, median fit time, mean score"
        )
        results = [run_case(name, args.repeats) for name in names]
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
