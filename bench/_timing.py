"""Timing helpers shared by the benchmarks: clocks and interleaved blocks of samples."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

# The clock samples are read from: wall time by default; with "cpu" the CPU
# time of the calling thread, which on a shared, busy machine leaves out the
# time other processes held the core (only meaningful for one thread: with one
# thread every library computes in the calling thread); with "process" the CPU
# time of all the process's threads divided by the thread count, a
# busy-machine stand-in for several threads that also counts the time worker
# threads spin while they wait (every library here spins a while).
CLOCKS: dict[str, Callable[[], float]] = {
    "wall": time.perf_counter,
    "cpu": time.thread_time,
    "process": time.process_time,
}


def calibrate(fn: Callable[[], Any], target_s: float, clock: Callable[[], float]) -> int:
    """Calls per sample so that one sample lasts about target_s."""
    calls = 1
    while True:
        t0 = clock()
        for _ in range(calls):
            fn()
        dt = clock() - t0
        if dt >= target_s or calls >= 1 << 20:
            return calls
        calls = max(calls * 2, int(calls * target_s / max(dt, 1e-9)))


def time_blocks(
    fns: Sequence[Callable[[], Any]],
    samples: int,
    target_s: float,
    clock: Callable[[], float] = time.perf_counter,
    settle_s: float = 0.0,
    blocks: int = 2,
) -> list[tuple[float, float]]:
    """(median, fastest) seconds per call of each function.

    The functions are timed in alternating blocks (f0, f1, ..., f0, f1, ...),
    each block made of about samples / blocks samples and preceded by a pause
    of settle_s and one untimed call. Block by block rather than call by call:
    the process holds several thread pools (libgomp's, OpenBLAS's, PyTorch's),
    each busy-waits for a while after a parallel call, and a parallel call
    made while another pool still spins finds its own second thread queued
    behind the spinner, losing a 4 ms scheduler slice on a 2-core machine.
    """
    for fn in fns:
        fn()
    calls = [calibrate(fn, target_s, clock) for fn in fns]
    per_block = max(1, -(-samples // blocks))
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(blocks):
        for fn, n, out in zip(fns, calls, times, strict=True):
            if settle_s > 0:
                time.sleep(settle_s)
            fn()
            for _ in range(per_block):
                t0 = clock()
                for _ in range(n):
                    fn()
                out.append((clock() - t0) / n)
    return [(statistics.median(t), min(t)) for t in times]
