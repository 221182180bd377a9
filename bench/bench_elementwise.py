"""Native elementwise kernels against the equivalent plain-NumPy code, side by side.

Times forward + backward of every activation, batch normalization (training
mode), the dense layer and the dense bias gradient (its non-GEMM part), each
next to NumPy code that computes the same outputs (NumPy allocates a temporary
per operation; the native kernels write into preallocated outputs, as the
network executor calls them). Every measurement warms up first, then reports
the median of N timed samples taken with time.perf_counter.

Usage::

    python bench/bench_elementwise.py [--quick] [--json PATH] [--threads 1,2]

``ratio`` is numpy_ms / ms: how many times faster the native kernel is.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

try:
    import vgp_native as vn
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
    import vgp_native as vn

from vgp_native import _core
from vgp_native.activations import ACTIVATIONS

SHAPES = [(256, 1024), (128, 256), (32, 10)]
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _erf() -> Callable[[np.ndarray], np.ndarray] | None:
    try:
        from scipy.special import erf
    except ImportError:
        return None
    return erf


def _numpy_activation(name: str, erf: Callable | None) -> Callable | None:
    """NumPy forward + backward of an activation: (x, dy) -> (y, dx)."""

    def sigmoid(x):
        return 1.0 / (1.0 + np.exp(-x))

    def gelu(x, dy):
        cdf = 0.5 * (1.0 + erf(x * (1 / math.sqrt(2))))
        return x * cdf, dy * (cdf + x * np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi)))

    def softmax(x, dy):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        y = e / e.sum(axis=1, keepdims=True)
        return y, y * (dy - (dy * y).sum(axis=1, keepdims=True))

    def swish(x, dy):
        s = sigmoid(x)
        return x * s, dy * s * (1 + x * (1 - s))

    table: dict[str, Callable | None] = {
        "sigmoid": lambda x, dy: (y := sigmoid(x), dy * y * (1 - y)),
        "tanh": lambda x, dy: (y := np.tanh(x), dy * (1 - y * y)),
        "relu": lambda x, dy: (np.maximum(x, 0), np.where(x > 0, dy, 0)),
        "leaky_relu": lambda x, dy: (np.where(x > 0, x, 0.2 * x), np.where(x > 0, dy, 0.2 * dy)),
        "elu": lambda x, dy: (
            y := np.where(x > 0, x, np.expm1(x)),
            np.where(x > 0, dy, dy * (y + 1)),
        ),
        "selu": lambda x, dy: (
            y := SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
            np.where(x > 0, SELU_SCALE * dy, dy * (y + SELU_SCALE * SELU_ALPHA)),
        ),
        "gelu": gelu if erf is not None else None,
        "softplus": lambda x, dy: (np.logaddexp(x, 0), dy * sigmoid(x)),
        "swish": swish,
        "softmax": softmax,
    }
    return table[name]


def _calls_per_sample(fn: Callable[[], Any]) -> int:
    """Calls that take about 2 ms, so the timer's resolution does not matter."""
    number = 1
    while number < 1 << 16:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - t0 > 2e-3:
            break
        number *= 2
    return number


def _time_pair(native: Callable[[], Any], numpy: Callable[[], Any], repeats: int):
    """Median milliseconds per call of each, their samples interleaved so that
    both see the same load on a shared machine. Each sample starts with one
    untimed call: it wakes the OpenMP workers, which sleep while NumPy runs
    (on a loaded machine waking them can take milliseconds), so the samples
    measure back-to-back calls, as the network executor makes them."""
    for fn in (native, numpy):
        fn()  # warm-up
    counts = (_calls_per_sample(native), _calls_per_sample(numpy))
    samples: tuple[list[float], list[float]] = ([], [])
    t0 = time.perf_counter()
    native()
    if time.perf_counter() - t0 > 0.05:  # slow cases (a reference GEMM): fewer samples
        repeats = min(repeats, 3)
    for _ in range(repeats):
        for fn, number, out in zip((native, numpy), counts, samples, strict=True):
            fn()
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            out.append((time.perf_counter() - t0) / number)
    return 1e3 * statistics.median(samples[0]), 1e3 * statistics.median(samples[1])


def _activation_cases(shape, dtype, rng, erf):
    x = rng.standard_normal(shape).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    y, dx = np.empty_like(x), np.empty_like(x)
    for name, code in ACTIVATIONS.items():
        ref = _numpy_activation(name, erf) if name != "linear" else None
        if ref is None:
            continue

        def native(code=code):
            _core.activation_forward(x, y, code)
            _core.activation_backward(x, y, dy, dx, code)

        yield f"{name} fwd+bwd", native, (lambda ref=ref: ref(x, dy))


def _batchnorm_case(shape, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    f = shape[1]
    gamma, beta = np.ones(f, dtype), np.zeros(f, dtype)
    mm, mv = np.zeros(f, dtype), np.ones(f, dtype)
    y, dx = np.empty_like(x), np.empty_like(x)
    sm, si, dg, db = (np.empty(f, dtype) for _ in range(4))

    def native():
        _core.batchnorm_forward_train(x, gamma, beta, y, sm, si, mm, mv, 1e-3, 0.99)
        _core.batchnorm_backward(x, dy, gamma, sm, si, dx, dg, db)

    def numpy():
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        invstd = 1.0 / np.sqrt(var + 1e-3)
        xhat = (x - mean) * invstd
        out = gamma * xhat + beta
        new_mm = 0.99 * mm + 0.01 * mean
        new_mv = 0.99 * mv + 0.01 * var
        dbeta = dy.sum(axis=0)
        dgamma = (dy * xhat).sum(axis=0)
        grad = gamma * invstd / shape[0] * (shape[0] * dy - dbeta - xhat * dgamma)
        return out, new_mm, new_mv, grad

    return "batchnorm fwd+bwd", native, numpy


def _dense_cases(shape, dtype, rng, with_gemm=True):
    batch, n = shape
    x = rng.standard_normal((batch, n)).astype(dtype)
    w = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    dy = rng.standard_normal((batch, n)).astype(dtype)
    z, y, dz, dx, dw, db = (np.empty_like(a) for a in (x, x, x, x, w, b))
    relu = ACTIVATIONS["relu"]

    _core.dense_forward(x, w, b, z, y, relu)

    def native():
        _core.dense_forward(x, w, b, z, y, relu)
        _core.activation_backward(z, y, dy, dz, relu)
        _core.dense_backward(x, w, dz, dx, dw, db)

    def numpy():
        zz = x @ w + b
        yy = np.maximum(zz, 0)
        g = np.where(zz > 0, dy, 0)
        return yy, x.T @ g, g.sum(axis=0), g @ w.T

    z_numpy = x @ w + b

    def native_tail():
        _core.activation_backward(z, y, dy, dz, relu)
        _core.column_sums(dz, db)

    def numpy_tail():
        g = np.where(z_numpy > 0, dy, 0)
        return g, g.sum(axis=0)

    if with_gemm:
        yield "dense relu fwd+bwd (with GEMM)", native, numpy
    yield "dense bwd non-GEMM (relu' + db)", native_tail, numpy_tail
    yield "dense bias grad (db)", (lambda: _core.column_sums(dy, db)), (lambda: dy.sum(axis=0))


def run(quick: bool = False, threads: list[int] | None = None) -> list[dict]:
    """Measure every case; returns rows {op, shape, dtype, threads, ms, numpy_ms, ratio}."""
    rng = np.random.default_rng(0)
    repeats = 5 if quick else 25
    shapes = SHAPES
    dtypes = [np.float32] if quick else [np.float32, np.float64]
    before = vn.get_num_threads()
    erf = _erf()
    rows = []
    try:
        for n_threads in threads or [before]:
            vn.set_num_threads(n_threads)
            for dtype in dtypes:
                for shape in shapes:
                    cases = [
                        *_activation_cases(shape, dtype, rng, erf),
                        _batchnorm_case(shape, dtype, rng),
                        # Quick runs skip GEMMs beyond 1e8 multiply-adds.
                        *_dense_cases(
                            shape, dtype, rng, not quick or shape[0] * shape[1] ** 2 < 1e8
                        ),
                    ]
                    for op, native, numpy in cases:
                        ms, numpy_ms = _time_pair(native, numpy, repeats)
                        rows.append(
                            {
                                "op": op,
                                "shape": list(shape),
                                "dtype": np.dtype(dtype).name,
                                "threads": n_threads,
                                "ms": ms,
                                "numpy_ms": numpy_ms,
                                "ratio": numpy_ms / ms,
                            }
                        )
    finally:
        vn.set_num_threads(before)
    return rows


def format_table(rows: list[dict]) -> str:
    header = ["op", "shape", "dtype", "threads", "ms", "numpy_ms", "ratio"]
    cells = [
        [
            r["op"],
            "x".join(map(str, r["shape"])),
            r["dtype"],
            str(r["threads"]),
            f"{r['ms']:.4f}",
            f"{r['numpy_ms']:.4f}",
            f"{r['ratio']:.2f}",
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += [
        "  ".join(
            c.rjust(w) if i >= 3 else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes, dtypes and samples")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this path")
    parser.add_argument(
        "--threads", default=None, help="comma-separated thread counts (default: current setting)"
    )
    args = parser.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")] if args.threads else None
    rows = run(quick=args.quick, threads=threads)
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if _erf() is None:
        print("(gelu skipped: its NumPy reference needs scipy.special.erf)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
