"""GEMM benchmark: vgp_native.ops.gemm against numpy's matmul and torch.matmul, side by side.

All are timed in the same process, in alternating blocks of samples, so
machine noise hits them alike (see _timing.time_blocks for why blocks and not
single calls). Each sample repeats the call until it lasts a few
milliseconds; the reported time is the median per-call time over the samples
(after a warm-up); ``best_ms`` / ``numpy_best_ms`` / ``torch_best_ms`` keep
the fastest sample too, which on a shared, busy machine is the better
estimate of what the code can do (the ``best`` column is numpy's best over
ours). The native side is timed through the public wrapper ``ops.gemm``
(argument checks, output allocation and all); for the small training shapes,
where that Python overhead dominates, a second row ``gemm[core]`` times the
binding with a preallocated output against ``np.matmul(..., out=...)`` (and
``torch.matmul(..., out=...)``), which is what the native training loop pays.
PyTorch is measured when it is installed (``--no-torch`` leaves it out).

Threads: ``vgp_native.set_num_threads`` for the native kernels,
threadpoolctl's ``threadpool_limits`` for numpy's BLAS and
``torch.set_num_threads`` for PyTorch.

Usage::

    python bench/bench_gemm.py                      # squares, transposed forms, training shapes
    python bench/bench_gemm.py --sizes 1024,256x1024x1024:nt --threads 1,2 --dtype float32
    python bench/bench_gemm.py --quick --json out.json
    python bench/bench_gemm.py --repeat 3             # per-row medians of three passes
    python bench/bench_gemm.py --threads 1 --clock cpu  # on a busy machine
    python bench/bench_gemm.py --threads 2 --clock process  # likewise, CPU time / threads
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vgp_native as vn
from _cpu import describe_cpu
from _timing import CLOCKS, time_blocks
from vgp_native import _core, ops

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl is optional
    threadpool_info = None
    threadpool_limits = None

try:
    import torch
except ImportError:  # pragma: no cover - PyTorch is optional
    torch = None

# (m, n, k, form): form "nn" is a @ b, "tn" is a.T @ b (dW = X^T dY), "nt" is a @ b.T (dX = dY W^T).
SQUARES = [(s, s, s, "nn") for s in (64, 128, 256, 512, 1024, 2048)]
TRANSPOSED = [(1024, 1024, 1024, "tn"), (1024, 1024, 1024, "nt")]
TRAINING = [
    (32, 10, 10, "nn"),
    (32, 10, 10, "tn"),
    (32, 10, 10, "nt"),
    (32, 10, 2, "nn"),
    (32, 1, 10, "nn"),
    (128, 256, 784, "nn"),
    (784, 256, 128, "tn"),
    (128, 784, 256, "nt"),
    (256, 1024, 1024, "nn"),
    (256, 1024, 1024, "tn"),
    (256, 1024, 1024, "nt"),
    (256, 512, 512, "nn"),
]
# Products up to this many multiply-adds also get a gemm[core] row.
CORE_ROW_MAX_WORK = 1 << 16


def parse_sizes(text: str) -> list[tuple[int, int, int, str]]:
    """Parse ``"512,256x1024x1024:nt"`` into (m, n, k, form) tuples."""
    shapes = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        dims, _, form = item.partition(":")
        form = form or "nn"
        if form not in ("nn", "tn", "nt"):
            raise ValueError(f"--sizes: form must be nn, tn or nt, received {form!r} in {item!r}")
        parts = dims.lower().split("x")
        if len(parts) == 1:
            parts = parts * 3
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f"--sizes: expected N or MxNxK (positive), received {item!r}")
        m, n, k = (int(p) for p in parts)
        shapes.append((m, n, k, form))
    return shapes


def _operands(m: int, n: int, k: int, form: str, dtype: np.dtype, rng: np.random.Generator):
    a = rng.standard_normal((k, m) if form == "tn" else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if form == "nt" else (k, n)).astype(dtype)
    return a, b


def _blas_limit(threads: int):
    if threadpool_limits is None:
        return _NullContext()
    return threadpool_limits(limits=threads, user_api="blas")


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _row(op, m, n, k, form, dtype, threads, times) -> dict[str, Any]:
    """One row from [(median, best) of ours, numpy's and maybe torch's] seconds."""
    (t_vgp, best_vgp), (t_np, best_np) = times[:2]
    flops = 2.0 * m * n * k
    row = {
        "op": op,
        "shape": f"{m}x{n}x{k}:{form}",
        "dtype": np.dtype(dtype).name,
        "threads": threads,
        "kernel": ops.gemm_kernel_name(dtype),
        "ms": t_vgp * 1e3,
        "gflops": flops / t_vgp / 1e9,
        "numpy_ms": t_np * 1e3,
        "numpy_gflops": flops / t_np / 1e9,
        "ratio": t_np / t_vgp,
        "best_ms": best_vgp * 1e3,
        "numpy_best_ms": best_np * 1e3,
    }
    if len(times) > 2:
        t_torch, best_torch = times[2]
        row.update(
            torch_ms=t_torch * 1e3,
            torch_gflops=flops / t_torch / 1e9,
            torch_ratio=t_torch / t_vgp,
            torch_best_ms=best_torch * 1e3,
        )
    return row


def _per_thread(times: list[tuple[float, float]], clock: str, threads: int):
    """Process CPU seconds count every thread: divide by the thread count."""
    scale = threads if clock == "process" else 1
    return [(median / scale, best / scale) for median, best in times]


def bench_shape(
    m: int,
    n: int,
    k: int,
    form: str,
    dtype: Any,
    threads: int,
    quick: bool = False,
    samples: int | None = None,
    clock: str = "wall",
    with_torch: bool = True,
) -> list[dict[str, Any]]:
    """Rows for one shape: ops.gemm vs a @ b (and torch.matmul), plus gemm[core] when small."""
    rng = np.random.default_rng(0)
    a, b = _operands(m, n, k, form, np.dtype(dtype), rng)
    ta, tb = form == "tn", form == "nt"
    a_op = a.T if ta else a
    b_op = b.T if tb else b
    use_torch = with_torch and torch is not None
    target = 0.002 if quick else 0.005
    samples = samples or (4 if quick else 8)
    # Let the other libraries' thread pools go idle before each block; blocks
    # of about 4 samples, so that a burst of load from other processes hits
    # every library.
    settle = 0.0 if threads == 1 else 0.2
    blocks = max(2, samples // 4)
    before = vn.get_num_threads()
    torch_before = torch.get_num_threads() if use_torch else 0
    vn.set_num_threads(threads)
    if use_torch:
        torch.set_num_threads(threads)
    try:
        with _blas_limit(threads):
            fns = [lambda: ops.gemm(a, b, trans_a=ta, trans_b=tb), lambda: a_op @ b_op]
            if use_torch:
                at, bt = torch.from_numpy(a_op), torch.from_numpy(b_op)
                fns.append(lambda: torch.matmul(at, bt))
            times = _per_thread(
                time_blocks(fns, samples, target, CLOCKS[clock], settle, blocks), clock, threads
            )
            rows = [_row("gemm", m, n, k, form, dtype, threads, times)]
            if m * n * k <= CORE_ROW_MAX_WORK:
                c = np.empty((m, n), dtype=dtype)
                c_np = np.empty((m, n), dtype=dtype)
                fns = [
                    lambda: _core.gemm(a, b, c, ta, tb),
                    lambda: np.matmul(a_op, b_op, out=c_np),
                ]
                if use_torch:
                    ct = torch.from_numpy(np.empty((m, n), dtype=dtype))
                    fns.append(lambda: torch.matmul(at, bt, out=ct))
                times = _per_thread(
                    time_blocks(fns, samples, target, CLOCKS[clock], settle, blocks), clock, threads
                )
                rows.append(_row("gemm[core]", m, n, k, form, dtype, threads, times))
    finally:
        vn.set_num_threads(before)
        if use_torch:
            torch.set_num_threads(torch_before)
    return rows


def run(
    quick: bool = False,
    threads: list[int] | None = None,
    sizes: list[tuple[int, int, int, str]] | None = None,
    dtypes: list[str] | None = None,
    repeat: int = 1,
    samples: int | None = None,
    clock: str = "wall",
    with_torch: bool = True,
) -> list[dict[str, Any]]:
    """Benchmark every shape x dtype x thread count; returns one dict per row.

    Args:
        quick: fewer shapes and shorter samples (a smoke run of a few seconds).
        threads: thread counts to measure; default 1 and the CPU count.
        sizes: (m, n, k, form) tuples; default squares 512-2048, the transposed
            forms at 1024 and the training shapes (512 and the training shapes
            when quick).
        dtypes: "float32" and/or "float64"; default both.
        repeat: run the whole list this many times, one pass after the other,
            and report per-row medians (bursts of load from other processes
            then hit one pass, not every sample of a row).
        samples: timed samples per row and pass (default 8, 4 when quick).
        clock: "wall" (time.perf_counter), "cpu" (time.thread_time, one
            thread only) or "process" (time.process_time / threads).
        with_torch: also time torch.matmul when PyTorch is installed.
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, received {clock!r}")
    if threads is None:
        threads = [1] if clock == "cpu" else sorted({1, os.cpu_count() or 1})
    if clock == "cpu" and threads != [1]:
        raise ValueError(f"clock='cpu' measures one thread only, received threads={threads}")
    if sizes is None:
        sizes = [(512, 512, 512, "nn"), *TRAINING[:8]] if quick else SQUARES + TRANSPOSED + TRAINING
    dtypes = dtypes or ["float32", "float64"]
    passes: list[list[dict[str, Any]]] = []
    for _ in range(max(1, repeat)):
        rows: list[dict[str, Any]] = []
        for dtype in dtypes:
            for m, n, k, form in sizes:
                for t in threads:
                    rows.extend(
                        bench_shape(m, n, k, form, dtype, t, quick, samples, clock, with_torch)
                    )
        passes.append(rows)
    return [_median_row(same) for same in zip(*passes, strict=True)]


def _median_row(same: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """One row from the same measurement in several passes: median times."""
    row = dict(same[0])
    m, n, k = (int(x) for x in row["shape"].split(":")[0].split("x"))
    flops = 2.0 * m * n * k
    for lib in ("", "numpy_", "torch_"):
        if f"{lib}ms" in row:
            row[f"{lib}ms"] = statistics.median(r[f"{lib}ms"] for r in same)
            row[f"{lib}gflops"] = flops / row[f"{lib}ms"] / 1e6
            row[f"{lib}best_ms"] = min(r[f"{lib}best_ms"] for r in same)
    row["ratio"] = row["numpy_ms"] / row["ms"]
    if "torch_ms" in row:
        row["torch_ratio"] = row["torch_ms"] / row["ms"]
    return row


def blas_description() -> str:
    """Which BLAS numpy uses (library, version, kernel architecture, threading)."""
    if threadpool_info is None:
        return "numpy BLAS: unknown (threadpoolctl not installed)"
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return (
                f"numpy BLAS: {info.get('internal_api')} {info.get('version')}, "
                f"kernel {info.get('architecture')}, {info.get('num_threads')} threads, "
                f"{info.get('threading_layer')} threading"
            )
    return "numpy BLAS: none found"


def format_table(rows: list[dict[str, Any]]) -> str:
    """Ours, numpy's and (when measured) PyTorch's GFLOP/s and the ratios (>1: ours faster)."""
    with_torch = any("torch_ms" in r for r in rows)
    head = (
        f"{'op':<11}{'shape':>20}{'dtype':>9}{'thr':>4}{'kernel':>8}"
        f"{'ms':>11}{'GFLOP/s':>9}{'numpy ms':>11}{'GFLOP/s':>9}{'ratio':>7}{'best':>7}"
    )
    head += f"{'torch GF/s':>11}{'x torch':>8}" if with_torch else ""
    lines = [head, "-" * len(head)]
    for r in rows:
        line = (
            f"{r['op']:<11}{r['shape']:>20}{r['dtype']:>9}{r['threads']:>4}{r['kernel']:>8}"
            f"{r['ms']:>11.4f}{r['gflops']:>9.1f}{r['numpy_ms']:>11.4f}"
            f"{r['numpy_gflops']:>9.1f}{r['ratio']:>7.2f}"
            f"{r['numpy_best_ms'] / r['best_ms']:>7.2f}"
        )
        if "torch_ms" in r:
            line += f"{r['torch_gflops']:>11.1f}{r['torch_ratio']:>8.2f}"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated N or MxNxK[:nn|tn|nt]")
    parser.add_argument("--threads", help="comma-separated thread counts, e.g. 1,2")
    parser.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="fewer shapes, shorter samples")
    parser.add_argument("--samples", type=int, help="samples per row (default 8, quick 4)")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall time, the calling thread's CPU time (one thread) or the process's CPU "
        "time per thread (both for a busy machine)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="passes; rows report medians")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    try:
        threads = [int(t) for t in args.threads.split(",")] if args.threads else None
        sizes = parse_sizes(args.sizes) if args.sizes else None
    except ValueError as exc:
        parser.error(str(exc))
    if args.clock == "cpu" and threads not in (None, [1]):
        parser.error(f"--clock cpu measures one thread only, received --threads {args.threads}")
    dtypes = ["float32", "float64"] if args.dtype == "both" else [args.dtype]
    print(f"vgp_native {vn.__version__}, OpenMP {_core.openmp_enabled()}")
    print(describe_cpu())
    print(f"numpy {np.__version__}; {blas_description()}")
    if torch is not None and not args.no_torch:
        print(f"torch {torch.__version__}")
    print(
        f"clock: {args.clock}; median of {args.samples or (4 if args.quick else 8)} samples", end=""
    )
    print(f", median over {args.repeat} passes" if args.repeat > 1 else "")
    rows = run(
        quick=args.quick,
        threads=threads,
        sizes=sizes,
        dtypes=dtypes,
        repeat=args.repeat,
        samples=args.samples,
        clock=args.clock,
        with_torch=not args.no_torch,
    )
    print(format_table(rows))
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
