"""Pictures of gradient flow: where the gradient dies, why, and what fixes it.

Every function returns a matplotlib ``Figure`` and takes an optional ``ax``
(single-panel pictures) or ``fig`` (multi-panel ones) to draw into. matplotlib
is imported only when a function draws, so ``import vgp_native`` never loads it;
the functions work on any backend, Agg included, and never call ``plt.show()``.
Figures are made with ``pyplot``: show them with ``plt.show()``, save them with
``fig.savefig``, and close them (``plt.close(fig)``) when drawing many.

Colours follow the Okabe-Ito colour-blind-safe palette; configuration ``i`` of
an overlay gets the same colour in every panel. Heatmaps use viridis.

- ``gradient_norms``: gradient norm per layer, log scale, several models overlaid.
- ``heatmap``: a recorded field, layers x epochs; ``heatmaps``: several runs on one
  shared colour scale.
- ``weights_vs_epochs``: the seed's "weights vs epochs" plot.
- ``training_curves``: loss/accuracy per epoch with plateaus and the chance level.
- ``activation_histograms``: per-layer activation histograms (saturation shows).
- ``decision_boundary``: a model's prediction over 2-D inputs.
- ``jacobian_spectrum``: Jacobian singular values and the isometry summary.
- ``predicted_vs_measured``: mean-field decay against the measured one.
- ``report_figures``: every figure that applies to a report, as a ``FigureSet`` (a dict
  that a notebook shows as images, once each); ``compare``: several configurations
  side by side.
"""

from __future__ import annotations

from .._format import num, percent
from ._common import MARKERS, PALETTE
from .boundary import decision_boundary
from .heatmap import heatmap, heatmaps
from .layers import activation_histograms, gradient_norms, weights_vs_epochs
from .spectrum import jacobian_spectrum, jacobian_summary, predicted_vs_measured
from .summary import FigureSet, compare, report_figures
from .training import find_plateaus, training_curves

__all__ = [
    "MARKERS",
    "PALETTE",
    "FigureSet",
    "activation_histograms",
    "compare",
    "decision_boundary",
    "find_plateaus",
    "gradient_norms",
    "heatmap",
    "heatmaps",
    "jacobian_spectrum",
    "jacobian_summary",
    "num",
    "percent",
    "predicted_vs_measured",
    "report_figures",
    "training_curves",
    "weights_vs_epochs",
]
