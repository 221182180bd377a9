"""The first step a freshly started optimizer would take, simulated per layer.

A probe changes no weight, so its update ratio ``||dW|| / ||W||`` is that of
the step the model's optimizer (its class, learning rate, moments, clipping)
would take first from these weights with the probe's gradient: run by the
native optimizer kernels (``vgp_native.ops``) on a copy of each kernel with
zeroed state. Adam's first step ``lr g / (|g| + eps)`` shows how it rescales a
vanishing gradient into a full-size step, where SGD's ``lr g`` stays as small
as ``g``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops

__all__ = ["first_step_norms", "optimizer_first_step_norms"]


def first_step_norms(model: Any, grads: list[np.ndarray | None]) -> np.ndarray:
    """``||dW||`` per row of the first step a fresh optimizer would take with ``grads``.

    ``grads`` are the model's gradients in weight order (``compute_gradients``).
    """
    if not model.flow_rows:  # (which attaches the native network if needed)
        return np.zeros(0)
    rows = model.engine.kernel_positions()
    return optimizer_first_step_norms(
        model.optimizer, [model.weights[k] for k in rows], [grads[k] for k in rows]
    )


def optimizer_first_step_norms(
    opt: Any, kernels: list[np.ndarray], grads: list[np.ndarray | None]
) -> np.ndarray:
    """``first_step_norms`` for optimizer ``opt`` and each row's kernel and gradient."""
    cfg = opt.get_config()
    out = np.zeros(len(kernels))
    for r, (kernel, g) in enumerate(zip(kernels, grads, strict=True)):
        if g is None:
            continue
        if opt.clipnorm:
            g = ops.clip_by_norm(g, opt.clipnorm)
        elif opt.clipvalue:
            g = ops.clip_by_value(g, opt.clipvalue)
        lr = cfg["learning_rate"]
        if opt.kind == "sgd":
            sq = ops.sgd_update(kernel, g, None, lr, cfg["momentum"], cfg["nesterov"])[2]
        elif opt.kind == "adam":
            sq = ops.adam_update(
                kernel, g, None, None, 1, lr, cfg["beta_1"], cfg["beta_2"], cfg["epsilon"]
            )[3]
        else:
            sq = ops.rmsprop_update(
                kernel,
                g,
                learning_rate=lr,
                rho=cfg["rho"],
                momentum=cfg["momentum"],
                epsilon=cfg["epsilon"],
                centered=cfg["centered"],
            )[4]
        out[r] = np.sqrt(sq)
    return out
