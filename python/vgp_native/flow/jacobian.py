"""Jacobian spectra: how a network stretches and squeezes directions.

Backpropagation multiplies the output gradient by the transposed Jacobians of
the layers, so the singular values of the input-output Jacobian
``J = dy/dx = J_L ... J_2 J_1`` decide how gradients (and signals) travel:
singular values far below 1 wipe directions out (vanishing), far above 1 blow
them up (exploding). Pennington, Schoenholz & Ganguli (2017, "Resurrecting the
sigmoid in deep learning through dynamical isometry") show that deep networks
train fastest when *all* singular values stay near 1 (dynamical isometry), not
only their mean square (the mean-field chi1 of ``vgp_native.flow.theory``).

Everything here runs in inference mode: dropout is off and batch
normalization scales each feature by ``gamma / sqrt(moving_variance + eps)``
(at initialization the moving statistics are 0 and 1). Per input sample:

- the input-output Jacobian ``(outputs, inputs)`` comes from the native
  backward pass (``input_gradient``) with one-hot output gradients, one row
  per output unit, all samples in one call;
- each segment's Jacobian (a top-level Dense or Residual block together with
  the Activation, BatchNormalization and Dropout layers that follow it) is
  assembled in numpy from the weights and the segment's inputs, each layer
  contributing its own ``Layer.jacobian``: a Dense layer gives
  ``diag(phi'(z)) W^T``, an Activation ``diag(phi'(x))`` (softmax
  ``diag(s) - s s^T``), batch normalization ``diag(gamma / sqrt(var + eps))``,
  a residual block ``diag(phi'(z)) (I + J_f)`` (``P^T + J_f`` with a projection);
  ``phi'`` comes from the native activation kernels. The segments' product is
  the input-output Jacobian.

Summary of a set of singular values ``sigma`` pooled over samples:

- ``mean_sq = mean(sigma^2)``: the factor by which a random direction's squared
  length changes (about chi1 per square layer);
- ``log_mean`` and ``log_std``: mean and spread of ``ln sigma`` over the
  non-zero singular values;
- ``zero_fraction``: the fraction of singular values that are 0 (below 1e-12
  of the largest: directions lost for good, e.g. through off relu units);
- ``isometry = (1 - zero_fraction) * exp(-sqrt(mean((ln sigma)^2)))`` over the
  non-zero ones: 1 exactly when every singular value is 1, falling with both
  the distance of the typical scale from 1 (``log_mean``) and the spread
  (``log_std``), since ``mean(ln^2) = log_mean^2 + log_std^2``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from .._engine import input_gradient, native_network, prepare_inputs
from .probe import sample_rows

__all__ = [
    "input_output_jacobian",
    "jacobian_report",
    "segment_jacobians",
    "segments",
    "spectrum_summary",
]

#: Largest number of entries (samples x outputs x inputs) one segment's
#: Jacobians may hold; wide layers use fewer samples to stay below it.
MAX_ENTRIES = 500_000


def input_output_jacobian(model: Any, x: Any) -> np.ndarray:
    """Per-sample input-output Jacobians ``(n, outputs, inputs)`` (float64), inference mode.

    One native backward pass over ``n * outputs`` rows: sample ``i`` repeated
    once per output unit ``k``, with the one-hot output gradient ``e_k``, gives
    row ``k`` of ``J(x_i)``.
    """
    x = prepare_inputs(model, x)
    net = native_network(model, x.shape[1])
    n, k = x.shape[0], model.output_dim
    rows = np.repeat(x, k, axis=0)
    dy = np.ascontiguousarray(np.tile(np.eye(k, dtype=x.dtype), (n, 1)))
    dx = input_gradient(net, rows, dy)
    return dx.reshape(n, k, x.shape[1]).astype(np.float64)


def segments(model: Any) -> list[tuple[str, list[Any], list[int]]]:
    """``(name, layers, rows)`` per segment: a top-level Dense or Residual and the
    kernel-less layers after it (layers before the first one join it); ``rows``
    are the statistics rows (``model.flow_rows`` indices) inside the segment."""
    row_of = {id(r.layer): i for i, r in enumerate(model.flow_rows)}
    out: list[tuple[str, list[Any], list[int]]] = []
    pending: list[Any] = []
    for layer in model.layers:
        if layer.has_kernel() or layer.sublayers():
            out.append((layer.name, [*pending, layer], []))
            pending = []
        elif out:
            out[-1][1].append(layer)
        else:
            pending.append(layer)
    if pending:
        out.append((pending[0].name, pending, []))
    for _, layers, rows in out:
        stack = list(layers)
        while stack:
            layer = stack.pop(0)
            if id(layer) in row_of:
                rows.append(row_of[id(layer)])
            stack[:0] = layer.sublayers()
    return out


def segment_jacobians(model: Any, x: Any) -> list[tuple[str, list[int], np.ndarray]]:
    """``(name, rows, J)`` per segment with ``J`` of shape ``(n, out, in)`` (float64).

    Computed in numpy at the inputs each segment sees when ``x`` is fed to the
    network in inference mode. Their product, last segment first, is
    ``input_output_jacobian(model, x)``.
    """
    h = np.asarray(prepare_inputs(model, x), dtype=np.float64)
    out = []
    # Weights a diverged run left huge or non-finite give non-finite entries (their
    # singular values are NaN), not a warning.
    with np.errstate(over="ignore", invalid="ignore"):
        for name, layers, rows in segments(model):
            jac = None
            for layer in layers:
                h, j = layer.jacobian(h)
                jac = j if jac is None else j @ jac
            out.append((name, rows, jac))
    return out


def spectrum_summary(sv: np.ndarray) -> dict[str, Any]:
    """Summary of singular values (see the module docstring for the formulas).

    Returns:
        ``{"count", "mean_sq", "log_mean", "log_std", "zero_fraction",
        "isometry", "max", "min"}`` (NaN entries where undefined).
    """
    s = np.asarray(sv, dtype=np.float64).ravel()
    s = s[np.isfinite(s)]
    if s.size == 0:
        nan = math.nan
        return dict.fromkeys(
            ("mean_sq", "log_mean", "log_std", "zero_fraction", "isometry", "max", "min"), nan
        ) | {"count": 0}
    top = float(s.max())
    kept = s[s > 1e-12 * top] if top > 0 else s[:0]
    zero_fraction = 1.0 - kept.size / s.size
    if kept.size:
        logs = np.log(kept)
        log_mean, log_std = float(logs.mean()), float(logs.std())
        isometry = (1.0 - zero_fraction) * math.exp(-math.sqrt(float(np.mean(logs**2))))
    else:
        log_mean = log_std = math.nan
        isometry = 0.0
    return {
        "count": int(s.size),
        "mean_sq": float(np.mean(s**2)),
        "log_mean": log_mean,
        "log_std": log_std,
        "zero_fraction": float(zero_fraction),
        "isometry": float(isometry),
        "max": top,
        "min": float(s.min()),
    }


def _singular_values(jac: np.ndarray) -> np.ndarray:
    """Singular values of each ``(out, in)`` matrix, pooled and sorted descending.

    Samples whose Jacobian holds a NaN or Inf (an overflowing network) give NaN
    singular values, which the summaries leave out.
    """
    sv = np.full((jac.shape[0], min(jac.shape[1:])), np.nan)
    ok = np.isfinite(jac).all(axis=(1, 2))
    if ok.any():
        sv[ok] = np.linalg.svd(jac[ok], compute_uv=False)
    return np.sort(sv.ravel())[::-1]


def jacobian_report(model: Any, x: Any, samples: int = 64) -> dict[str, Any]:
    """Spectra of the input-output and segment Jacobians on a sample of ``x``.

    Args:
        model: a compiled model.
        x: inputs; at most ``samples`` rows are used (a fixed sample). Segments
            with many entries use fewer (at most ``MAX_ENTRIES`` per segment).
        samples: the number of inputs.

    Returns:
        ``{"mode": "infer", "samples", "input_output": {summary...,
        "singular_values": [...]}, "layers": [{"name", "rows", "shape",
        "samples", summary..., "singular_values": [...]}, ...]}``; an empty
        dict when ``samples`` is 0.
    """
    if samples == 0:
        return {}
    x = prepare_inputs(model, x)
    x, _ = sample_rows(x, x, samples)
    io = _singular_values(input_output_jacobian(model, x))
    result: dict[str, Any] = {
        "mode": "infer",
        "samples": int(x.shape[0]),
        "input_output": spectrum_summary(io) | {"singular_values": io.tolist()},
        "layers": [],
    }
    widths = [model.input_dim, *(layer.output_dim for layer in model.layers)]
    largest = max(a * b for a, b in itertools.pairwise(widths))
    n_layer = max(1, min(x.shape[0], MAX_ENTRIES // max(largest, 1)))
    for name, rows, jac in segment_jacobians(model, x[:n_layer]):
        sv = _singular_values(jac)
        result["layers"].append(
            {"name": name, "rows": rows, "shape": [jac.shape[1], jac.shape[2]]}
            | {"samples": n_layer}
            | spectrum_summary(sv)
            | {"singular_values": sv.tolist()}
        )
    return result
