"""Real training runs for the plot and HTML tests (not collected by pytest).

``train`` runs the seed network (8 sigmoid layers of 10 units on two moons) or
a remedy for a few epochs with a ``GradientFlow`` callback, and keeps the
model, the recorded ``FlowHistory``, fit's ``History`` and the run's
``GradientFlowReport``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vgp_native.callbacks import GradientFlow
from vgp_native.datasets import make_moons
from vgp_native.flow import FlowHistory, GradientFlowReport
from vgp_native.layers import Activation, BatchNormalization, Dense, Residual
from vgp_native.models import Sequential

X, Y = make_moons(n_samples=250, noise=0.05, random_state=42)


def seed_model(
    activation: str = "sigmoid",
    init: str = "glorot_uniform",
    batchnorm: bool = False,
    residual: bool = False,
    optimizer: str = "adam",
    depth: int = 8,
) -> Sequential:
    """The seed's network (``depth`` hidden layers of 10 units, one sigmoid output) or a remedy."""
    model = Sequential(seed=0)
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


@dataclass
class Run:
    """One training run: the model, what GradientFlow recorded, fit's History, the report."""

    model: Sequential
    history: FlowHistory
    keras_history: Any
    report: GradientFlowReport


def train(epochs: int = 4, track: bool | int = True, every: str = "epoch", **config: Any) -> Run:
    """Train ``seed_model(**config)`` on the moons with a ``GradientFlow`` callback."""
    model = seed_model(**config)
    flow = GradientFlow(every=every, track_weights=track)
    keras_history = model.fit(
        X, Y, epochs=epochs, batch_size=32, verbose=0, validation_split=0.2, callbacks=[flow]
    )
    return Run(model, flow.history, keras_history, flow.report())
