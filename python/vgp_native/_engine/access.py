"""What the rest of the package asks of a model's native side, through its public API.

``flow`` (reports, probes, Jacobians) and ``models`` itself call these with a
``Sequential``: they read only its public attributes (``layers``, ``built``,
``compiled``, ``input_dim``, ``dtype``, ``loss``, ``optimizer``, ``metrics``,
``engine``) and its ``build``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .data import prepare_x, prepare_y

__all__ = ["check_compiled", "native_network", "prepare_inputs", "prepare_targets"]


def check_compiled(model: Any, what: str) -> None:
    """A ValueError naming ``what()`` when ``model`` is not compiled."""
    if not model.compiled:
        raise ValueError(
            f"You must call compile() before {what}(), e.g. "
            "model.compile(loss='binary_crossentropy', optimizer='adam')"
        )


def native_network(model: Any, input_dim: int) -> Any:
    """The model's native network for inputs of width ``input_dim``.

    Builds the model for that width when it is not built yet, and the network
    when it has none (the model must be compiled).
    """
    if not model.built:
        model.build(input_dim)
    elif input_dim != model.input_dim:
        raise ValueError(
            f"Model '{model.name}' expects inputs of width {model.input_dim}, received {input_dim}"
        )
    engine = model.engine
    if engine.net is None:
        engine.attach(model.layers, model.input_dim, model.loss, model.optimizer, model.metrics)
    return engine.net


def prepare_inputs(model: Any, x: Any, name: str = "x") -> np.ndarray:
    """``x`` checked and converted for ``model`` (see ``data.prepare_x``)."""
    return prepare_x(x, model.dtype, model.input_dim, model.name, name)


def prepare_targets(model: Any, y: Any, n: int, name: str = "y") -> np.ndarray:
    """``y`` checked against ``model``'s loss and output width (see ``data.prepare_y``)."""
    return prepare_y(y, n, model.dtype, model.loss, model.layers[-1].output_dim, name)
