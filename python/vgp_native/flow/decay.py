"""Mean-field prediction of the per-layer gradient decay next to the measured one.

Schoenholz et al. (2017, "Deep Information Propagation") predict that in a
wide plain stack with weights of variance ``sigma_w^2 / fan_in`` and biases of
variance ``sigma_b^2`` the backpropagated signal's squared norm changes by
``chi1 = sigma_w^2 E[phi'(h)^2]`` per layer (``vgp_native.flow.theory``), so its
norm by ``sqrt(chi1)``. Measured on one record of a network with ``L`` rows
(``L - 1`` hidden layers and the output row):

- signal factor ``(s_1 / s_{L-1}) ** (1 / (L - 2))``: the geometric mean of the
  per-layer ratio of the signal ``||dL/dh||`` at consecutive hidden outputs;
- kernel-gradient factor ``(g_2 / g_{L-1}) ** (1 / (L - 3))`` over the interior
  rows (the first row is left out: its fan-in is the input width, so its
  kernel gradient differs by its shape alone).

The prediction applies to plain stacks: no batch normalization, no residual
blocks, one activation in every hidden row, and one ``sigma_w^2`` for every
interior row (``theory.sigma_w2_for`` of its initializer; Glorot on square
layers gives 1, He 2) and zero-mean weights and biases.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import initializers
from . import theory
from .history import RowInfo

__all__ = ["theory_comparison", "why_not_plain"]


def why_not_plain(rows: list[RowInfo], structure: dict[str, bool]) -> str | None:
    """Why mean-field theory does not apply to this network, or None when it does."""
    if structure.get("batchnorm"):
        return "the network uses batch normalization"
    if structure.get("residual") or any(r.in_residual for r in rows):
        return "the network has residual blocks"
    if len(rows) < 3:
        return "the network has fewer than two hidden layers"
    hidden = rows[:-1]
    acts = {r.activation for r in hidden}
    if len(acts) != 1:
        return f"the hidden layers mix activations ({', '.join(sorted(acts))})"
    if hidden[0].activation == "softmax":
        return "the hidden layers use softmax"
    if any(r.kernel_initializer is None for r in rows[1:-1]):
        return "an initializer has no known variance"
    return None


def _sigma2(rows: list[RowInfo]) -> tuple[float, float]:
    """``(sigma_w^2, sigma_b^2)`` shared by the interior rows; ValueError otherwise."""
    w2 = [theory.sigma_w2_for(r.kernel_initializer, r.fan_in, r.fan_out) for r in rows]
    b2 = []
    for r in rows:
        if r.bias_initializer is None:
            b2.append(0.0)
            continue
        mean, var = initializers.get(r.bias_initializer).moments((r.fan_out,))
        if mean != 0.0:
            raise ValueError("biases with a non-zero mean")
        b2.append(float(var))
    if not (np.allclose(w2, w2[0], rtol=1e-9) and np.allclose(b2, b2[0], rtol=1e-9)):
        raise ValueError("the interior layers have different weight variances")
    return float(w2[0]), float(b2[0])


def _factor(first: float, last: float, steps: int) -> float:
    if steps < 1 or not (first > 0 and last > 0 and math.isfinite(first / last)):
        return math.nan
    return float((first / last) ** (1.0 / steps))


def theory_comparison(
    rows: list[RowInfo],
    structure: dict[str, bool],
    grad_norm: np.ndarray,
    signal_norm: np.ndarray,
) -> dict[str, Any] | None:
    """Mean-field prediction and the measured per-layer factors, or None.

    Args:
        rows: the statistics rows.
        structure: ``{"batchnorm", "residual", ...}`` (see ``FlowHistory.structure``).
        grad_norm, signal_norm: ``(rows,)`` of one record.

    Returns:
        None when the theory does not apply (see ``why_not_plain``), else
        ``{"activation", "sigma_w2", "sigma_b2", "q_star", "chi1",
        "predicted_factor", "depth_scale", "trainable_depth", "hidden_layers",
        "measured_signal_factor", "measured_grad_factor"}``.
    """
    if why_not_plain(rows, structure) is not None:
        return None
    try:
        sigma_w2, sigma_b2 = _sigma2(rows[1:-1])
    except (TypeError, ValueError):
        return None
    activation = rows[0].activation
    mf = theory.mean_field(activation, sigma_w2, sigma_b2)
    n = len(rows)
    return {
        "activation": activation,
        "sigma_w2": sigma_w2,
        "sigma_b2": sigma_b2,
        **mf,
        "predicted_factor": math.sqrt(mf["chi1"]),
        "hidden_layers": n - 1,
        "measured_signal_factor": _factor(float(signal_norm[0]), float(signal_norm[-2]), n - 2),
        "measured_grad_factor": _factor(float(grad_norm[1]), float(grad_norm[-2]), n - 3),
    }
