"""Cost of recording gradient-flow statistics during ``fit``.

Times ``fit`` three ways on the same data, model and seed:

- ``plain``: no callback; the native epoch computes no statistics;
- ``native``: a do-nothing callback that asks for statistics
  (``records_flow = True``): the native pass computes them and ``fit`` copies
  them out every epoch, but no Python work is done with them;
- ``flow``: ``callbacks.GradientFlow(every="epoch")``: the native statistics
  plus the Python side (probe at initialization, per-epoch aggregation, the
  NaN scan, the final ``FlowHistory``).

so that ``native - plain`` is what the C++ statistics cost and ``flow -
native`` what the Python layer adds; of the latter, the probe at
initialization (one forward/backward pass over ``probe_samples`` rows, paid
once per ``fit``) is timed on its own, the rest is the per-epoch Python work.
Repetitions are interleaved (ABC, CBA, ...) so that machine noise hits every
mode alike; each mode's median is reported with its overhead over ``plain``.

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
from vgp_native.flow.recording import probe_record, sample_rows
from vgp_native.layers import Dense
from vgp_native.models import Sequential

MODES = ("plain", "native", "flow")


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


def _fit_seconds(case: dict[str, Any], mode: str, hooks: list[float] | None = None) -> float:
    model: Sequential = case["build"]()
    flow = _TimedFlow()
    cbs = {"plain": [], "native": [_NativeOnly()], "flow": [flow]}[mode]
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
    if mode == "flow" and hooks is not None:
        hooks.append(flow.hook_seconds)
    return seconds


def _probe_seconds(case: dict[str, Any]) -> float:
    """The probe GradientFlow runs at initialization, on a fresh model."""
    model: Sequential = case["build"]()
    x, y = sample_rows(model._prepare_x(case["x"]), case["y"], GradientFlow().probe_samples)
    start = time.perf_counter()
    probe_record(model, x, y)
    return time.perf_counter() - start


def _measure(case: dict[str, Any], repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {m: [] for m in (*MODES, "probe", "hooks")}
    for mode in MODES:  # warm-up: allocation, caches, thread pool
        _fit_seconds(case, mode)
    for r in range(repeats):
        order = MODES if r % 2 == 0 else MODES[::-1]
        for mode in order:
            times[mode].append(_fit_seconds(case, mode, times["hooks"]))
        times["probe"].append(_probe_seconds(case))
    return times


def run(quick: bool = False, repeats: int | None = None) -> list[dict[str, Any]]:
    """One row per network: fit time per mode (median seconds) and overheads in %.

    Returns:
        ``[{"case", "network", "samples", "batch_size", "epochs", "threads",
        "repeats", "plain_s", "native_s", "flow_s", "probe_s", "hooks_s",
        "native_overhead_pct", "python_overhead_pct", "probe_overhead_pct",
        "hooks_overhead_pct", "flow_overhead_pct"}, ...]``; the overheads are
        relative to ``plain_s``: native statistics (``native - plain``), Python
        side (``flow - native``; measured directly: ``hooks``, the time spent in
        GradientFlow's hooks, of which ``probe`` is the probe at initialization)
        and their total (``flow - plain``).
    """
    reps = repeats if repeats is not None else (3 if quick else 7)
    rows = []
    for make in (_seed_case, _medium_case):
        case = make(quick)
        times = _measure(case, reps)
        med = {m: statistics.median(v) for m, v in times.items()}

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
                "probe_s": med["probe"],
                "hooks_s": med["hooks"],
                "native_overhead_pct": pct(med["native"], med["plain"]),
                "python_overhead_pct": pct(med["flow"], med["native"]),
                "probe_overhead_pct": pct(med["probe"], 0.0),
                "hooks_overhead_pct": pct(med["hooks"], 0.0),
                "flow_overhead_pct": pct(med["flow"], med["plain"]),
            }
        )
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'case':<7}{'network':<23}{'epochs':>6}{'plain s':>9}{'native s':>9}{'flow s':>9}"
        f"{'native %':>9}{'python %':>9}{'hooks %':>8}{'probe %':>8}{'total %':>8}"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['case']:<7}{r['network']:<23}{r['epochs']:>6}{r['plain_s']:>9.4f}"
            f"{r['native_s']:>9.4f}{r['flow_s']:>9.4f}{r['native_overhead_pct']:>9.1f}"
            f"{r['python_overhead_pct']:>9.1f}{r['hooks_overhead_pct']:>8.1f}"
            f"{r['probe_overhead_pct']:>8.1f}"
            f"{r['flow_overhead_pct']:>8.1f}"
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
        "hooks (of it, probe: the probe at initialization); target: total < 10%"
    )
    if args.json:
        tmp = f"{args.json}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
