"""The check every layer kind's tests (tests/layers) share: its Jacobian against finite
differences of its own map, and that map against the native network in inference mode."""

from __future__ import annotations

import numpy as np

from vgp_native.layers import Layer
from vgp_native.models import Sequential


def check_layer_map(layer: Layer, width: int, x: np.ndarray, h: float = 1e-6) -> None:
    """Build ``layer`` for ``width`` inputs (float64) and check its ``jacobian`` at ``x``
    against the native forward pass and central finite differences."""
    model = Sequential([layer], seed=3, dtype="float64")
    model.build(width)
    y, jac = layer.jacobian(x)
    # The numpy map is the native one (inference mode) ...
    np.testing.assert_allclose(y, model.predict(x, verbose=0), rtol=1e-12, atol=1e-12)
    # ... and the Jacobian is its derivative.
    fd = np.zeros_like(jac)
    for i in range(width):  # loop over input features, not samples
        e = np.zeros(width)
        e[i] = h
        fd[:, :, i] = (layer.jacobian(x + e)[0] - layer.jacobian(x - e)[0]) / (2 * h)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-8)
