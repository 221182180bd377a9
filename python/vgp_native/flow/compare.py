"""Degradation (He et al. 2016): comparing the reports of a deeper and a shallower network.

A finding about two runs, so it reads whole reports: it sits above both
``report`` (which builds them) and ``diagnosis`` (which judges one run).
"""

from __future__ import annotations

import math
from typing import Any

from ._text import num
from .findings import Finding
from .report import GradientFlowReport
from .verdicts import Thresholds

__all__ = ["compare_depths"]


def compare_depths(deeper: Any, shallower: Any, **thresholds: Any) -> Finding | None:
    """Degradation (He et al. 2016): a deeper plain network that trains worse, not vanishing.

    Args:
        deeper, shallower: ``GradientFlowReport`` objects (or ``FlowHistory``
            objects) of two networks trained on the same data.
        **thresholds: ``Thresholds`` overrides (``degradation_margin``).

    Returns:
        A "degradation" finding when the deeper network has more kernel layers,
        a training verdict that is not vanishing, exploding or non-finite (its
        gradients flowed through training, whatever they did at initialization),
        and a final training loss
        above the shallower one's by more than ``degradation_margin`` times the
        chance-level loss (or times the shallower loss when the chance level
        is unknown); None otherwise (when the deeper network's gradient does
        vanish, its own report says so).
    """
    t = Thresholds.of(**thresholds)
    deep, shallow = (
        x if isinstance(x, GradientFlowReport) else GradientFlowReport.from_history(x)
        for x in (deeper, shallower)
    )
    if len(deep.layers) <= len(shallow.layers):
        raise ValueError(
            f"deeper has {len(deep.layers)} kernel layers, shallower {len(shallow.layers)}: "
            "pass the deeper network first"
        )
    if deep.training_verdict in ("vanishing", "exploding", "non-finite"):
        return None
    a, b = deep.final_loss, shallow.final_loss
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    scale = deep.chance if deep.chance else max(b, 1e-12)
    if a - b <= t.degradation_margin * scale:
        return None
    return Finding(
        "degradation",
        f"The {len(deep.layers)}-layer network ends at a training loss of {a:.4f}, worse than "
        f"the {len(shallow.layers)}-layer network's {b:.4f}, although its gradients flow through "
        f"training (training verdict {deep.training_verdict}; at the last record first/last "
        f"kernel-gradient ratio {num(deep.grad_ratios[-1])}, signal ratio "
        f"{num(deep.signal_ratios[-1])}): the extra plain layers make the network "
        "harder to optimize, not a vanishing gradient (He et al. 2016).",
        "use residual blocks (layers.Residual) so that the extra layers can start as the "
        "identity, or keep the shallower network.",
    )
