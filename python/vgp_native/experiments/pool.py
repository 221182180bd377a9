"""The local process pool of a sweep: spawned workers that end with their parent.

``concurrent.futures.ProcessPoolExecutor`` workers wait for tasks on a queue whose
pipe they hold both ends of, so when the parent is killed outright (SIGKILL,
the out-of-memory killer, a closed terminal) nothing tells them: they would wait
forever, and with them the ``multiprocessing`` resource tracker, which stays up
while any of them holds its pipe. Here each worker starts a watchdog thread on a
*lifeline*: the read end of a pipe whose only write end the parent holds. The
kernel closes that end when the parent dies, however it dies; the read end then
reports end-of-file and the worker ends at once (SIGTERM to itself: a task in
progress is abandoned, its result was never written). The watchdog also checks
every second that the parent is still the worker's parent, for the case where a
process forked from the parent holds a copy of the write end. Once the workers
are gone the resource tracker sees end-of-file on its own pipe and ends too.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from .._core import set_num_threads

__all__ = ["run_local", "spawn_can_start", "usable_cores", "watch_parent"]

#: Seconds between two checks of the worker's parent id.
PARENT_POLL_SECONDS = 1.0


def watch_parent(lifeline: Connection, parent: int, on_orphaned: Callable[[], None]) -> None:
    """Call ``on_orphaned`` once the parent is gone: ``lifeline`` reports end-of-file (the
    parent never writes to it) or the process's parent id is no longer ``parent``."""
    while True:
        try:
            if lifeline.poll(PARENT_POLL_SECONDS):
                break
        except (EOFError, OSError):
            break
        if os.getppid() != parent:
            break
    on_orphaned()


def _orphaned() -> None:
    """End this worker now, as ``Process.terminate()`` would (SIGTERM; on Windows,
    ``TerminateProcess``): a task in progress is abandoned."""
    os.kill(os.getpid(), signal.SIGTERM)


def _init_worker(threads: int, lifeline: Connection, parent: int) -> None:
    """Process-pool worker setup: native threads, Ctrl-C left to the parent, and a
    watchdog that ends the worker when the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_num_threads(threads)
    watchdog = threading.Thread(
        target=watch_parent, args=(lifeline, parent, _orphaned), name="vgp-parent-watch"
    )
    watchdog.daemon = True
    watchdog.start()


def _stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now (on an interrupt or error)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # Older Pythons have no public way to end running tasks: end the processes.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(OSError):
            proc.terminate()


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    counter = getattr(os, "process_cpu_count", None)  # Python >= 3.13
    if counter is not None:
        return counter() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def spawn_can_start() -> bool:
    """Whether spawned workers can re-import the main module (not so for ``python -`` or
    ``python -c``: their ``__main__`` has a file name that does not exist)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or os.path.exists(path)


def run_local(
    run: Callable[[Any], Any], tasks: list[Any], max_workers: int | None
) -> Iterator[tuple[int, Any]]:
    """``(index, run(task))`` for every task as it finishes, on a pool of spawned workers
    (one per usable core at most, ``cores // workers`` native threads each), or one by
    one in this process when one worker is all there is or spawning cannot work."""
    cores = usable_cores()
    workers = min(len(tasks), max_workers if max_workers is not None else cores)
    if workers <= 1 or not spawn_can_start():
        for i, task in enumerate(tasks):
            yield i, run(task)
        return
    context = multiprocessing.get_context("spawn")
    lifeline, held = context.Pipe(duplex=False)  # workers get the read end, this process `held`
    pool = cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(max(1, cores // workers), lifeline, os.getpid()),
    )
    try:
        futures = {pool.submit(run, task): i for i, task in enumerate(tasks)}
        for fut in cf.as_completed(futures):
            yield futures[fut], fut.result()
    except BaseException:
        _stop_pool(pool)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        held.close()
        lifeline.close()
