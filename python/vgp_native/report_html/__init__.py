"""A gradient-flow report as one self-contained HTML file, readable offline in any browser.

The page holds the verdict (a coloured badge that also spells the word), the
findings, the per-layer table (significant digits, each layer's verdict
highlighted), the mean-field comparison, the Jacobian summary and every figure
of ``vgp_native.plots.report_figures``, embedded as base64 PNG. CSS is inline;
there are no scripts and no external URLs. All text is HTML-escaped. Files are
written atomically: a temporary file in the target directory, then
``os.replace``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._format import num, percent
from ..flow.decay import why_not_plain
from ..plots import compare, jacobian_summary, report_figures
from ._blocks import (
    as_figure_dict,
    badge,
    esc,
    facts_table,
    figures_html,
    finding_html,
    flatten,
    fragment,
    image_html,
    jacobian_layers,
    layer_table,
    page,
    table_html,
    write_atomic,
)

__all__ = [
    "badge",
    "findings_block",
    "fragment",
    "image_html",
    "render_comparison_html",
    "render_fragment",
    "render_html",
    "report_section",
    "save_comparison_html",
    "save_html",
    "table_html",
    "verdict_block",
    "verdict_html",
]


def _run_facts(report: Any) -> dict[str, Any]:
    """Where the table comes from, the ratios, the losses and, for a run, its settings."""
    hist = report.history
    if hist is None:
        where = "one-shot analysis (analyze) at the current weights"
    else:
        where = "initialization" if report.epoch == 0 else f"epoch {report.epoch}"
        if report.batch >= 0:
            where += f", batch {report.batch}"
        where += " (the headline's evidence)" if report.verdict != "healthy" else ""
    facts: dict[str, Any] = {
        "table and ratios at": where,
        "first/last kernel-gradient ratio": report.grad_ratio,
        "first/last signal ratio": report.signal_ratio,
        "final loss" if hist is not None else "loss": report.final_loss,
        "chance-level loss": report.chance,
    }
    data = report.data
    if data.first_nonfinite:
        nf = data.first_nonfinite
        facts["first NaN/Inf"] = f"{nf['where']} of {nf['name']}, epoch {nf['epoch']}"
    opt = dict(data.optimizer or {})
    facts["optimizer"] = opt.get("class_name", "-")
    if opt.get("learning_rate") is not None:
        facts["learning rate"] = opt["learning_rate"]
    facts["loss function"] = data.loss_name or "-"
    if hist is not None:
        facts["epochs recorded"] = len(hist.logs)
        for key, value in (hist.logs[-1] if hist.logs else {}).items():
            facts[f"last epoch {key}"] = percent(value) if "accuracy" in key else value
    return facts


def _theory_html(report: Any) -> str:
    """The mean-field prediction next to the measured factors, or why there is none."""
    if isinstance(report.theory, Mapping):
        return facts_table(flatten(report.theory))
    reason = why_not_plain(report.rows, report.data.structure)
    text = f"Mean-field theory does not apply: {reason}." if reason else "No mean-field prediction."
    return f'<p class="muted">{esc(text)}</p>'


def verdict_html(report: Any) -> str:
    """The headline verdict, its two parts with the statistic behind each, and the events."""
    rows = [f'<p class="verdict">Verdict: {badge(report.verdict)}</p>']
    if report.history is not None:
        items = []
        for when, verdict, why in (
            ("at initialization", report.initial_verdict, report.initial_reason),
            ("in training", report.training_verdict, report.training_reason),
        ):
            detail = f' <span class="muted">({esc(why)})</span>' if why else ""
            items.append(f"<li>{esc(when)}: {badge(verdict)}{detail}</li>")
        rows.append(f'<ul class="parts">{"".join(items)}</ul>')
    elif report.initial_reason:
        rows.append(f'<p class="muted">{esc(report.initial_reason)}, at the current weights</p>')
    if report.events:
        events = "".join(
            f"<li>{badge(e['verdict'])} in {e['records']} record(s), epochs "
            f"{e['first_epoch']}-{e['last_epoch']}</li>"
            for e in report.events
        )
        rows.append(f'<p>Events (did not persist):</p><ul class="parts">{events}</ul>')
    return "\n".join(rows)


def _section(kind: str, heading: str | None, level: int, *parts: str) -> str:
    """``<section class="kind">`` with an optional heading: one block of the report."""
    head = f"<h{level}>{esc(heading)}</h{level}>" if heading else ""
    return f'<section class="{kind}">{head}{"".join(parts)}</section>'


def verdict_block(report: Any, level: int = 3) -> str:
    """The verdict badge and the facts behind it (where the table comes from, ratios, losses)."""
    return _section("verdict", None, level, verdict_html(report), facts_table(_run_facts(report)))


def findings_block(report: Any, level: int = 3) -> str:
    """Each finding with its kind, evidence and remedy; "No findings." when there are none."""
    findings = list(report.finding_details or report.findings)
    if findings:
        items = "".join(f"<li>{finding_html(f)}</li>" for f in findings)
        body = f'<ul class="findings">{items}</ul>'
    else:
        body = '<p class="muted">No findings.</p>'
    return _section("findings", "Findings", level, body)


def jacobian_block(report: Any, level: int = 3) -> str:
    """The input-output Jacobian summary and the per-layer Jacobian table."""
    if not report.jacobian:
        body = '<p class="muted">No Jacobian was computed (no model was given).</p>'
        return _section("jacobian", "Jacobian", level, body)
    summary = facts_table(jacobian_summary(report.jacobian))
    return _section("jacobian", "Jacobian", level, summary, jacobian_layers(report.jacobian))


def report_section(
    report: Any, heading: str | None = None, extra_figures: Any = None, level: int = 2
) -> str:
    """The HTML of one report: verdict, findings, table, theory, Jacobian, figures.

    Each part is a ``<section>`` with a class naming it (``verdict``, ``findings``,
    ``layers``, ``theory``, ``jacobian``, ``figures``), so a page can style,
    reorder or extend them.
    """
    extra = as_figure_dict(extra_figures)
    sub = level + 1
    parts = [f"<h{level}>{esc(heading)}</h{level}>"] if heading is not None else []
    parts += [
        verdict_block(report, sub),
        findings_block(report, sub),
        _section("layers", "Per-layer statistics", sub, layer_table(report.layers)),
        _section("theory", "Mean-field theory vs measurement", sub, _theory_html(report)),
        jacobian_block(report, sub),
        _section("figures", "Figures", sub, figures_html(report_figures(report), extra, True)),
    ]
    return "\n".join(parts)


def render_html(report: Any, title: str | None = None, extra_figures: Any = None) -> str:
    """One report as a self-contained HTML page (see the module docstring).

    Args:
        report: a ``GradientFlowReport``.
        title: page title (default "Gradient-flow report").
        extra_figures: more figures to embed after the report's own (a dict
            name -> Figure or a list); they are not closed.

    Returns:
        The HTML text.
    """
    title = "Gradient-flow report" if title is None else str(title)
    return page(title, report_section(report, None, extra_figures))


def render_fragment(report: Any, title: str | None = None) -> str:
    """One report as HTML to place inside another page: a notebook's rich display.

    The content of ``render_html`` (figures embedded) in a ``div`` that carries its
    own scoped style: no scripts, no external files, nothing styled outside it.
    """
    title = "Gradient-flow report" if title is None else str(title)
    return fragment(report_section(report, None, None, level=3), title)


def save_html(report: Any, path: Any, title: str | None = None, extra_figures: Any = None) -> str:
    """Write ``render_html(report, title, extra_figures)`` to ``path`` atomically; return it."""
    return write_atomic(path, render_html(report, title, extra_figures))


def _final(report: Any, key: str) -> Any:
    logs = report.history.logs if report.history is not None else []
    return logs[-1].get(key) if logs else None


def render_comparison_html(
    reports: Sequence[Any],
    labels: Sequence[str],
    title: str | None = None,
    extra_figures: Any = None,
) -> str:
    """Several configurations on one page: a summary table, the overlays, each report.

    Args:
        reports: ``GradientFlowReport`` objects, one per configuration.
        labels: one label per configuration (same order, same colours as the overlays).
        title: page title (default "Gradient flow: configurations compared").
        extra_figures: more figures placed after the overlays (not closed).

    Returns:
        The HTML text.
    """
    reports = list(reports)
    labels = [str(label) for label in labels]
    if not reports or len(labels) != len(reports):
        raise ValueError(
            f"reports and labels must be non-empty and equally long, received "
            f"{len(reports)} reports and {len(labels)} labels"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "at init",
            "in training",
            "first/last gradient",
            "first/last signal",
            "final loss",
            "final accuracy",
            "final val. accuracy",
        )
    )
    rows = []
    for label, report in zip(labels, reports, strict=True):
        values = [report.grad_ratio, report.signal_ratio, report.final_loss]
        cells = "".join(f'<td class="num">{esc(num(v))}</td>' for v in values)
        cells += "".join(
            f'<td class="num">{esc(percent(_final(report, k)))}</td>'
            for k in ("accuracy", "val_accuracy")
        )
        parts = "".join(
            f"<td>{badge(v)}</td>" for v in (report.initial_verdict, report.training_verdict)
        )
        rows.append(f'<tr><td class="name">{esc(label)}</td>{parts}{cells}</tr>')
    summary = table_html(f'<tr><th class="name">configuration</th>{head}</tr>{"".join(rows)}')
    extra = as_figure_dict(extra_figures)
    overlay = {"comparison": compare(reports, labels)}
    body = [
        "<h2>Summary</h2>",
        summary,
        "<h2>Side by side</h2>",
        figures_html(overlay, extra, True),
    ]
    body += [report_section(r, label) for label, r in zip(labels, reports, strict=True)]
    title = "Gradient flow: configurations compared" if title is None else str(title)
    return page(title, "\n".join(body))


def save_comparison_html(
    reports: Sequence[Any],
    labels: Sequence[str],
    path: Any,
    title: str | None = None,
    extra_figures: Any = None,
) -> str:
    """Write ``render_comparison_html(...)`` to ``path`` atomically; returns the path."""
    return write_atomic(path, render_comparison_html(reports, labels, title, extra_figures))
