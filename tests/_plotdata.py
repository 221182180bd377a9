"""Real training runs and reports for the plot and HTML tests (not collected by pytest).

``train`` runs the seed network (8 sigmoid layers of 10 units on two moons, in
float64 so that finite differences resolve its tiny Jacobian) or
a remedy for a few epochs with a ``GradientFlow`` callback. ``Report`` holds
the attributes a ``vgp_native.flow.GradientFlowReport`` exposes to plots and
HTML (rows, ratios, verdict, findings, jacobian, theory, history), filled from a
real run: per-layer rows from a record of the history, the input-output
Jacobian from central differences of the model's predictions, and the
mean-field prediction from ``vgp_native.flow.theory``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vgp_native.callbacks import GradientFlow
from vgp_native.datasets import make_moons
from vgp_native.flow import theory
from vgp_native.layers import Activation, BatchNormalization, Dense, Residual
from vgp_native.models import Sequential

X, Y = make_moons(n_samples=250, noise=0.05, random_state=42)
ROW_KEYS = (
    "grad_norm",
    "grad_mean_abs",
    "grad_max_abs",
    "weight_norm",
    "update_ratio",
    "signal_norm",
    "act_mean",
    "act_std",
    "saturated",
    "dead",
)


def seed_model(
    activation: str = "sigmoid",
    init: str = "glorot_uniform",
    batchnorm: bool = False,
    residual: bool = False,
    optimizer: str = "adam",
    depth: int = 8,
) -> Sequential:
    """The seed's network (``depth`` hidden layers of 10 units, one sigmoid output) or a remedy."""
    model = Sequential(seed=0, dtype="float64")
    model.add(Dense(10, activation=activation, kernel_initializer=init, input_dim=2))
    for _ in range(depth - 1):
        if residual:
            model.add(Residual([Dense(10, activation=activation, kernel_initializer=init)]))
        elif batchnorm:
            model.add(Dense(10, kernel_initializer=init))
            model.add(BatchNormalization())
            model.add(Activation(activation))
        else:
            model.add(Dense(10, activation=activation, kernel_initializer=init))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model


def train(epochs: int = 4, track: int = 8, **config: Any) -> tuple[Sequential, Any, Any]:
    """Train ``seed_model(**config)``; returns the model, its FlowHistory and fit's History."""
    model = seed_model(**config)
    flow = GradientFlow(track_weights=track)
    keras_history = model.fit(
        X, Y, epochs=epochs, batch_size=32, verbose=0, validation_split=0.2, callbacks=[flow]
    )
    return model, flow.history, keras_history


def io_singular_values(model: Sequential, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Singular values of d(output)/d(input) at each row of ``x``, by central differences.

    All perturbed inputs go through one ``predict`` call.
    """
    n, d = x.shape
    steps = np.eye(d) * eps
    batch = np.concatenate([x[:, None, :] + steps, x[:, None, :] - steps], axis=1)
    out = model.predict(batch.reshape(-1, d), batch_size=2 * n * d, verbose=0).reshape(n, 2, d, -1)
    jac = (out[:, 0] - out[:, 1]).transpose(0, 2, 1) / (2 * eps)
    return np.linalg.svd(jac, compute_uv=False).ravel()


@dataclass
class Report:
    """The attributes of a GradientFlowReport that plots and HTML read, from a real run."""

    rows: list[dict[str, Any]]
    grad_ratio: float
    signal_ratio: float
    verdict: str
    findings: list[str]
    jacobian: dict[str, Any] | None
    theory: dict[str, Any] | None
    history: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def report(
    model: Sequential,
    hist: Any,
    with_history: bool = True,
    record: int = 0,
    sigma_w2: float | None = 1.0,
) -> Report:
    """A report of ``model`` from record ``record`` of ``hist`` (no history: as ``analyze``).

    ``sigma_w2`` (None: no theory) is the hidden layers' weight variance for the
    mean-field prediction of a plain network with one hidden activation.
    """
    rows = []
    for i, info in enumerate(hist.rows):
        row: dict[str, Any] = {"name": info.name}
        row.update({k: float(hist.field(k)[record, i]) for k in ROW_KEYS})
        row["nonfinite"] = int(hist.field("grad_nonfinite")[record, i])
        rows.append(row)
    grad = np.array([r["grad_norm"] for r in rows])
    signal = np.array([r["signal_norm"] for r in rows])
    grad_ratio, signal_ratio = float(grad[0] / grad[-1]), float(signal[0] / signal[-2])
    for row in rows:
        row["verdict"] = "vanishing" if row["grad_norm"] < 1e-3 * grad[-1] else "healthy"
    verdict = "vanishing" if min(grad_ratio, signal_ratio) < 1e-3 else "healthy"
    sv = io_singular_values(model, hist.sample_x[:32])
    activation = hist.rows[0].activation
    mean_field = None
    if sigma_w2 is not None:
        mean_field = dict(
            theory.mean_field(activation, sigma_w2), activation=activation, sigma_w2=sigma_w2
        )
    return Report(
        rows=rows,
        grad_ratio=grad_ratio,
        signal_ratio=signal_ratio,
        verdict=verdict,
        findings=[
            f"gradient at layer 1 is {grad_ratio:.1e} of layer {len(rows)}'s <b>&amp;",
            "try relu + he_normal, batch normalization, or residual blocks",
        ],
        jacobian={
            "samples": 32,
            "input_output": {"isometry": math.exp(-np.std(np.log(sv))), "singular_values": sv},
        },
        theory=mean_field,
        history=hist if with_history else None,
    )
