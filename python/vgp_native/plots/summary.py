"""Figure sets: every figure a report supports, and several configurations compared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _common as c
from .heatmap import heatmap
from .layers import activation_histograms, gradient_norms, weights_vs_epochs
from .spectrum import jacobian_parts, jacobian_spectrum, predicted_vs_measured
from .training import chance_level, curves, draw_chance, plot_loss, training_curves


class FigureSet(dict):
    """Figures by name (a plain ``dict`` name -> Figure) that a notebook shows once each.

    As the last expression of a Jupyter cell it displays every figure as an image,
    in order, and nothing else (no repr of the dict); the figures are then closed
    in pyplot, so the inline backend does not draw them a second time (they can
    still be saved). Elsewhere it is the dict it always was.
    """

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for fig in self.values():
            display(fig)
            c.pyplot().close(fig)


def _gradient_pair(report: Any, field: str) -> Any:
    """Per-layer norms at initialization and at the last record (or at the current weights).

    The mean-field line goes with the signal norms, the quantity it predicts.
    """
    hist = c.history_of(report)
    theory = getattr(report, "theory", None) if field == "signal_norm" else None
    if hist is None:
        return gradient_norms(report, labels=["at the current weights"], field=field, theory=theory)
    if hist.stats.shape[0] == 1:
        return gradient_norms(hist, labels=[c.record_label(hist, 0)], field=field, theory=theory)
    last = c.record_label(hist, hist.stats.shape[0] - 1)
    return gradient_norms(
        [hist, hist], labels=["initialization", last], record=[0, -1], field=field, theory=theory
    )


def report_figures(report: Any) -> FigureSet:
    """Every figure that applies to a report, by name, in reading order.

    Always: ``gradient_norms`` and ``signal_norms`` (per layer, at initialization
    and after the last record; at the current weights for ``analyze()``) and
    ``activation_histograms``. With a training history: ``heatmap`` (layers x
    epochs, two records or more), ``training_curves`` (when epochs were logged)
    and ``weights_vs_epochs`` (when weights were tracked). With a Jacobian
    (``report.jacobian`` not empty): ``jacobian_spectrum``; with a mean-field
    prediction (``report.theory``): ``predicted_vs_measured``.
    A decision boundary needs the model and data: call ``decision_boundary``.

    Args:
        report: a ``GradientFlowReport``.

    Returns:
        A ``FigureSet``: a dict name -> matplotlib Figure that a notebook shows as
        images, once each.
    """
    figures = FigureSet(
        {
            "gradient_norms": _gradient_pair(report, "grad_norm"),
            "signal_norms": _gradient_pair(report, "signal_norm"),
        }
    )
    hist = c.history_of(report)
    if hist is not None:
        if hist.stats.shape[0] >= 2:
            figures["heatmap"] = heatmap(hist)
        if hist.logs:
            figures["training_curves"] = training_curves(report)
        if hist.weights is not None:
            figures["weights_vs_epochs"] = weights_vs_epochs(hist)
    figures["activation_histograms"] = activation_histograms(report)
    jac = getattr(report, "jacobian", None)
    if jac:
        io, per_layer, _ = jacobian_parts(jac)
        if io is not None or per_layer:
            figures["jacobian_spectrum"] = jacobian_spectrum(jac)
    if c.chi1_of(getattr(report, "theory", None)) is not None:
        figures["predicted_vs_measured"] = predicted_vs_measured(report)
    return figures


def compare(
    reports_or_histories: Sequence[Any],
    labels: Sequence[str] | None = None,
    record: int = 0,
    fig: Any = None,
) -> Any:
    """Several configurations side by side: gradient and signal norms per layer, and loss.

    The demo's picture: the seed's sigmoid network against each remedy (relu +
    He, batch normalization, residual blocks, a shallower network). Each
    configuration keeps one colour across the three panels. The loss panel shows
    the configurations that were trained (training solid, validation dashed) with
    the chance level of the loss.

    Args:
        reports_or_histories: reports or ``FlowHistory`` objects, one per configuration.
        labels: one label per configuration.
        record: which record the per-layer panels show (0 = at initialization).
        fig: figure to draw into (cleared first); a new one when None.

    Returns:
        The matplotlib Figure.
    """
    items = c.as_list(reports_or_histories)
    labels = c.check_labels(labels, len(items), default="configuration")
    trained = [(i, curves(item)) for i, item in enumerate(items) if c.history_of(item) is not None]
    trained = [(i, data) for i, data in trained if "loss" in data.logs]
    panels = 3 if trained else 2
    if fig is None:
        fig = c.pyplot().figure(figsize=(5.6 * panels, 4.8))
    else:
        fig.clear()
    axes = np.atleast_1d(fig.subplots(1, panels)).ravel()
    gradient_norms(items, labels, record=record, field="grad_norm", ax=axes[0])
    gradient_norms(items, labels, record=record, field="signal_norm", ax=axes[1])
    if trained:
        ax = axes[2]
        for i, data in trained:
            plot_loss(ax, data, index=i, label=labels[i], validation=False)
        draw_chance(ax, *chance_level(trained[0][1]))
        ax.set_xlabel("epoch (0 = initialization)")
        ax.set_ylabel("training loss")
        ax.set_title("Training loss per epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig
