"""Cost of recording gradient-flow statistics during ``fit``.

Times ``fit`` three ways on the same data, model and seed:

- ``plain``: no callback; the native epoch computes no statistics;
- ``native``: a do-nothing callback that asks for statistics
  (``records_flow = True``): the native pass computes them and ``fit`` copies
  them out every epoch, but no Python work is done with them;
- ``flow``: ``callbacks.GradientFlow(every="epoch")``: the native statistics
  plus the Python side inside ``fit`` (taking the initial weights at train
  begin, keeping each epoch's records).

so that ``native - plain`` is what the C++ statistics cost and ``flow -
native`` what the Python layer adds. Separately, not counted in the total:
``hooks``, the time spent inside GradientFlow's hooks (from extra runs of a
subclass that times them, so that the timer does not weigh on ``flow``), and
``later``, the first read of ``GradientFlow.history`` after ``fit`` (the probe
at initialization, a forward/backward pass over ``probe_samples`` rows, and
assembling the ``FlowHistory``), paid once when the history or the report is
first needed. Repetitions are interleaved (ABC, CBA, ...) so that machine
noise hits every mode alike; each mode's median is reported with its overhead
over ``plain``, and the total overhead also from the best (fastest) run of
each mode.

Networks:

- ``seed``: the seed document's 8 x 10 sigmoid MLP on make_moons(200), batch 32,
  100 epochs (7 batches per epoch: per-epoch Python work weighs most here);
- ``medium``: 784-[256 relu x 4]-10 softmax on random data, batch 128.

Usage::

    python bench/bench_flow.py            # full
    python bench/bench_flow.py --quick --json flow.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import vgp_native as vn
from vgp_native.callbacks import Callback, GradientFlow
from vgp_native.datasets import make_moons
from vgp_native.layers import Dense
from vgp_native.models import Sequential


class _NativeOnly(Callback):
    """Asks ``fit`` for the native statistics (as GradientFlow(every="epoch")) and ignores them."""

    records_flow = True

    def record_every(self, steps: int) -> int:
        return steps


class _TimedFlow(GradientFlow):
    """``GradientFlow`` that adds up the time spent in its own hooks (the Python side)."""

    def __init__(self) -> None:
        super().__init__(every="epoch")
        self.hook_seconds = 0.0

    def _timed(self, hook: Callable[..., None], *args: Any) -> None:
        start = time.perf_counter()
        hook(*args)
        self.hook_seconds += time.perf_counter() - start

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._timed(super().on_train_begin, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._timed(super().on_epoch_end, epoch, logs)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self._timed(super().on_train_end, logs)


MODES = ("plain", "native", "flow")


def _seed_case(quick: bool) -> dict[str, Any]:
    x, y = make_moons(n_samples=200, noise=0.05, random_state=42)

    def build() -> Sequential:
        model = Sequential(seed=0)
        model.add(Dense(10, activation="sigmoid", input_dim=2))
        for _ in range(7):
            model.add(Dense(10, activation="sigmoid"))
        model.add(Dense(1, activation="sigmoid"))
        model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
        return model

    return {
        "case": "seed",
        "network": "2-[10 sigmoid x 8]-1",
        "build": build,
        "x": x,
        "y": y,
        "batch_size": 32,
        "epochs": 30 if quick else 100,
    }


def _medium_case(quick: bool) -> dict[str, Any]:
    n = 1024 if quick else 4096
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=n).astype(np.float32)

    def build() -> Sequential:
        model = Sequential(seed=0)
        model.add(Dense(256, activation="relu", input_dim=784, kernel_initializer="he_normal"))
        for _ in range(3):
            model.add(Dense(256, activation="relu", kernel_initializer="he_normal"))
        model.add(Dense(10, activation="softmax"))
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
        return model

    return {
        "case": "medium",
        "network": "784-[256 relu x 4]-10",
        "build": build,
        "x": x,
        "y": y,
        "batch_size": 128,
        "epochs": 2 if quick else 3,
    }


def _fit_seconds(case: dict[str, Any], mode: str, extra: dict[str, list[float]]) -> float:
    """Seconds of one ``fit`` in ``mode`` ("plain", "native", "flow" or "hooks").

    "flow" also adds the first read of ``history`` after fit to ``extra["later"]``;
    "hooks" (GradientFlow with timed hooks) adds the hooks' time to ``extra["hooks"]``.
    """
    model: Sequential = case["build"]()
    flow = _TimedFlow() if mode == "hooks" else GradientFlow(every="epoch")
    cbs = {"plain": [], "native": [_NativeOnly()], "flow": [flow], "hooks": [flow]}[mode]
    start = time.perf_counter()
    model.fit(
        case["x"],
        case["y"],
        batch_size=case["batch_size"],
        epochs=case["epochs"],
        verbose=0,
        callbacks=cbs,
    )
    seconds = time.perf_counter() - start
    if mode == "flow":
        start = time.perf_counter()
        _ = flow.history
        extra["later"].append(time.perf_counter() - start)
    elif mode == "hooks":
        extra["hooks"].append(flow.hook_seconds)
    return seconds


def _measure(case: dict[str, Any], repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {m: [] for m in (*MODES, "later", "hooks")}
    for mode in (*MODES, "hooks"):  # warm-up: allocation, caches, thread pool
        _fit_seconds(case, mode, {"later": [], "hooks": []})
    for r in range(repeats):
        order = MODES if r % 2 == 0 else MODES[::-1]
        for mode in order:
            times[mode].append(_fit_seconds(case, mode, times))
        _fit_seconds(case, "hooks", times)
    return times


def run(quick: bool = False, repeats: int | None = None) -> list[dict[str, Any]]:
    """One row per network: fit time per mode (median seconds) and overheads in %.

    Returns:
        ``[{"case", "network", "samples", "batch_size", "epochs", "threads",
        "repeats", "plain_s", "native_s", "flow_s", "hooks_s", "later_s",
        "native_overhead_pct", "python_overhead_pct", "hooks_overhead_pct",
        "flow_overhead_pct", "flow_overhead_best_pct", "later_overhead_pct"},
        ...]``; the overheads are relative to ``plain_s``: native statistics
        (``native - plain``), Python side (``flow - native``), the time spent in
        GradientFlow's hooks (part of the Python side), their total (``flow -
        plain``; ``_best_pct`` from the fastest run of each mode) and, outside
        fit, the first read of the history (``later``).
    """
    reps = repeats if repeats is not None else (5 if quick else 11)
    rows = []
    for make in (_seed_case, _medium_case):
        case = make(quick)
        times = _measure(case, reps)
        med = {m: statistics.median(v) for m, v in times.items()}
        best = {m: min(v) for m, v in times.items()}

        def pct(a: float, b: float, base: float = med["plain"]) -> float:
            return 100.0 * (a - b) / base

        rows.append(
            {
                "case": case["case"],
                "network": case["network"],
                "samples": int(case["x"].shape[0]),
                "batch_size": case["batch_size"],
                "epochs": case["epochs"],
                "threads": vn.get_num_threads(),
                "repeats": reps,
                "plain_s": med["plain"],
                "native_s": med["native"],
                "flow_s": med["flow"],
                "hooks_s": med["hooks"],
                "later_s": med["later"],
                "native_overhead_pct": pct(med["native"], med["plain"]),
                "python_overhead_pct": pct(med["flow"], med["native"]),
                "hooks_overhead_pct": pct(med["hooks"], 0.0),
                "flow_overhead_pct": pct(med["flow"], med["plain"]),
                "flow_overhead_best_pct": pct(best["flow"], best["plain"], best["plain"]),
                "later_overhead_pct": pct(med["later"], 0.0),
            }
        )
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'case':<7}{'network':<23}{'epochs':>6}{'plain s':>9}{'native s':>9}{'flow s':>9}"
        f"{'native %':>9}{'python %':>9}{'hooks %':>8}{'total %':>8}{'best %':>7}{'later %':>8}"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['case']:<7}{r['network']:<23}{r['epochs']:>6}{r['plain_s']:>9.4f}"
            f"{r['native_s']:>9.4f}{r['flow_s']:>9.4f}{r['native_overhead_pct']:>9.1f}"
            f"{r['python_overhead_pct']:>9.1f}{r['hooks_overhead_pct']:>8.1f}"
            f"{r['flow_overhead_pct']:>8.1f}{r['flow_overhead_best_pct']:>7.1f}"
            f"{r['later_overhead_pct']:>8.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repetitions")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repetitions")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick, repeats=args.repeats)
    out(_table(rows))
    out(
        "native: C++ statistics; python: flow - native; hooks: time inside GradientFlow's "
        "hooks (part of python); total: flow - plain (medians; best: fastest runs); "
        "later: first read of GradientFlow.history after fit (probe at initialization + "
        "assembling), not part of fit; target: total < 10%"
    )
    if args.json:
        tmp = f"{args.json}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
