"""Sweeps: a grid of configurations x seeds, run in parallel, resumable.

Where the runs execute:

- ``executor=None``: a local pool of ``spawn``-started worker processes, as
  many as there are usable cores (at most one per run); each worker gets
  ``cores // workers`` native threads (``vgp_native.set_num_threads``), so
  workers x threads never exceeds the cores. With one worker (one core, one
  run, or ``max_workers=1``) the runs execute in this process, one by one.
  Workers end when this process dies, even by SIGKILL (``experiments.pool``).
- any ``concurrent.futures.Executor`` (thread or process pool): runs are
  submitted to it as they are; native threads are left alone.
- a ``dask.distributed.Client``: runs are submitted to its cluster. Dask is
  never imported unless such a client is passed in. Dask's workers start
  with ``OMP_NUM_THREADS=1`` by default; native threads are left alone.

Results never depend on where a run executed: the native kernels give the
same bits for any thread count, and every task carries its data.

With ``cache_dir``, each finished result is written at once, atomically, to
``cache_dir/<key>.json`` (``key`` a hash of the configuration, seed, epochs and
data), and results already there are loaded instead of run again: an
interrupted sweep resumes where it stopped and ends with the same table.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_text, remove_stale_temporaries
from .config import CONFIG_KEYS, check_config
from .data import Dataset, load_dataset
from .pool import run_local
from .results import SweepResults
from .runner import FLOAT_FIELDS, RESULT_FIELDS, check_epochs, run_task

__all__ = ["expand_grid", "is_dask_client", "result_key", "sweep"]

ProgressFn = Callable[[int, int, dict[str, Any], bool], None]


def is_dask_client(obj: Any) -> bool:
    """Whether ``obj`` is a ``dask.distributed.Client``, without importing dask."""
    return any(
        cls.__name__ == "Client" and cls.__module__.split(".")[0] == "distributed"
        for cls in type(obj).__mro__
    )


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise TypeError(f"seeds must be a count or a list of seeds, received {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1 when a count, received {seeds}")
        return list(range(seeds))
    out = list(seeds)
    if not out:
        raise ValueError("seeds must hold at least one seed")
    for s in out:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"seeds must be non-negative integers, received {s!r}")
    return out


def expand_grid(grid: Mapping[str, Any], seeds: int | Sequence[int] = 1) -> list[dict[str, Any]]:
    """Every configuration of ``grid`` x ``seeds``, complete and checked, in a fixed order.

    ``grid`` maps configuration keys (``depth, width, activation, init, norm,
    residual, dataset, dropout, optimizer, learning_rate, batch_size``) to lists
    of values (a single value counts as a list of one); keys left out take the
    seed's settings. ``seeds`` is a count (seeds ``0 .. n-1``) or a list. The
    order is the grid's keys in ``CONFIG_KEYS`` order, the last varying
    fastest, with the seed innermost.
    """
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict of lists, received {type(grid).__name__}")
    if "seed" in grid:
        raise ValueError("grid must not hold 'seed'; pass the seeds as the seeds argument")
    unknown = sorted(set(grid) - set(CONFIG_KEYS))
    if unknown:
        raise ValueError(
            f"unknown grid key(s) {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(k for k in CONFIG_KEYS if k != 'seed')}"
        )
    keys = [k for k in CONFIG_KEYS if k in grid]
    values = []
    for key in keys:
        value = grid[key]
        options = list(value) if isinstance(value, (list, tuple)) else [value]
        if not options:
            raise ValueError(f"grid[{key!r}] is empty; give at least one value")
        values.append(options)
    configs = []
    for combo in itertools.product(*values, _seed_list(seeds)):
        cfg = dict(zip(keys, combo[:-1], strict=True))
        configs.append(check_config(cfg, seed=combo[-1]))
    return configs


def result_key(config: Mapping[str, Any], epochs: int, data_digest: str) -> str:
    """The cache key of one run: a hash of its configuration, epochs and data."""
    text = json.dumps(
        {"config": dict(config), "epochs": epochs, "data": data_digest}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _from_json_value(key: str, value: Any) -> Any:
    if key not in FLOAT_FIELDS:
        return value
    if value is None:
        return math.nan
    return {"inf": math.inf, "-inf": -math.inf}.get(value, value)


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write strict JSON to ``path`` atomically (a temporary file, then a rename)."""
    atomic_write_text(path, json.dumps(payload, indent=1, allow_nan=False) + "\n")


def encode_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """A result dict as strict JSON (NaN as null, infinities as "inf"/"-inf")."""
    return {k: _json_value(v) for k, v in result.items()}


def decode_result(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of ``encode_result``."""
    return {k: _from_json_value(k, v) for k, v in payload.items()}


def _load_cached(path: Path, config: Mapping[str, Any], epochs: int) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(payload, dict) or set(payload) != set(CONFIG_KEYS) | set(RESULT_FIELDS):
        return None
    result = decode_result(payload)
    if any(result[k] != config[k] for k in CONFIG_KEYS) or result["epochs"] != epochs:
        return None
    return result


def _run_executor(tasks: list[dict[str, Any]], executor: cf.Executor) -> Iterator[tuple[int, Any]]:
    futures = {executor.submit(run_task, task): i for i, task in enumerate(tasks)}
    try:
        for fut in cf.as_completed(futures):
            yield futures[fut], fut.result()
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise


def _run_dask(tasks: list[dict[str, Any]], client: Any) -> Iterator[tuple[int, Any]]:
    from distributed import as_completed  # a Client exists, so distributed is installed

    futures = [client.submit(run_task, task, pure=False) for task in tasks]
    index = {fut.key: i for i, fut in enumerate(futures)}
    try:
        for fut in as_completed(futures):
            yield index[fut.key], fut.result()
    except BaseException:
        client.cancel(futures)
        raise


def sweep(
    grid: Mapping[str, Any],
    seeds: int | Sequence[int] = 1,
    epochs: int = 100,
    executor: Any = None,
    *,
    max_workers: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: ProgressFn | None = None,
) -> SweepResults:
    """Train every configuration of ``grid`` for every seed; one result dict per run.

    Args:
        grid: configuration keys mapped to lists of values (see ``expand_grid``);
            keys left out take the seed's settings (depth 8, width 10, sigmoid,
            glorot_uniform, Adam, batch 32, moons).
        seeds: a count (seeds 0 .. n-1) or a list of seeds.
        epochs: epochs per run.
        executor: None (a local process pool), a ``concurrent.futures.Executor``
            or a ``dask.distributed.Client``.
        max_workers: size of the local pool (None: one per core; 1: run here).
        cache_dir: a directory for finished results: each is written as it
            completes, and those already there are not run again.
        progress: called as ``progress(done, total, result, cached)`` after each run.

    Returns:
        The results in grid order, a ``SweepResults`` (a list that a notebook shows
        as the summary table): each a dict of the configuration's keys, then
        ``seed`` and the measured fields (``final_loss, accuracy, val_accuracy,
        grad_ratio, verdict, seconds``, ...; see ``vgp_native.experiments.runner``).
    """
    configs = expand_grid(grid, seeds)
    epochs = check_epochs(epochs)
    if executor is not None and not (isinstance(executor, cf.Executor) or is_dask_client(executor)):
        raise TypeError(
            "executor must be None, a concurrent.futures.Executor or a dask.distributed.Client, "
            f"received {type(executor).__name__}"
        )
    if max_workers is not None and (
        isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1
    ):
        raise ValueError(f"max_workers must be an integer >= 1, received {max_workers!r}")
    data: dict[str, Dataset] = {}
    for cfg in configs:
        if cfg["dataset"] not in data:
            data[cfg["dataset"]] = load_dataset(cfg["dataset"])
    digests = {name: ds.digest() for name, ds in data.items()}
    cache = Path(cache_dir) if cache_dir is not None else None
    results: list[dict[str, Any] | None] = [None] * len(configs)
    paths: list[Path | None] = [None] * len(configs)
    done = 0
    pending: list[int] = []
    for i, cfg in enumerate(configs):
        if cache is not None:
            paths[i] = cache / f"{result_key(cfg, epochs, digests[cfg['dataset']])}.json"
            cached = _load_cached(paths[i], cfg, epochs)
            if cached is not None:
                results[i] = cached
                done += 1
                if progress is not None:
                    progress(done, len(configs), cached, True)
                continue
        pending.append(i)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(cache)
    dask = executor is not None and is_dask_client(executor)
    tasks = [
        {
            "config": configs[i],
            "data": data[configs[i]["dataset"]],
            "epochs": epochs,
            "threads": None,
        }
        for i in pending
    ]
    if executor is None:
        stream = run_local(run_task, tasks, max_workers)
    elif dask:
        stream = _run_dask(tasks, executor)
    else:
        stream = _run_executor(tasks, executor)
    try:
        for j, result in stream:
            i = pending[j]
            results[i] = result
            if paths[i] is not None:
                write_json_atomic(paths[i], encode_result(result))
            done += 1
            if progress is not None:
                progress(done, len(configs), result, False)
    finally:
        stream.close()
    return SweepResults(r for r in results if r is not None)
