"""Gradient flow: where the gradient dies in a deep network, why, and what fixes it.

- ``analyze(model, X, y)``: a ``GradientFlowReport`` at the current weights.
- ``callbacks.GradientFlow``: records per-layer
  statistics during ``fit``; ``.report()`` gives the report of the whole run.
- ``GradientFlowReport``: per-layer table, overall verdict (healthy, saturated,
  dead, vanishing, exploding, non-finite), first/last gradient and signal
  ratios, plain-language findings with remedies, input-output and per-layer
  Jacobian spectra (Pennington et al. 2017) and the mean-field prediction
  (Schoenholz et al. 2017); ``to_dict``, ``to_json``, ``plot``, ``save_html``.
- ``Thresholds``: the documented, configurable limits of the verdicts.
- ``compare_depths(deeper, shallower)``: degradation (He et al. 2016).
- ``gradient_correlation(model, X)``: dy/dx along a 1-D input grid and its
  autocorrelation; ``over="weights"`` with many networks: the correlation over
  random weights of the gradients at two inputs: shattered gradients
  (Balduzzi et al. 2017).
- ``theory``: mean-field formulas (``mean_field``, ``gradient_factor``, ...).
"""

from __future__ import annotations

from . import theory
from .compare import compare_depths
from .correlation import gradient_correlation
from .diagnosis import Finding, chance_loss, detect_plateau
from .history import FIELDS, HIST_BINS, FlowHistory, RowInfo
from .jacobian import input_output_jacobian, jacobian_report, segment_jacobians
from .recording import probe_record
from .report import LAYER_KEYS, GradientFlowReport, analyze, json_safe
from .verdicts import VERDICTS, Thresholds

__all__ = [
    "FIELDS",
    "HIST_BINS",
    "LAYER_KEYS",
    "VERDICTS",
    "Finding",
    "FlowHistory",
    "GradientFlowReport",
    "RowInfo",
    "Thresholds",
    "analyze",
    "chance_loss",
    "compare_depths",
    "detect_plateau",
    "gradient_correlation",
    "input_output_jacobian",
    "jacobian_report",
    "json_safe",
    "probe_record",
    "segment_jacobians",
    "theory",
]
