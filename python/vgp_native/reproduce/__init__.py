"""The papers behind the remedies, rerun on this package and checked.

Each paper is a preset: a small module that reruns the paper's central
experiment with the public API and states, for every claim, the paper's value
(with its section, figure or equation), the value measured here and whether the
claim holds. The verdicts are computed from the measurements, never typed in.

- ``names()``: the presets, in the order of the papers' argument.
- ``run(name, quick=False, out=None, seed=0)``: one preset; a dict ``{"name",
  "paper", "claims": [{"claim", "paper_value", "measured", "holds"}, ...],
  "figures", "seconds"}``. ``figures`` are matplotlib Figures, or the PNG paths
  when ``out`` is given; then ``out/<name>/`` also gets ``result.json`` and a
  ``README.md`` claim table.
- ``run_all(quick=False, out=None, seed=0)``: every preset; with ``out`` also
  ``out/index.html`` linking every figure (``write_index``).
- ``format_result(result)``: the claim table for a terminal (80 columns).

``quick=True`` is the small version the tests run (a few seconds a preset); its
claims hold too. ``seed`` drives every random choice of a preset.

Example::

    from vgp_native import reproduce
    result = reproduce.run("he2015", quick=True)
    print(reproduce.format_result(result))
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from .._validation import check_bool, check_int
from . import (
    balduzzi2017,
    glorot2010,
    he2015,
    he2016,
    ioffe2015,
    pennington2017,
    saxe2014,
    schoenholz2017,
)
from ._report import CLAIM_KEYS, RESULT_KEYS, check_claims, format_result, index_page, write_result

__all__ = [
    "CLAIM_KEYS",
    "RESULT_KEYS",
    "format_result",
    "names",
    "preset",
    "run",
    "run_all",
    "write_index",
]

#: The presets, in the order of the papers' argument.
_PRESETS: tuple[ModuleType, ...] = (
    glorot2010,
    he2015,
    ioffe2015,
    saxe2014,
    schoenholz2017,
    pennington2017,
    he2016,
    balduzzi2017,
)
_REGISTRY: dict[str, ModuleType] = {module.NAME: module for module in _PRESETS}


def names() -> list[str]:
    """The names of the presets, e.g. ``["glorot2010", "he2015", ...]``."""
    return list(_REGISTRY)


def preset(name: str) -> ModuleType:
    """The module of preset ``name`` (its ``NAME``, ``PAPER``, ``SUMMARY`` and ``run``, and
    ``NOTES`` where it has them: what differs from the paper, for its README)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, received {type(name).__name__}")
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown reproduction {name!r}; known: {', '.join(_REGISTRY)}") from None


def run(
    name: str, quick: bool = False, out: str | os.PathLike[str] | None = None, seed: int = 0
) -> dict[str, Any]:
    """Rerun one paper's experiment and check its claims.

    Args:
        name: one of ``names()``.
        quick: the small version (seconds; the tests run it).
        out: a folder; when given, ``out/<name>/`` receives ``result.json``, the
            figures (PNG) and a ``README.md`` claim table, and ``figures`` holds
            the PNG paths.
        seed: drives every random choice (data, weights, shuffling); claims over
            several seeds derive theirs from it.

    Returns:
        ``{"name", "paper", "claims", "figures", "seconds"}``: ``claims`` a list of
        ``{"claim", "paper_value", "measured", "holds"}``, ``figures`` matplotlib
        Figures (or paths, with ``out``), ``seconds`` the wall time of the
        experiment (files not included).
    """
    module = preset(name)
    quick = check_bool(quick, "quick")
    seed = check_int(seed, "seed", minimum=0)
    folder = None if out is None else Path(out) / module.NAME
    start = time.perf_counter()
    claims, figures = module.run(quick=quick, seed=seed)
    check_claims(module.NAME, claims, figures)
    result: dict[str, Any] = {
        "name": module.NAME,
        "paper": module.PAPER,
        "claims": claims,
        "figures": [fig for _, fig in figures],
        "seconds": time.perf_counter() - start,
    }
    if folder is not None:
        result["figures"] = write_result(
            folder,
            result,
            figures,
            summary=module.SUMMARY,
            quick=quick,
            seed=seed,
            notes=getattr(module, "NOTES", ""),
        )
    return result


def run_all(
    quick: bool = False, out: str | os.PathLike[str] | None = None, seed: int = 0
) -> list[dict[str, Any]]:
    """``run`` every preset in turn; with ``out``, also write ``out/index.html``.

    Returns:
        The results of ``run``, in the order of ``names()``.
    """
    results = [run(name, quick=quick, out=out, seed=seed) for name in names()]
    if out is not None:
        write_index(out, results)
    return results


def write_index(out: str | os.PathLike[str], results: list[dict[str, Any]]) -> Path:
    """Write ``out/index.html``: each result's claim table and links to all its figures.

    Args:
        out: the folder the results were written to (``run(..., out=out)``).
        results: results of ``run`` with that ``out``.

    Returns:
        The path of the page.
    """
    summaries = {r["name"]: preset(r["name"]).SUMMARY for r in results}
    return index_page(Path(out), results, summaries)
