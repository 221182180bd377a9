"""Theory pictures: the Jacobian's singular values and the mean-field decay against measurement."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._format import num
from . import _common as c


def _numeric_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


#: Summary entries shown on the spectrum plot, with their labels.
_SHOWN = (
    ("isometry", "isometry score"),
    ("mean_sq", "mean σ²"),
    ("log_std", "std of ln σ"),
    ("samples", "inputs"),
)


def _scalars(data: dict) -> dict[str, float]:
    return {
        str(k): int(v) if isinstance(v, (int, np.integer)) else float(v)
        for k, v in data.items()
        if _numeric_scalar(v)
    }


def jacobian_parts(obj: Any) -> tuple[np.ndarray | None, list[tuple[str, np.ndarray]], dict]:
    """Input-output singular values, per-layer singular values and the scalar summary.

    Accepts a report (its ``jacobian``), the ``jacobian`` dict itself, or an
    array of singular values. In the dict, the input-output Jacobian's singular
    values sit under ``"input_output"`` -> ``"singular_values"`` (or directly
    under ``"singular_values"``), pooled over samples; ``"layers"`` holds each
    layer's, as dicts with ``"name"`` and ``"singular_values"`` (or plain arrays).
    The summary is every numeric scalar of the dict and of ``"input_output"``.
    """
    jac = getattr(obj, "jacobian", obj)
    if jac is None:
        raise ValueError("the report has no Jacobian (report.jacobian is None)")
    if not isinstance(jac, dict):
        values = np.asarray(jac, dtype=np.float64)
        if values.size == 0:
            raise ValueError("no singular values to draw: received an empty array")
        return values.ravel(), [], {}
    summary = _scalars(jac)
    io = jac.get("singular_values")
    block = jac.get("input_output")
    if isinstance(block, dict):
        summary.update(_scalars(block))
        io = block.get("singular_values", io)
    io_values = None if io is None else np.asarray(io, dtype=np.float64).ravel()
    per_layer: list[tuple[str, np.ndarray]] = []
    for i, item in enumerate(jac.get("layers") or []):
        name, values = f"layer {i + 1}", item
        if isinstance(item, dict):
            name, values = str(item.get("name", name)), item.get("singular_values")
        if values is not None:
            per_layer.append((name, np.asarray(values, dtype=np.float64).ravel()))
    return io_values, per_layer, summary


def jacobian_summary(obj: Any) -> dict[str, float]:
    """Scalar summary of the input-output Jacobian.

    The report's own entries (e.g. ``isometry``, ``mean_sq``, ``log_std``), and,
    where it lacks them, from the singular values σ: ``mean_sq`` = mean σ² (1
    keeps gradient norms on average) and ``log_std`` = std of ln σ (0 is
    dynamical isometry, Pennington et al. 2017).
    """
    io, _, summary = jacobian_parts(obj)
    if io is not None:
        s = io[np.isfinite(io) & (io > 0)]
        if s.size:
            summary.setdefault("mean_sq", float(np.mean(s**2)))
            summary.setdefault("log_std", float(np.std(np.log(s))))
    return summary


def jacobian_spectrum(report_or_singular_values: Any, fig: Any = None) -> Any:
    """Singular values of the input-output Jacobian (log scale), and per layer when known.

    Dynamical isometry (Pennington et al. 2017) means every singular value near
    1: the network passes every direction of the gradient back unchanged. The
    seed's sigmoid network has singular values orders of magnitude below 1, so
    every input direction's gradient is crushed. The box gives the report's
    isometry score, mean σ², the spread of ln σ and the number of inputs.

    Args:
        report_or_singular_values: a report, its ``jacobian`` dict or an array.
        fig: figure to draw into (cleared first); a new one when None.

    Returns:
        The matplotlib Figure.
    """
    io, per_layer, _ = jacobian_parts(report_or_singular_values)
    summary = jacobian_summary(report_or_singular_values)
    if io is None and not per_layer:
        raise ValueError(
            "no singular values to draw: the Jacobian holds neither "
            "'singular_values' nor per-layer 'layers'"
        )
    panels = (io is not None) + bool(per_layer)
    if fig is None:
        fig = c.pyplot().figure(figsize=(6.0 * panels, 4.2))
    else:
        fig.clear()
    axes = list(np.atleast_1d(fig.subplots(1, panels)).ravel())
    if io is not None:
        ax = axes.pop(0)
        s = c.positive(io)
        s = s[np.isfinite(s)]
        lo, hi = (float(s.min()), float(s.max())) if s.size else (0.1, 10.0)
        # Bins over the data (at least a decade wide), so its shape shows; the
        # axis also reaches σ = 1, so the distance from isometry shows too.
        mid, half = math.sqrt(lo * hi), max(math.sqrt(hi / lo), math.sqrt(10.0))
        ax.hist(s, bins=np.geomspace(mid / half, mid * half, 26), color=c.color(0), alpha=0.85)
        ax.set_xscale("log")
        ax.set_xlim(min(mid / half, 1.0) / 2.0, max(mid * half, 1.0) * 2.0)
        ax.axvline(1.0, color="#555555", linestyle="--", linewidth=1.2, label="isometry (σ = 1)")
        lines = [f"{label}: {num(summary[k])}" for k, label in _SHOWN if k in summary]
        ax.set_xlabel("singular value σ of ∂output/∂input (log scale)")
        ax.set_ylabel("count (over samples and directions)")
        ax.set_title("Input-output Jacobian spectrum")
        # The summary is the legend's title: "best" keeps it off the bars.
        ax.legend(title="\n".join(lines), fontsize=8, title_fontsize=8, loc="best")
    if per_layer:
        ax = axes.pop(0)
        data = [c.positive(v)[np.isfinite(c.positive(v))] for _, v in per_layer]
        ax.boxplot(data, showfliers=False)
        for i, values in enumerate(data):
            ax.plot(
                np.full(values.size, i + 1.0),
                values,
                linestyle="none",
                marker=".",
                markersize=3,
                color=c.color(0),
                alpha=0.5,
            )
        ax.set_yscale("log")
        ax.axhline(1.0, color="#555555", linestyle="--", linewidth=1.2)
        names = [name for name, _ in per_layer]
        ax.set_xticks(np.arange(1, len(names) + 1), names, rotation=45, ha="right", fontsize=8)
        ax.set_xlabel("layer (input → output)")
        ax.set_ylabel("singular value σ of ∂h_l/∂h_(l-1) (log scale)")
        ax.set_title("Per-layer Jacobian spectra")
    fig.tight_layout()
    return fig


def _factor(values: np.ndarray) -> float:
    """Geometric-mean ratio of consecutive layers' values over the hidden layers."""
    depth = c.hidden_depth(len(values))
    first, last = values[0], values[depth - 1]
    if depth < 2 or not (first > 0 and last > 0 and math.isfinite(first * last)):
        return math.nan
    return float((first / last) ** (1.0 / (depth - 1)))


def predicted_vs_measured(report: Any, ax: Any = None) -> Any:
    """Mean-field predicted per-layer gradient decay next to the measured one.

    Mean-field theory (Schoenholz et al. 2017) predicts that each layer back
    multiplies the gradient norm by √χ₁, χ₁ = σ_w² E[φ'(h)²]: 0.24 for the seed's
    sigmoid + Glorot network, 1 for relu + He. Measured kernel-gradient and
    backpropagated-signal norms at initialization are drawn relative to the last
    hidden layer, where the prediction is anchored; the box compares the
    per-layer factors (the report's ``measured_grad_factor`` and
    ``measured_signal_factor`` when it gives them, else the geometric mean over
    the hidden layers).

    Args:
        report: a report whose ``theory`` holds ``chi1`` (or is a mean-field dict),
            with a history (read at initialization) or rows.
        ax: axes to draw on (a new figure when None).

    Returns:
        The matplotlib Figure.
    """
    theory = getattr(report, "theory", None)
    if theory is None:
        raise ValueError("predicted_vs_measured needs report.theory (a mean-field prediction)")
    chi1 = c.chi1_of(theory)
    if chi1 is None:
        raise ValueError("report.theory holds no 'chi1' to draw the prediction from")
    fig, ax = c.figure_and_axes(ax)
    ax.set_yscale("log")
    depth = None
    text = [f"predicted √χ₁ = {num(math.sqrt(chi1))} per layer (χ₁ = {num(chi1)})"]
    for i, field in enumerate(("grad_norm", "signal_norm")):
        names, values = c.layer_values(report, field, 0)
        depth = c.hidden_depth(len(values))
        anchor = values[depth - 1]
        relative = c.positive(values / anchor if anchor > 0 else np.full_like(values, np.nan))
        what = "kernel gradient ‖∂L/∂W‖" if field == "grad_norm" else "signal ‖∂L/∂h‖"
        ax.plot(
            np.arange(1, len(values) + 1),
            relative,
            color=c.color(i),
            marker=c.marker(i),
            linewidth=1.6,
            label=f"measured {what}",
        )
        given = (
            theory.get(f"measured_{field.split('_')[0]}_factor")
            if isinstance(theory, dict)
            else None
        )
        factor = float(given) if _numeric_scalar(given) else _factor(values)
        text.append(f"measured {what}: {num(factor)} per layer")
    x, y = c.predicted_line(chi1, np.ones(len(names)))
    ax.plot(x, y, color="#555555", linestyle="--", linewidth=1.6, label="mean-field prediction")
    if isinstance(theory, dict):
        for key in ("depth_scale", "trainable_depth"):
            if _numeric_scalar(theory.get(key)):
                text.append(f"{key.replace('_', ' ')}: {num(theory[key])} layers")
    c.text_box(ax, text, "lower right")
    ax.set_xticks(np.arange(1, len(names) + 1), names, rotation=45, ha="right", fontsize=8)
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel(f"norm relative to layer {depth} (log scale)")
    ax.set_title("Mean-field prediction vs measured decay, at initialization")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
