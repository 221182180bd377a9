"""A gradient-flow report as one self-contained HTML file, readable offline in any browser.

The page holds the verdict (a coloured badge that also spells the word), the
findings, the per-layer table (engineering notation, each layer's verdict
highlighted), the mean-field comparison, the Jacobian summary and every figure
of ``vgp_native.plots.report_figures``, embedded as base64 PNG. CSS is inline;
there are no scripts and no external URLs. All text is HTML-escaped. Files are
written atomically: a temporary file in the target directory, then
``os.replace``.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .plots._format import eng, percent

__all__ = ["render_comparison_html", "render_html", "save_comparison_html", "save_html"]

#: Badge colours per verdict (Okabe-Ito); the badge also carries the word.
VERDICT_COLOURS: dict[str, str] = {
    "healthy": "#009E73",
    "vanishing": "#0072B2",
    "exploding": "#D55E00",
    "saturated": "#E69F00",
    "dead": "#CC79A7",
    "non-finite": "#000000",
    "degradation": "#56B4E9",
}
#: Per-layer table columns: (row key, header, formatter).
COLUMNS: tuple[tuple[str, str, Any], ...] = (
    ("grad_norm", "‖∂L/∂W‖", eng),
    ("grad_mean_abs", "mean |∂L/∂W|", eng),
    ("grad_max_abs", "max |∂L/∂W|", eng),
    ("weight_norm", "‖W‖", eng),
    ("update_ratio", "‖ΔW‖/‖W‖", eng),
    ("signal_norm", "‖∂L/∂h‖", eng),
    ("act_mean", "act. mean", eng),
    ("act_std", "act. std", eng),
    ("saturated", "saturated", percent),
    ("dead", "dead", percent),
    ("nonfinite", "non-finite", lambda v: "-" if v is None else str(int(v))),
)
#: Captions of the figures ``plots.report_figures`` and ``plots.compare`` make.
CAPTIONS: dict[str, str] = {
    "gradient_norms": "Kernel-gradient norm per layer (log scale): a straight falling line is "
    "geometric decay, the vanishing gradient.",
    "signal_norms": "Backpropagated signal ‖∂L/∂h‖ per layer (log scale): it can vanish while "
    "kernel gradients look even (Glorot & Bengio 2010).",
    "heatmap": "Kernel-gradient norm, layers × epochs: a dark band at the input side that "
    "stays dark is a gradient that never recovers.",
    "training_curves": "Loss and accuracy per epoch; shaded: loss plateaus; dotted: chance level.",
    "weights_vs_epochs": "Sampled kernel weights per epoch: a flat line is a weight that does "
    "not learn.",
    "activation_histograms": "Activation histograms per layer: mass at the bounds is saturation.",
    "jacobian_spectrum": "Singular values of the Jacobian: dynamical isometry keeps them near 1.",
    "predicted_vs_measured": "Mean-field prediction (√χ₁ per layer) against the measured decay.",
    "comparison": "Configurations side by side, one colour each.",
}
_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1200px;
padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.3rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:.8rem;color:#fff;font-weight:600;
font-size:.9rem;letter-spacing:.02em}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:right}
th{background:#f3f3f3}td.name,th.name{text-align:left;font-family:ui-monospace,monospace}
tr.flagged td{background:#fdf3e6}
.facts td{text-align:left}.facts th{text-align:left}
figure{margin:1rem 0;display:inline-block;max-width:100%}
figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}
ul.findings li{margin:.3rem 0}
.muted{color:#666}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def badge(verdict: Any) -> str:
    """An HTML badge for a verdict: coloured by kind, always spelling the verdict."""
    text = str(verdict)
    colour = VERDICT_COLOURS.get(text, "#666666")
    return f'<span class="badge" style="background:{colour}">{_esc(text)}</span>'


def figure_png(fig: Any, dpi: int = 100) -> str:
    """A matplotlib Figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure_html(name: str, fig: Any) -> str:
    caption = CAPTIONS.get(name, name.replace("_", " "))
    return (
        f'<figure><img alt="{_esc(name.replace("_", " "))}" src="{figure_png(fig)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _close(figures: Mapping[str, Any]) -> None:
    from matplotlib import pyplot as plt

    for fig in figures.values():
        plt.close(fig)


def _figures_html(figures: Mapping[str, Any], extra: Mapping[str, Any], close: bool) -> str:
    """Embed ``figures`` (closing them when ``close``) and ``extra`` (left open)."""
    try:
        parts = [_figure_html(name, fig) for name, fig in figures.items()]
    finally:
        if close:
            _close(figures)
    parts += [_figure_html(name, fig) for name, fig in extra.items()]
    return "\n".join(parts)


def _as_figure_dict(extra_figures: Any) -> dict[str, Any]:
    if extra_figures is None:
        return {}
    if isinstance(extra_figures, Mapping):
        return {str(k): v for k, v in extra_figures.items()}
    if isinstance(extra_figures, Sequence) and not isinstance(extra_figures, str):
        return {f"figure {i + 1}": fig for i, fig in enumerate(extra_figures)}
    raise TypeError(
        "extra_figures must be a dict name -> Figure or a list of Figures, received "
        f"{type(extra_figures).__name__}"
    )


def _value(value: Any) -> str:
    """A value of the theory or Jacobian summaries as escaped text."""
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return _esc("-" if value is None else value)
    if isinstance(value, (int, np.integer)):
        return _esc(int(value))
    if isinstance(value, (float, np.floating)):
        return _esc(eng(value))
    if isinstance(value, (Sequence, np.ndarray)):
        flat = np.asarray(value, dtype=object).ravel()
        shown = ", ".join(_value(v) for v in flat[:12])
        return shown + (f", … ({flat.size} values)" if flat.size > 12 else "")
    return _esc(value)


def _finding(finding: Any) -> str:
    """A finding as HTML: a kind badge, the evidence and the remedy when structured, else text."""
    kind, evidence = getattr(finding, "kind", None), getattr(finding, "evidence", None)
    if kind is None or evidence is None:
        return _esc(finding)
    remedy = getattr(finding, "remedy", "")
    tail = f" <strong>Remedy:</strong> {_esc(remedy)}" if remedy else ""
    return f"{badge(kind)} {_esc(evidence)}{tail}"


def _jacobian_layers(jac: Any) -> str:
    """Per-layer Jacobian summaries (the scalar entries of ``jac["layers"]``), or nothing."""
    layers = (
        [item for item in jac.get("layers") or [] if isinstance(item, Mapping)]
        if isinstance(jac, Mapping)
        else []
    )
    if not layers:
        return ""
    keys = [k for k, v in layers[0].items() if k != "name" and isinstance(v, (int, float))]
    head = '<th class="name">layer</th>' + "".join(f"<th>{_esc(k)}</th>" for k in keys)
    body = "".join(
        f'<tr><td class="name">{_esc(item.get("name", i + 1))}</td>'
        + "".join(f"<td>{_value(item.get(k))}</td>" for k in keys)
        + "</tr>"
        for i, item in enumerate(layers)
    )
    return f"<p>Per-layer Jacobians:</p><table><tr>{head}</tr>{body}</table>"


def _facts_table(facts: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_value(v)}</td></tr>" for k, v in facts.items())
    return f'<table class="facts">{rows}</table>'


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def layer_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The per-layer table: one row per layer, verdicts as badges, flagged rows tinted."""
    head = '<th class="name">layer</th>' + "".join(f"<th>{_esc(h)}</th>" for _, h, _ in COLUMNS)
    body = []
    for row in rows:
        verdict = row.get("verdict", "-")
        flagged = ' class="flagged"' if verdict not in ("healthy", "-") else ""
        cells = "".join(f"<td>{_esc(fmt(row.get(key)))}</td>" for key, _, fmt in COLUMNS)
        body.append(
            f'<tr{flagged}><td class="name">{_esc(row.get("name", "?"))}</td>{cells}'
            f"<td>{badge(verdict)}</td></tr>"
        )
    return f"<table><tr>{head}<th>verdict</th></tr>{''.join(body)}</table>"


def _run_facts(report: Any) -> dict[str, Any]:
    """Ratios and, for a training run, optimizer, loss and last epoch's logs."""
    facts: dict[str, Any] = {
        "first/last kernel-gradient ratio": getattr(report, "grad_ratio", None),
        "first/last signal ratio": getattr(report, "signal_ratio", None),
    }
    hist = getattr(report, "history", None)
    if hist is not None:
        opt = dict(getattr(hist, "optimizer", {}) or {})
        facts["optimizer"] = opt.get("class_name", "-")
        if opt.get("learning_rate") is not None:
            facts["learning rate"] = opt["learning_rate"]
        facts["loss function"] = getattr(hist, "loss_name", "") or "-"
        logs = list(getattr(hist, "logs", []) or [])
        facts["epochs recorded"] = len(logs)
        for key, value in (logs[-1] if logs else {}).items():
            facts[f"last epoch {key}"] = percent(value) if "accuracy" in key else value
    else:
        facts["source"] = "one-shot analysis at the current weights"
    return facts


def report_section(
    report: Any, heading: str | None = None, extra_figures: Any = None, level: int = 2
) -> str:
    """The HTML of one report: verdict, facts, findings, table, theory, Jacobian, figures."""
    from .plots import jacobian_summary, report_figures

    extra = _as_figure_dict(extra_figures)
    h, sub = f"h{level}", f"h{level + 1}"
    parts = []
    if heading is not None:
        parts.append(f"<{h}>{_esc(heading)}</{h}>")
    parts.append(f"<p>Overall verdict: {badge(getattr(report, 'verdict', '-'))}</p>")
    parts.append(_facts_table(_run_facts(report)))
    findings = list(getattr(report, "findings", []) or [])
    parts.append(f"<{sub}>Findings</{sub}>")
    if findings:
        items = "".join(f"<li>{_finding(f)}</li>" for f in findings)
        parts.append(f'<ul class="findings">{items}</ul>')
    else:
        parts.append('<p class="muted">No findings.</p>')
    parts.append(f"<{sub}>Per-layer statistics</{sub}>")
    parts.append(layer_table(list(getattr(report, "rows", []) or [])))
    theory = getattr(report, "theory", None)
    parts.append(f"<{sub}>Mean-field theory vs measurement</{sub}>")
    if isinstance(theory, Mapping):
        parts.append(_facts_table(_flatten(theory)))
    else:
        parts.append('<p class="muted">No mean-field prediction for this network.</p>')
    jac = getattr(report, "jacobian", None)
    parts.append(f"<{sub}>Jacobian</{sub}>")
    if jac is not None:
        parts.append(_facts_table(jacobian_summary(jac)))
        parts.append(_jacobian_layers(jac))
    else:
        parts.append('<p class="muted">No Jacobian was computed.</p>')
    parts.append(f"<{sub}>Figures</{sub}>")
    parts.append(_figures_html(report_figures(report), extra, True))
    return "\n".join(parts)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        f"<h1>{_esc(title)}</h1>\n{body}\n"
        '<p class="muted">Generated by vgp-native.</p>\n</body></html>\n'
    )


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
    return _page(title, report_section(report, None, extra_figures))


def _write_atomic(path: Any, text: str) -> str:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".vgp-html-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def save_html(report: Any, path: Any, title: str | None = None, extra_figures: Any = None) -> str:
    """Write ``render_html(report, title, extra_figures)`` to ``path`` atomically; return it."""
    return _write_atomic(path, render_html(report, title, extra_figures))


def _final(report: Any, key: str) -> Any:
    hist = getattr(report, "history", None)
    logs = list(getattr(hist, "logs", []) or []) if hist is not None else []
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
    from .plots import compare

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
            "verdict",
            "first/last gradient",
            "first/last signal",
            "final loss",
            "final accuracy",
            "final val. accuracy",
        )
    )
    rows = []
    for label, report in zip(labels, reports, strict=True):
        values = [
            getattr(report, "grad_ratio", None),
            getattr(report, "signal_ratio", None),
            _final(report, "loss"),
        ]
        cells = "".join(f"<td>{_esc(eng(v))}</td>" for v in values)
        cells += "".join(
            f"<td>{_esc(percent(_final(report, k)))}</td>" for k in ("accuracy", "val_accuracy")
        )
        rows.append(
            f'<tr><td class="name">{_esc(label)}</td>'
            f"<td>{badge(getattr(report, 'verdict', '-'))}</td>{cells}</tr>"
        )
    summary = f'<table><tr><th class="name">configuration</th>{head}</tr>{"".join(rows)}</table>'
    extra = _as_figure_dict(extra_figures)
    overlay = {"comparison": compare(reports, labels)}
    body = [
        "<h2>Summary</h2>",
        summary,
        "<h2>Side by side</h2>",
        _figures_html(overlay, extra, True),
    ]
    body += [report_section(r, label) for label, r in zip(labels, reports, strict=True)]
    title = "Gradient flow: configurations compared" if title is None else str(title)
    return _page(title, "\n".join(body))


def save_comparison_html(
    reports: Sequence[Any],
    labels: Sequence[str],
    path: Any,
    title: str | None = None,
    extra_figures: Any = None,
) -> str:
    """Write ``render_comparison_html(...)`` to ``path`` atomically; returns the path."""
    return _write_atomic(path, render_comparison_html(reports, labels, title, extra_figures))
