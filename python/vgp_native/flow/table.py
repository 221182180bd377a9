"""The terminal form of a report: an aligned per-layer table, the verdict and findings.

Fits a 100-column terminal (shown indented, so cut short here)::

    Gradient flow: VANISHING (epoch 0 = initialization; the first with this verdict of 101 records)
    first/last kernel-gradient ratio 3.69e-6, signal ratio 6.63e-6 (vanishing < 0.001, ...)
     # layer      act        grad  g/last  signal  s/last  update    mean     std sat% dead% verdict
     1 dense      sigmoid  7.3e-7  3.7e-6  3.4e-7  6.6e-6  1.1e-4   0.500   0.114    0     0 vanish…
    ...
    Findings:
    - [vanishing] The gradient dies on its way to the input: ...
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

from ._text import num

__all__ = ["WIDTH", "format_report", "verdict_line"]

#: Target line width.
WIDTH = 100

# (header, width, align) of each column.
_COLUMNS = (
    ("#", 2, ">"),
    ("layer", 10, "<"),
    ("act", 7, "<"),
    ("grad", 7, ">"),
    ("g/last", 7, ">"),
    ("signal", 7, ">"),
    ("s/last", 7, ">"),
    ("update", 7, ">"),
    ("mean", 7, ">"),
    ("std", 7, ">"),
    ("sat%", 4, ">"),
    ("dead%", 5, ">"),
    ("verdict", 11, "<"),
)
#: Columns left out, in this order, where the table must fit fewer than 100 columns.
_OPTIONAL = ("mean", "std", "update")


def _shown(width: int) -> list[int]:
    """Indices of the columns that fit ``width``, the ``_OPTIONAL`` ones left out first."""
    keep = list(range(len(_COLUMNS)))
    for name in _OPTIONAL:
        if sum(_COLUMNS[i][1] + 1 for i in keep) - 1 <= width:
            break
        keep.remove([h for h, _, _ in _COLUMNS].index(name))
    return keep


def _short(value: float) -> str:
    """At most 7 characters: ``1.2e-6``, ``0.00103``, ``0.153``, ``123``."""
    return num(value, short=True)


def _fixed(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.3f}" if abs(value) < 100 else _short(value)


def _percent(value: float) -> str:
    return "nan" if math.isnan(value) else f"{100 * value:.0f}"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _line(cells: list[str], keep: list[int]) -> str:
    return " ".join(
        f"{_fit(cells[i], _COLUMNS[i][1]):{_COLUMNS[i][2]}{_COLUMNS[i][1]}}" for i in keep
    ).rstrip()


def _table(report: Any, keep: list[int]) -> list[str]:
    rows = report.layers
    n = len(rows)
    last_grad = rows[-1]["grad_norm"] if n else math.nan
    last_signal = rows[-2]["signal_norm"] if n >= 2 else math.nan
    lines = [_line([h for h, _, _ in _COLUMNS], keep)]
    for k, row in enumerate(rows):
        info = report.rows[k]
        with_signal = k < n - 1
        verdict = row["verdict"] + ("!" if row["nonfinite"] else "")
        lines.append(
            _line(
                [
                    str(k + 1),
                    row["name"],
                    info.activation,
                    _short(row["grad_norm"]),
                    _short(row["grad_norm"] / last_grad) if last_grad else "-",
                    _short(row["signal_norm"]),
                    _short(row["signal_norm"] / last_signal)
                    if with_signal and last_signal
                    else "-",
                    _short(row["update_ratio"]),
                    _fixed(row["act_mean"]),
                    _fixed(row["act_std"]),
                    _percent(row["saturated"]),
                    _percent(row["dead"]),
                    verdict,
                ],
                keep,
            )
        )
    return lines


def _where(report: Any) -> str:
    if report.history is None:
        return "at the current weights"
    total = len(report.record_verdicts)
    epoch = "epoch 0 = initialization" if report.epoch == 0 else f"epoch {report.epoch}"
    if report.batch >= 0:
        epoch += f", batch {report.batch}"
    which = "the last" if report.verdict == "healthy" else "the headline's evidence"
    return f"{epoch}, {which}, of {total} records"


def _part(verdict: str, why: str) -> str:
    return f"{verdict} ({why})" if why else verdict


def verdict_line(report: Any) -> str:
    """``"VANISHING: at initialization vanishing (signal ...); in training ..."``."""
    head = f"Gradient flow: {report.verdict.upper()}"
    if report.history is None:
        why = report.initial_reason
        return f"{head}{f' ({why})' if why else ''}, at the current weights"
    return (
        f"{head}: at initialization {_part(report.initial_verdict, report.initial_reason)}; in "
        f"training {_part(report.training_verdict, report.training_reason)}"
    )


def format_report(report: Any, width: int = WIDTH) -> str:
    """The text ``print(report)`` shows, at most ``width`` columns wide (``WIDTH``
    by default; a narrower table leaves out the activation mean and std, then
    the update ratio)."""
    t = report.thresholds
    head = [
        verdict_line(report),
        f"table: {_where(report)}; first/last kernel-gradient ratio {num(report.grad_ratio)}, "
        f"signal ratio {num(report.signal_ratio)} (vanishing < {num(t.vanishing)}, exploding > "
        f"{num(t.exploding)})",
    ]
    th = report.theory
    if th is not None:
        head.append(
            f"mean field: {th['activation']} at sigma_w^2 {num(th['sigma_w2'])}: chi1 "
            f"{num(th['chi1'])}, gradient factor per layer {num(th['predicted_factor'])} "
            f"predicted, {num(th['measured_signal_factor'])} measured (signal; kernel gradient "
            f"{num(th['measured_grad_factor'])}); trainable depth ~{num(th['trainable_depth'])}"
        )
    jac = report.jacobian.get("input_output") if report.jacobian else None
    if jac:
        head.append(
            f"input-output Jacobian ({report.jacobian['samples']} inputs): mean sq. singular "
            f"value {num(jac['mean_sq'])}, log spread {num(jac['log_std'])}, isometry "
            f"{num(jac['isometry'])}"
        )
    out = [line for text in head for line in textwrap.wrap(text, width, subsequent_indent="  ")]
    out.append("")
    keep = _shown(width)
    out.extend(_table(report, keep))
    names = [_COLUMNS[i][0] for i in keep]
    step = (
        " (the first step a fresh optimizer would take)"
        if report.history is None
        else " (epoch 0: the optimizer's first step)"
        if report.epoch == 0
        else ""
    )
    legend = (
        "grad, signal: L2 norms of dL/dW and dL/dh"
        + (f"; update: ||dW||/||W|| per step{step}" if "update" in names else "")
        + ("; mean, std: activations" if "mean" in names else "")
        + "; ! marks NaN/Inf"
    )
    out.extend(textwrap.wrap(legend, width))
    out.append("")
    out.append("Findings:")
    for finding in report.findings:
        out.extend(textwrap.wrap(finding, width, initial_indent="- ", subsequent_indent="  "))
    return "\n".join(out)
