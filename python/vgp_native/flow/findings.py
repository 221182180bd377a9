"""Findings: the evidence a report's conclusions are drawn from, and their form.

A ``Finding`` is one conclusion: a kind, the evidence (numbers, layers and
epochs, each quoted from the report's own statistics), and a remedy. The
builders (``findings_path``: non-finite, learning rate, exploding, vanishing;
``findings_units``: dead, saturated, batch-norm modes; ``diagnosis``: optimizer,
plateau, events, healthy) read an ``Evidence`` and return a ``Draft`` whose
remedies ``diagnosis.diagnose`` checks against each other
(``remedies.resolve``) before it writes them out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._text import epochs_text
from .history import RowInfo
from .parts import VerdictParts
from .remedies import Network, Remedy
from .thresholds import Thresholds
from .verdicts import RecordVerdicts

__all__ = ["Draft", "Evidence", "Finding", "finite"]


@dataclass(frozen=True)
class Finding:
    """One conclusion. ``str(finding)`` is the plain-language sentence.

    Attributes:
        kind: "non-finite", "learning-rate", "exploding", "vanishing", "optimizer",
            "dead", "saturated", "batchnorm", "plateau", "events", "degradation"
            or "healthy".
        evidence: what was measured, with numbers, layers and epochs.
        remedy: what to change.
        epochs: the epochs concerned (0 = initialization).
        layers: the layer names concerned.
        remedies: the keys of the remedies advised (``remedies.Remedy.key``).
        changes: the knobs those remedies turn, ``(knob, +1 or -1)``.
    """

    kind: str
    evidence: str
    remedy: str
    epochs: tuple[int, ...] = ()
    layers: tuple[str, ...] = ()
    remedies: tuple[str, ...] = ()
    changes: tuple[tuple[str, int], ...] = ()

    def __str__(self) -> str:
        return f"[{self.kind}] {self.evidence} Remedy: {self.remedy}"


@dataclass
class Draft:
    """A finding before its remedies are checked against the other findings'.

    ``fallback`` is the remedy text when none of ``remedies`` is left.
    """

    kind: str
    evidence: str
    remedies: list[Remedy]
    fallback: str
    epochs: tuple[int, ...] = ()
    layers: tuple[str, ...] = ()


@dataclass
class Evidence:
    """Everything the finding builders read (a report builds it).

    Attributes:
        rows: the statistics rows.
        field: ``name -> (records, rows)`` statistics accessor.
        update_ratio: ``(records, rows)``.
        verdicts: ratios and conditions of every record.
        parts: the two-part verdict.
        epoch: ``(records,)`` epoch of each record (0 = initialization).
        thresholds: the limits.
        optimizer: ``{"class_name", "learning_rate", ...}``.
        epoch_losses: training loss per completed epoch (empty for a snapshot).
        chance: the chance-level loss, or None.
        theory: ``decay.theory_comparison`` result, or None.
        first_nonfinite: where a NaN/Inf first appeared, or None.
        structure: ``{"batchnorm", "residual", "dropout"}``.
        modes: the training/inference-mode comparison of a batch-normalized model.
        snapshot: the single record is a snapshot at the current weights
            (``analyze``), not the start of a training run.
        network: what the network already has (derived).
    """

    rows: list[RowInfo]
    field: Callable[[str], np.ndarray]
    update_ratio: np.ndarray
    verdicts: RecordVerdicts
    parts: VerdictParts
    epoch: np.ndarray
    thresholds: Thresholds
    optimizer: dict[str, Any]
    epoch_losses: np.ndarray
    chance: float | None
    theory: dict[str, Any] | None
    first_nonfinite: dict[str, Any] | None
    structure: dict[str, bool] = field(default_factory=dict)
    modes: dict[str, Any] | None = None
    snapshot: bool = False
    network: Network = field(init=False)

    def __post_init__(self) -> None:
        self.network = Network.of(self.rows, self.structure, self.optimizer)

    @property
    def hidden(self) -> int:
        return max(len(self.rows) - 1, 0)

    def reported(self) -> set[str]:
        """The conditions the two verdict parts report."""
        return {self.parts.initial, self.parts.training} - {"healthy"}

    def epochs_with(self, verdict: str) -> list[int]:
        return sorted(set(self.epoch[self.verdicts.records_with(verdict)].tolist()))

    def at(self, record: int) -> str:
        """``"at initialization"``, ``"in epoch 3"``, or ``"at the current weights"``."""
        if self.snapshot:
            return "at the current weights"
        e = int(self.epoch[record])
        return "at initialization" if e == 0 else f"in epoch {e}"

    def when(self, verdict: str) -> str:
        """``"in epochs 0-3"`` (those showing ``verdict``), or ``"at the current weights"``."""
        if self.snapshot:
            return "at the current weights"
        return f"in {epochs_text(self.epochs_with(verdict))}"

    def part_record(self, verdict: str) -> int:
        """The record that shows ``verdict`` for the part reporting it: the probe when
        the initial verdict is ``verdict``, else the training part's record."""
        if self.parts.initial == verdict:
            return 0
        if self.parts.training == verdict:
            return self.parts.training_record
        recs = self.verdicts.records_with(verdict)
        return int(recs[0]) if recs.size else 0

    def parts_text(self, verdict: str) -> str:
        """Which parts report ``verdict``: "at initialization and through training", ..."""
        if self.snapshot:
            return "at the current weights"
        init, train = self.parts.initial == verdict, self.parts.training == verdict
        if init and train:
            return "at initialization and through training"
        if init:
            return "at initialization"
        return "through training"


def finite(reduce: Callable[[np.ndarray], Any], values: np.ndarray) -> float:
    """``reduce`` over the finite entries of ``values``; NaN when there are none."""
    kept = np.asarray(values, dtype=np.float64)
    kept = kept[np.isfinite(kept)]
    return float(reduce(kept)) if kept.size else math.nan
