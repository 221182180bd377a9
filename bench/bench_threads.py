"""One thread against two on small networks: the time of a whole ``fit``.

A parallel region costs a fork and a join; on work of a few microseconds that
is more than the work, and when another process holds the second core the
region's threads wait for it at the barrier. This script times each case's
``fit`` with 1 and with 2 native threads, interleaved in one process (medians),
so that the ratio shows what threads cost or bring on each shape.

Cases:
    tiny    the seed network (2-[10 sigmoid x8]-1 sigmoid) in float32, 200
            samples, batch 32, 100 epochs (bench/training.py's tiny case)
    seed    the seed script: the same network at the default dtype, its float64
            make_moons(250, noise 0.05) data, 200 training points, batch 32,
            100 epochs
    deep56  56 Dense layers of width 32 with batch norm and relu, SGD with
            momentum, 512 points, batch 32, 5 epochs (the default dtype)
    medium  784-[256 relu x4]-10 softmax in float32, Adam, batch 128, 16 steps

Usage:
    python bench/bench_threads.py [--reps 7] [--cases tiny,seed] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

import vgp_native as vn
from vgp_native.datasets import make_moons
from vgp_native.layers import Activation, BatchNormalization, Dense
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD

#: Seconds of idle before each timed fit, so that the previous fit's spinning
#: worker threads have gone to sleep and do not take the core from this one.
PAUSE_S = 0.2


def _seed_network(dtype: str | None = None) -> Sequential:
    model = Sequential(seed=0) if dtype is None else Sequential(seed=0, dtype=dtype)
    model.add(Dense(10, "sigmoid", input_dim=2))
    for _ in range(7):
        model.add(Dense(10, "sigmoid"))
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def _tiny() -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float32).reshape(-1, 1)
    model = _seed_network("float32")
    return lambda: model.fit(x, y, epochs=100, batch_size=32, verbose=0)


def _seed() -> Callable[[], None]:
    x, y = make_moons(n_samples=250, noise=0.05, random_state=42)
    x, y = x[:200], y[:200]
    model = _seed_network()
    return lambda: model.fit(x, y, epochs=100, batch_size=32, verbose=0)


def _deep56() -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float64)
    model = Sequential(seed=0)
    model.add(Dense(32, input_dim=2))
    for _ in range(54):
        model.add(BatchNormalization())
        model.add(Activation("relu"))
        model.add(Dense(32))
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=SGD(0.01, momentum=0.9))
    return lambda: model.fit(x, y, epochs=5, batch_size=32, verbose=0)


def _medium() -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128 * 16, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=x.shape[0])
    model = Sequential(seed=0, dtype="float32")
    model.add(Dense(256, "relu", input_dim=784))
    for _ in range(3):
        model.add(Dense(256, "relu"))
    model.add(Dense(10, "softmax"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return lambda: model.fit(x, y, epochs=1, batch_size=128, verbose=0)


CASES: dict[str, Callable[[], Callable[[], None]]] = {
    "tiny": _tiny,
    "seed": _seed,
    "deep56": _deep56,
    "medium": _medium,
}


def measure(case: str, reps: int) -> dict:
    """Median seconds of one fit at 1 and at 2 threads, the two interleaved."""
    fit = CASES[case]()
    times: dict[int, list[float]] = {1: [], 2: []}
    for threads in (1, 2):  # warm-up: first-call costs, both thread counts
        vn.set_num_threads(threads)
        fit()
    for r in range(reps):
        for threads in (1, 2) if r % 2 == 0 else (2, 1):
            vn.set_num_threads(threads)
            time.sleep(PAUSE_S)
            t0 = time.perf_counter()
            fit()
            times[threads].append(time.perf_counter() - t0)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    return {"case": case, "s_1_thread": one, "s_2_threads": two, "ratio_2_over_1": two / one}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"--cases: unknown {unknown}, expected some of {list(CASES)}")
    before = vn.get_num_threads()
    try:
        rows = [measure(c, args.reps) for c in cases]
    finally:
        vn.set_num_threads(before)
    print(f"# {platform.processor() or platform.machine()}, vgp-native {vn.__version__}")
    print(f"{'case':8} {'1 thread s':>11} {'2 threads s':>12} {'2/1':>7}")
    for row in rows:
        print(
            f"{row['case']:8} {row['s_1_thread']:11.4f} {row['s_2_threads']:12.4f}"
            f" {row['ratio_2_over_1']:7.2f}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
