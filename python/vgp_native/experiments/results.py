"""``SweepResults``: the list of result dicts a sweep returns, shown as a table in Jupyter."""

from __future__ import annotations

import html
from typing import Any

from .._format import fixed, num, plus_minus
from ..report_html import badge, fragment, table_html
from .summary import summarize, varying_keys

__all__ = ["SweepResults", "summary_table_html"]

#: Columns of the summary table after the configuration keys: (header, cell text).
_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("seeds", lambda row: str(row["seeds"])),
    ("final loss", lambda row: num(row["final_loss"])),
    ("train acc", lambda row: fixed(row["accuracy"])),
    (
        "test acc",
        lambda row: (
            plus_minus(row["val_accuracy"], row["val_accuracy_std"])
            if row["seeds"] > 1
            else fixed(row["val_accuracy"])
        ),
    ),
    ("grad ratio", lambda row: num(row["grad_ratio"], 2)),
    ("6ξ", lambda row: "-" if row["trainable_depth"] is None else num(row["trainable_depth"])),
)


def summary_table_html(results: list[dict[str, Any]]) -> str:
    """The sweep's table as HTML: one row per configuration, seeds pooled (``summarize``).

    Columns: the keys that vary (depth, activation and init when none does), the
    number of seeds, the mean final loss, mean training and test accuracy (test as
    mean ± standard deviation over seeds), the geometric-mean first/last gradient
    ratio at initialization, the mean-field trainable depth 6ξ and the two parts of
    the verdict (at initialization, in training), each the most severe over the
    seeds with how many showed it.
    """
    esc = html.escape
    if not results:
        return fragment('<p class="muted">No runs.</p>', "Sweep results")
    summary = summarize(results)
    keys = varying_keys(results) or ["depth", "activation", "init"]
    head = "".join(f'<th class="name">{esc(k)}</th>' for k in keys)
    head += "".join(f"<th>{esc(h)}</th>" for h, _ in _COLUMNS)
    head += "<th>at init</th><th>in training</th>"
    rows = []
    for row in summary:
        cells = "".join(f'<td class="name">{esc(str(row[k]))}</td>' for k in keys)
        cells += "".join(f'<td class="num">{esc(cell(row))}</td>' for _, cell in _COLUMNS)
        for part in ("initial_verdict", "training_verdict"):
            seen = f" {row[f'{part}_count']}/{row['seeds']}"
            cells += f'<td class="num">{badge(row[part])}{esc(seen)}</td>'
        rows.append(f"<tr>{cells}</tr>")
    n = len(results)
    note = (
        f'<p class="muted note">{n} run{"s" * (n != 1)}, {len(summary)} configuration'
        f"{'s' * (len(summary) != 1)}; grad ratio: first over last layer's gradient norm "
        "at initialization (geometric mean over seeds); 6ξ: mean-field trainable depth of "
        "a plain network; at init, in training: the two parts of the verdict, the most "
        "severe over seeds, with how many showed it.</p>"
    )
    return fragment(table_html(f"<tr>{head}</tr>{''.join(rows)}") + note, "Sweep results")


class SweepResults(list):
    """The results of ``sweep``: a list of result dicts, one per run, in grid order.

    It behaves as the list it is (index it, iterate it, ``json.dumps`` it); in a
    notebook it displays as the summary table (``summary_table_html``), and
    ``summary()`` gives that table's rows (``experiments.summary.summarize``).
    """

    def summary(self) -> list[dict[str, Any]]:
        """One row per configuration, seeds pooled (see ``summarize``)."""
        return summarize(self)

    def _repr_html_(self) -> str:
        return summary_table_html(list(self))
