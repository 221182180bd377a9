"""Summaries of sweep results: seeds pooled, mean-field predictions alongside.

``summarize`` groups the results of a sweep by configuration (every key but
the seed) and pools the seeds: mean loss and accuracies, the geometric mean
of the gradient ratio (ratios spread over orders of magnitude), and for each
verdict (the headline, the initial and the training verdict) the most severe
seen with how many seeds showed it.

``trainable_depth`` is the mean-field prediction (Schoenholz et al. 2017) of
how deep a plain network of that activation and initialization still trains:
``6 xi`` with ``xi = 1 / |ln chi1|``, from :mod:`vgp_native.flow.theory` with
``sigma_w^2 = fan_in Var(W)`` of the initializer on a ``width x width`` kernel.
The theory describes plain stacks of Dense layers at initialization, so it is
not given for batch-normalized or residual networks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..flow import theory
from ..flow.verdicts import VERDICTS
from .config import CONFIG_KEYS, make_initializer

__all__ = ["SEVERITY_ORDER", "group_keys", "summarize", "trainable_depth", "varying_keys"]

#: Verdicts from the most to the least severe: the gradient-flow report's own order.
SEVERITY_ORDER: tuple[str, ...] = VERDICTS


def varying_keys(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """Configuration keys (not the seed) that take more than one value in ``results``."""
    return [
        key for key in CONFIG_KEYS if key != "seed" and len({repr(r[key]) for r in results}) > 1
    ]


def group_keys() -> list[str]:
    """The keys a configuration is identified by: all but the seed."""
    return [k for k in CONFIG_KEYS if k != "seed"]


def trainable_depth(config: Mapping[str, Any]) -> float | None:
    """Mean-field trainable depth ``6 xi`` for a plain network, or None where it does not apply.

    None for batch-normalized or residual configurations, and for initializers
    the theory cannot describe (non-zero mean). ``math.inf`` at criticality
    (e.g. relu with He initialization).
    """
    if config.get("norm", "none") != "none" or config.get("residual", "none") != "none":
        return None
    width = int(config.get("width", 10))
    try:
        sigma_w2 = theory.sigma_w2_for(make_initializer(config["init"]), width, width)
        return float(theory.mean_field(config["activation"], sigma_w2)["trainable_depth"])
    except (TypeError, ValueError):
        return None


def _geomean(values: Iterable[float]) -> float:
    """Geometric mean of non-negative ratios (0 and inf propagate; NaN when undefined)."""
    vals = np.asarray(list(values), dtype=np.float64)
    if vals.size == 0:
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.exp(np.mean(np.log(vals))))


def _worst(verdicts: Sequence[str]) -> tuple[str, int]:
    ranked = [v for v in SEVERITY_ORDER if v in verdicts]
    worst = ranked[0] if ranked else (verdicts[0] if verdicts else "")
    return worst, sum(1 for v in verdicts if v == worst)


def summarize(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per configuration, seeds pooled, in the order configurations first appear.

    Each row holds the configuration's keys (not ``seed``), ``seeds`` (how many),
    ``final_loss``, ``accuracy``, ``val_accuracy`` (means over seeds),
    ``val_accuracy_std``, ``grad_ratio`` (geometric mean), ``verdict`` (the most
    severe seen), ``verdict_count`` (seeds that showed it), the same for
    ``initial_verdict`` and ``training_verdict`` (``initial_verdict_count``,
    ``training_verdict_count``) and ``trainable_depth``.
    """
    keys = group_keys()
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for r in results:
        groups.setdefault(tuple(repr(r[k]) for k in keys), []).append(r)
    rows = []
    for members in groups.values():
        first = members[0]
        verdicts = {}
        for key in ("verdict", "initial_verdict", "training_verdict"):
            worst, count = _worst([str(m[key]) for m in members if key in m])
            verdicts[key], verdicts[f"{key}_count"] = worst, count
        val = np.asarray([m["val_accuracy"] for m in members], dtype=np.float64)
        row = {k: first[k] for k in keys}
        row.update(
            seeds=len(members),
            final_loss=float(np.mean([m["final_loss"] for m in members])),
            accuracy=float(np.mean([m["accuracy"] for m in members])),
            val_accuracy=float(np.mean(val)),
            val_accuracy_std=float(np.std(val)),
            grad_ratio=_geomean(m["grad_ratio"] for m in members),
            **verdicts,
            trainable_depth=trainable_depth(first),
        )
        rows.append(row)
    return rows
