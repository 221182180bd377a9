"""How much of a training step is matrix products, and how fast they run there.

One instrumented run of ``fit`` (``_core.gemm_profile``) counts the GEMM calls,
their floating-point operations and their wall time, per shape. The share of
the step spent outside GEMM is 1 - GEMM time / step time; the GEMM rate inside
the step is flops / GEMM time. Each shape is then timed alone through the
binding with preallocated operands (as ``bench_gemm.py``'s ``gemm[core]`` rows
are: warm caches, no epilogue), and the same calls at those rates give the
pure-GEMM rate the step is compared with. The fastest of the samples is
taken: on a loaded 2-core machine a two-thread call of a few hundred
microseconds often waits a whole scheduler slice (4 ms) for its second
thread, and the median then measures the machine, not the GEMM. For the tiny
case's products (a few hundred nanoseconds) the pure rate includes the
binding's call from Python (about a microsecond), which the native step does
not pay, so the step's rate there exceeds it.

The instrumented run is separate from the timed ones: each GEMM call then also
reads the clock twice and updates the counters (about 0.1 us), which is
noticeable only in the tiny case, whose products take a few hundred
nanoseconds each.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from _timing import time_blocks
from vgp_native import _core


def _pure_seconds(shape: dict[str, Any], clock: Callable[[], float]) -> float:
    """Seconds of one call of this shape, alone and warm: the fastest sample."""
    m, n, k, ta, tb = shape["m"], shape["n"], shape["k"], shape["trans_a"], shape["trans_b"]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(shape["dtype"])
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(shape["dtype"])
    c = np.empty((m, n), dtype=shape["dtype"])
    ((_, best),) = time_blocks([lambda: _core.gemm(a, b, c, ta, tb)], 6, 0.002, clock)
    return best


def gemm_share(run_epochs: Callable[[int], None], epochs: int) -> dict[str, float]:
    """Instrumented run of ``run_epochs(epochs)``: GEMM share and rates of the step."""
    _core.gemm_profile(True)
    try:
        t0 = time.perf_counter()
        run_epochs(epochs)
        total = time.perf_counter() - t0
        profile = _core.gemm_profile_read()
    finally:
        _core.gemm_profile(False)
    gemm_s = profile["seconds"]
    pure_s = sum(s["calls"] * _pure_seconds(s, time.perf_counter) for s in profile["shapes"])
    flops = profile["flops"]
    return {
        "gemm_calls_per_epoch": profile["calls"] / epochs,
        "outside_gemm_share": max(0.0, 1.0 - gemm_s / total) if total > 0 else 0.0,
        "gemm_gflops_in_step": flops / gemm_s / 1e9 if gemm_s > 0 else 0.0,
        "gemm_gflops_pure": flops / pure_s / 1e9 if pure_s > 0 else 0.0,
    }


def format_share(rows: list[dict[str, Any]]) -> str:
    """The per-case GEMM table printed under the training table."""
    head = (
        f"{'case':<9}{'GEMM calls/ep':>14}{'outside GEMM':>14}{'GEMM GF/s in step':>19}"
        f"{'pure GF/s':>11}{'in step/pure':>14}"
    )
    lines = ["GEMM inside the step (one instrumented run per case):", head, "-" * len(head)]
    for r in rows:
        if "outside_gemm_share" not in r:
            continue
        pure = r["gemm_gflops_pure"]
        lines.append(
            f"{r['case']:<9}{r['gemm_calls_per_epoch']:>14.0f}{r['outside_gemm_share']:>13.1%}"
            f"{r['gemm_gflops_in_step']:>19.1f}{pure:>11.1f}"
            f"{r['gemm_gflops_in_step'] / pure if pure else 0.0:>14.2f}"
        )
    return "\n".join(lines)
