"""HTML building blocks of the gradient-flow report: styles, badges, tables, figures, files."""

from __future__ import annotations

import base64
import html
import io
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._atomic import atomic_write_text
from .._format import num, percent

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
    ("grad_norm", "‖∂L/∂W‖", num),
    ("grad_mean_abs", "mean |∂L/∂W|", num),
    ("grad_max_abs", "max |∂L/∂W|", num),
    ("weight_norm", "‖W‖", num),
    ("update_ratio", "‖ΔW‖/‖W‖", num),
    ("signal_norm", "‖∂L/∂h‖", num),
    ("act_mean", "act. mean", num),
    ("act_std", "act. std", num),
    ("saturated", "saturated", percent),
    ("dead", "dead", percent),
    ("nonfinite", "non-finite", lambda v: "-" if v is None else str(int(v))),
)
#: Readable labels of the theory and Jacobian entries (others show their key).
LABELS: dict[str, str] = {
    "sigma_w2": "σ_w² (n·Var W)",
    "sigma_b2": "σ_b² (Var b)",
    "q_star": "fixed point q*",
    "chi1": "χ₁ = σ_w² E[φ′(h)²]",
    "predicted_factor": "predicted gradient factor per layer (√χ₁)",
    "measured_grad_factor": "measured kernel-gradient factor per layer",
    "measured_signal_factor": "measured signal factor per layer",
    "depth_scale": "depth scale ξ = 1/|ln χ₁| (layers)",
    "trainable_depth": "trainable depth ≈ 6ξ (layers)",
    "hidden_layers": "hidden layers",
    "samples": "inputs sampled",
    "count": "singular values",
    "mean_sq": "mean σ² (1: norms kept on average)",
    "log_mean": "mean ln σ",
    "log_std": "std of ln σ (0: isometry)",
    "zero_fraction": "fraction of σ ≈ 0",
    "isometry": "isometry score (1: dynamical isometry)",
    "max": "largest σ",
    "min": "smallest σ",
}
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
#: Short column headers of the per-layer Jacobian table (LABELS explains each below it).
JACOBIAN_HEADERS: dict[str, str] = {
    "samples": "inputs",
    "count": "singular values",
    "mean_sq": "mean σ²",
    "log_mean": "mean ln σ",
    "log_std": "std of ln σ",
    "zero_fraction": "σ ≈ 0",
    "isometry": "isometry score",
    "max": "largest σ",
    "min": "smallest σ",
}
#: What the Jacobian table's columns mean, under it.
JACOBIAN_NOTE = (
    "Mean σ² = 1 keeps gradient norms on average; std of ln σ = 0 and an isometry score "
    "of 1 are dynamical isometry (Pennington et al. 2017); σ ≈ 0: the fraction of "
    "singular values near zero, directions the layer does not pass back."
)
# Phones first: nothing is wider than the viewport. Tables scroll inside their own box
# (div.table-wrap), figures shrink to the width, numbers never break (span/td .num).
_CSS = """
*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1200px;
padding:0 1rem;color:#222;line-height:1.45;overflow-wrap:break-word}
h1{margin-bottom:.3rem;font-size:1.8rem}
h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:.8rem;color:#fff;font-weight:600;
font-size:.9rem;letter-spacing:.02em;white-space:nowrap}
.table-wrap{max-width:100%;overflow-x:auto;margin:.6rem 0;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.88rem}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:right;vertical-align:top}
th{background:#f3f3f3}td.name,th.name{text-align:left;font-family:ui-monospace,monospace}
.num,td.name{white-space:nowrap}
tr.flagged td{background:#fdf3e6}
.facts td,.facts th{text-align:left}
figure{margin:1rem 0;display:inline-block;max-width:100%;vertical-align:top}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555;max-width:60rem}
ul.findings{padding-left:1.2rem}ul.findings li{margin:.3rem 0}
.muted{color:#666}.note{font-size:.85rem}
@media (max-width:600px){body{margin:.8rem auto;padding:0 .6rem}h1{font-size:1.35rem}
h2{font-size:1.15rem}table{font-size:.8rem}figure{display:block;margin:.8rem 0}}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def badge(verdict: Any) -> str:
    """An HTML badge for a verdict: coloured by kind, always spelling the verdict."""
    text = str(verdict)
    colour = VERDICT_COLOURS.get(text, "#666666")
    return f'<span class="badge" style="background:{colour}">{esc(text)}</span>'


def figure_png(fig: Any, dpi: int = 100) -> str:
    """A matplotlib Figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(name: str, fig: Any) -> str:
    """A figure as an embedded PNG with a caption in words (``CAPTIONS``, else its name)."""
    caption = CAPTIONS.get(name, name.replace("_", " "))
    return image_html(figure_png(fig), caption, name)


def image_html(src: str, caption: str, name: str = "") -> str:
    """An ``<img>`` (a data URI) with its caption, which is also its alternative text.

    ``name`` (e.g. "gradient_norms") is kept in ``data-name``, so a tool can save the
    figure under it.
    """
    data = f' data-name="{esc(name)}"' if name else ""
    return (
        f'<figure><img alt="{esc(caption)}"{data} src="{src}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def close_all(figures: Mapping[str, Any]) -> None:
    from matplotlib import pyplot as plt

    for fig in figures.values():
        plt.close(fig)


def figures_html(figures: Mapping[str, Any], extra: Mapping[str, Any], close: bool) -> str:
    """Embed ``figures`` (closing them when ``close``) and ``extra`` (left open)."""
    try:
        parts = [figure_html(name, fig) for name, fig in figures.items()]
    finally:
        if close:
            close_all(figures)
    parts += [figure_html(name, fig) for name, fig in extra.items()]
    return "\n".join(parts)


def as_figure_dict(extra_figures: Any) -> dict[str, Any]:
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


def value_html(value: Any) -> str:
    """A value of the theory or Jacobian summaries as escaped text."""
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return esc("-" if value is None else value)
    if isinstance(value, (int, np.integer, float, np.floating)):
        return number_html(value)
    if isinstance(value, (Sequence, np.ndarray)):
        flat = np.asarray(value, dtype=object).ravel()
        shown = ", ".join(value_html(v) for v in flat[:12])
        return shown + (f", … ({flat.size} values)" if flat.size > 12 else "")
    return esc(value)


def number_html(value: Any, text: str | None = None) -> str:
    """A number (formatted by ``num`` unless ``text`` is given) that never breaks across lines."""
    return f'<span class="num">{esc(num(value) if text is None else text)}</span>'


def table_html(inner: str, css_class: str = "", table_id: str = "") -> str:
    """A table in its own horizontally scrolling box, so the page never outgrows a phone."""
    attr = f' class="{esc(css_class)}"' if css_class else ""
    attr += f' id="{esc(table_id)}"' if table_id else ""
    return f'<div class="table-wrap"><table{attr}>{inner}</table></div>'


def label(key: str) -> str:
    """The readable label of a theory or Jacobian entry: ``LABELS``, else the key in words."""
    return LABELS.get(key, key.replace("_", " ").replace(".", ": "))


def finding_html(finding: Any) -> str:
    """A finding as HTML: a kind badge, the evidence and the remedy when structured, else text."""
    kind, evidence = getattr(finding, "kind", None), getattr(finding, "evidence", None)
    if kind is None or evidence is None:
        return esc(finding)
    remedy = getattr(finding, "remedy", "")
    tail = f" <strong>Remedy:</strong> {esc(remedy)}" if remedy else ""
    return f"{badge(kind)} {esc(evidence)}{tail}"


def jacobian_layers(jac: Any) -> str:
    """Per-layer Jacobian summaries (the scalar entries of ``jac["layers"]``), or nothing."""
    layers = (
        [item for item in jac.get("layers") or [] if isinstance(item, Mapping)]
        if isinstance(jac, Mapping)
        else []
    )
    if not layers:
        return ""
    keys = [k for k, v in layers[0].items() if k != "name" and isinstance(v, (int, float))]
    head = '<th class="name">layer</th>' + "".join(
        f"<th>{esc(JACOBIAN_HEADERS.get(k, label(k)))}</th>" for k in keys
    )
    body = "".join(
        f'<tr><td class="name">{esc(item.get("name", i + 1))}</td>'
        + "".join(f'<td class="num">{value_html(item.get(k))}</td>' for k in keys)
        + "</tr>"
        for i, item in enumerate(layers)
    )
    return (
        "<p>Per-layer Jacobians ∂h<sub>l</sub>/∂h<sub>l-1</sub>, singular values σ:</p>"
        + table_html(f"<tr>{head}</tr>{body}")
        + f'<p class="muted note">{esc(JACOBIAN_NOTE)}</p>'
    )


def facts_table(facts: Mapping[str, Any]) -> str:
    """A two-column table of named values; known keys get their readable label (``LABELS``)."""
    rows = "".join(
        f"<tr><th>{esc(label(k))}</th><td>{value_html(v)}</td></tr>" for k, v in facts.items()
    )
    return table_html(rows, "facts")


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def layer_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The per-layer table: one row per layer, verdicts as badges, flagged rows tinted."""
    head = '<th class="name">layer</th>' + "".join(f"<th>{esc(h)}</th>" for _, h, _ in COLUMNS)
    body = []
    for row in rows:
        verdict = row.get("verdict", "-")
        flagged = ' class="flagged"' if verdict not in ("healthy", "-") else ""
        cells = "".join(f'<td class="num">{esc(fmt(row.get(key)))}</td>' for key, _, fmt in COLUMNS)
        body.append(
            f'<tr{flagged}><td class="name">{esc(row.get("name", "?"))}</td>{cells}'
            f"<td>{badge(verdict)}</td></tr>"
        )
    return table_html(f"<tr>{head}<th>verdict</th></tr>{''.join(body)}")


#: Class of the element that holds a fragment (a notebook's rich display).
SCOPE = "vgp-native"


def scoped_css(scope: str = SCOPE) -> str:
    """The page's style rules applied inside ``.scope`` only (``body`` becomes the scope),
    so an inline fragment styles itself and nothing around it."""

    def prefix(match: re.Match[str]) -> str:
        selectors = [sel.strip() for sel in match.group(2).split(",")]
        scoped = [f".{scope}" if sel == "body" else f".{scope} {sel}" for sel in selectors]
        return f"{match.group(1)}{','.join(scoped)}{{"

    rules = re.sub(r"(^|[{}])\s*([^{}@]+)\{", prefix, _CSS.strip())
    return rules + f"\n.{scope}{{margin:0;max-width:none;padding:0}}"


def fragment(body: str, title: str | None = None) -> str:
    """Self-contained HTML to place inside another page (a notebook cell's output):
    its own scoped style, no scripts, no external files."""
    head = f"<h2>{esc(title)}</h2>" if title else ""
    return f'<div class="{SCOPE}"><style>{scoped_css()}</style>{head}{body}</div>'


def page(title: str, body: str) -> str:
    """A whole self-contained page: the style, the title and ``body``."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n{body}\n"
        '<p class="muted">Generated by vgp-native.</p>\n</body></html>\n'
    )


def write_atomic(path: Any, text: str) -> str:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    path = os.fspath(path)
    atomic_write_text(path, text)
    return path
