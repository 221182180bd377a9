"""The demo's table on the terminal: its columns, their legend, and the statistic behind
each verdict. The table fits the terminal (``fit_table``): a narrow one leaves out ΔW1,
then the training accuracy, and names them; results.csv keeps every column."""

from __future__ import annotations

from typing import Any

from .._format import fixed, num
from .common import fit_table, format_table

__all__ = ["HEADER", "LEGEND", "decided_by", "demo_table", "legend"]

HEADER = (
    "configuration",
    "loss",
    "train",
    "test",
    "ΔW1",
    "grad ratio",
    "at init",
    "in training",
)
ALIGN = "lrrrrrll"
#: Columns a narrow terminal leaves out, in this order (results.csv keeps them all).
OPTIONAL = ("ΔW1", "train")
#: What each column means, in column order.
MEANINGS = {
    "loss": "final training loss",
    "train": "training accuracy",
    "test": "test accuracy",
    "ΔW1": "||W1 - W1_init|| / ||W1_init|| of the first kernel",
    "grad ratio": "first over last layer's gradient norm at initialization",
    "at init": "the verdict on the network as initialized",
    "in training": "the most severe condition present in at least half of the last 10 "
    "epochs (healthy when none was)",
}
LEGEND = "; ".join(f"{name}: {meaning}" for name, meaning in MEANINGS.items()) + "."


def legend(shown: list[str]) -> str:
    """The legend of the columns ``shown``, and a word on those left out."""
    text = "; ".join(f"{name}: {MEANINGS[name]}" for name in MEANINGS if name in shown) + "."
    hidden = [name for name in MEANINGS if name not in shown]
    if hidden:
        text += (
            f" Left out to fit the terminal: {', '.join(hidden)} (in results.csv; a wider "
            f"terminal or COLUMNS=100 shows {'it' if len(hidden) == 1 else 'them'})."
        )
    return text


def demo_table(runs: list[Any], width: int | None = None) -> tuple[list[list[str]], str, list[str]]:
    """The rows of the demo table (every column), the table as aligned text at most
    ``width`` columns wide (unlimited when None), and the headers it shows."""
    rows = []
    for run in runs:
        r = run.result
        rows.append(
            [
                run.label,
                fixed(r["final_loss"], 4),
                fixed(r["accuracy"]),
                fixed(r["val_accuracy"]),
                num(r["weight_change"]),
                # Two significant digits; scientific notation only for tiny ratios.
                num(r["grad_ratio"], 2),
                r["initial_verdict"],
                r["training_verdict"],
            ]
        )
    if width is None:
        return rows, format_table(rows, HEADER, ALIGN), list(HEADER)
    table, shown = fit_table(rows, HEADER, ALIGN, width, OPTIONAL)
    return rows, table, shown


def decided_by(runs: list[Any]) -> list[str]:
    """One line per configuration with an unhealthy part: the statistic behind each part."""
    lines = []
    for run in runs:
        rep = run.report
        parts = [
            f"{when} {verdict} ({why})"
            for when, verdict, why in (
                ("at init", rep.initial_verdict, rep.initial_reason),
                ("in training", rep.training_verdict, rep.training_reason),
            )
            if verdict != "healthy"
        ]
        if parts:
            lines.append(f"{run.label}: {'; '.join(parts)}")
    return lines
