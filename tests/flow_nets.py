"""The networks and data the flow tests share: the seed document's and its remedies."""

from __future__ import annotations

import functools

import numpy as np

from vgp_native.datasets import make_moons, train_test_split
from vgp_native.layers import Activation, BatchNormalization, Dense, Residual
from vgp_native.models import Sequential


@functools.cache
def seed_moons() -> tuple[np.ndarray, np.ndarray]:
    """The seed's training data: make_moons(250, noise=0.05, random_state=42), 80%."""
    x, y = make_moons(n_samples=250, noise=0.05, random_state=42)
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.2, random_state=42)
    return x_train, y_train


def seed_network(
    seed: int = 0,
    kind: str = "plain",
    activation: str = "sigmoid",
    init: object = "glorot_uniform",
    depth: int = 8,
    width: int = 10,
    optimizer: object = "adam",
) -> Sequential:
    """``depth`` hidden layers of ``width`` units and a sigmoid output, on 2 inputs.

    ``kind``: "plain" (the seed's network with the defaults), "batchnorm"
    (Dense -> BatchNormalization -> Activation) or "residual" (a Dense, then
    ``depth - 1`` residual blocks of one Dense each).
    """
    model = Sequential(seed=seed)
    inner = None if kind == "batchnorm" else activation
    for i in range(depth):
        first = 2 if i == 0 else None
        dense = Dense(width, activation=inner, kernel_initializer=init, input_dim=first)
        if kind == "batchnorm":
            model.add(dense)
            model.add(BatchNormalization())
            model.add(Activation(activation))
        else:
            model.add(Residual([dense]) if kind == "residual" and i > 0 else dense)
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model
