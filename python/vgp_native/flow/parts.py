"""The two parts of a run's verdict, its events, and the statistic behind each.

A user asks two questions of a run (DESIGN.md "flow"): *will this network
train as initialized?* and *what went wrong while it trained?*

- ``initial``: the verdict of the probe at initialization (record 0, measured
  before the first update);
- ``training``: the most severe condition that persisted through training:
  present in at least ``persistence`` (half) of the last ``window`` (10)
  training records, of all of them when there are fewer, or "healthy" when
  none did. A run whose last record is non-finite ended non-finite, and that
  persists whatever came before. Dead or saturated units in a network that has
  learned (its training loss over the window below half the chance level)
  are the confident features of a fitted network, not a blocked gradient:
  they are reported as events, not as the training verdict;
- ``headline``: the more severe of the two;
- ``events``: conditions seen in some records that neither part reports, as
  ``{"verdict", "first_epoch", "last_epoch", "records", "layers"}``.

A snapshot (``flow.analyze``) has one record: all three parts are its verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._text import num, pct
from .history import RowInfo
from .thresholds import Thresholds
from .verdicts import VERDICTS, RecordVerdicts, most_severe, severity

__all__ = ["VerdictParts", "reason", "split_verdicts"]


@dataclass
class VerdictParts:
    """The verdicts of a run.

    Attributes:
        initial, training, headline: the verdicts (module docstring).
        window: record indices the training verdict was judged on.
        training_record: the last record of the window that shows the training
            verdict (the last record when it is healthy).
        focus: the record whose per-layer table shows the headline's evidence:
            the probe when the initial part decides it, else ``training_record``.
        events: the conditions neither part reports.
    """

    initial: str
    training: str
    headline: str
    window: np.ndarray
    training_record: int
    focus: int
    events: list[dict[str, Any]] = field(default_factory=list)


def _training_records(epoch: np.ndarray) -> np.ndarray:
    trained = np.flatnonzero(epoch > 0)
    return trained if trained.size else np.arange(len(epoch))


def split_verdicts(
    v: RecordVerdicts,
    epoch: np.ndarray,
    rows: list[RowInfo],
    t: Thresholds,
    *,
    snapshot: bool = False,
    learned: bool = False,
) -> VerdictParts:
    """The initial and training verdicts, the headline and the events of records ``v``.

    ``learned``: the training loss over the window fell below half the chance
    level (see the module docstring).
    """
    n = len(v.record)
    if snapshot or n == 1:
        one = str(v.record[0])
        window = np.zeros(1, dtype=np.int64)
        return VerdictParts(one, one, one, window, 0, 0, _events(v, epoch, rows, {one}))
    initial = str(v.record[0])
    window = _training_records(epoch)[-t.window :]
    persisted = [
        verdict
        for verdict in VERDICTS[:-1]
        if v.present(verdict)[window].sum() >= t.persistence * len(window)
    ]
    if v.present("non-finite")[window[-1]]:
        persisted.append("non-finite")
    if learned:
        persisted = [p for p in persisted if p not in ("dead", "saturated")]
    training = most_severe(persisted)
    headline = most_severe([initial, training])
    training_record = int(window[-1])
    if training != "healthy":
        training_record = int(window[np.flatnonzero(v.present(training)[window])[-1]])
    if headline == "healthy":
        focus = n - 1
    elif severity(initial) >= severity(training):
        focus = 0
    else:
        focus = training_record
    events = _events(v, epoch, rows, {initial, training})
    return VerdictParts(initial, training, headline, window, training_record, focus, events)


def _events(
    v: RecordVerdicts, epoch: np.ndarray, rows: list[RowInfo], reported: set[str]
) -> list[dict[str, Any]]:
    out = []
    for verdict in VERDICTS[:-1]:
        if verdict in reported:
            continue
        recs = v.records_with(verdict)
        if not recs.size:
            continue
        layers = sorted({rows[k].name for r in recs for k in v.rows_with(verdict, int(r))})
        out.append(
            {
                "verdict": verdict,
                "first_epoch": int(epoch[recs[0]]),
                "last_epoch": int(epoch[recs[-1]]),
                "records": int(recs.size),
                "layers": layers,
            }
        )
    return out


def reason(
    v: RecordVerdicts, record: int, verdict: str, field: Any, rows: list[RowInfo], t: Thresholds
) -> str:
    """The statistic that decided ``verdict`` in ``record``, e.g. ``"signal 1.4e-06 at dense_1"``.

    Empty for "healthy".
    """
    if verdict == "healthy" or not rows:
        return ""
    r = record
    k_rows = v.rows_with(verdict, r)
    k = int(k_rows[0]) if k_rows.size else 0
    name = rows[k].name
    if verdict == "non-finite":
        return f"NaN/Inf at {name}"
    if verdict in ("dead", "saturated"):
        values = field(verdict)[r]
        k = int(k_rows[np.argmax(values[k_rows])]) if k_rows.size else k
        return f"{verdict} {pct(values[k])} at {rows[k].name}"
    gr, sr = float(v.grad_ratio[r]), float(v.signal_ratio[r])
    if verdict == "vanishing":
        if gr < t.vanishing and not sr < t.vanishing:
            return f"grad {num(gr)} at {rows[0].name}"
        return f"signal {num(sr)} at {rows[0].name}"
    # exploding
    if gr > t.exploding:
        return f"grad {num(gr)} at {rows[0].name}"
    if sr > t.exploding or v.depth[r] == "exploding":
        return f"signal {num(sr)} at {rows[0].name}"
    grad = field("grad_norm")[r]
    big = np.flatnonzero(grad > t.exploding_grad_norm)
    if big.size:
        return f"grad norm {num(grad[big[0]])} at {rows[int(big[0])].name}"
    upd = field("update_ratio")[r]
    j = int(np.nanargmax(upd)) if np.isfinite(upd).any() else k
    return f"update {num(upd[j])} at {rows[j].name}"
