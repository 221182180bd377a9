"""A diverging run from Python: no numpy warning anywhere (pytest turns every warning
into an error), and the report's findings name the divergence."""

from __future__ import annotations

import json

import numpy as np
import pytest

import vgp_native as vn
from vgp_native.datasets import make_moons
from vgp_native.flow.jacobian import jacobian_report
from vgp_native.layers import Dense
from vgp_native.models import Sequential

OPTIMIZERS = {
    "adam": vn.optimizers.Adam,
    "sgd": vn.optimizers.SGD,
    "rmsprop": vn.optimizers.RMSprop,
}


def _seed_network(optimizer: str, learning_rate: float) -> Sequential:
    model = Sequential(seed=0)
    model.add(Dense(10, activation="sigmoid", input_dim=2))
    for _ in range(7):
        model.add(Dense(10, activation="sigmoid"))
    model.add(Dense(1, activation="sigmoid"))
    opt = OPTIMIZERS[optimizer](learning_rate=learning_rate)
    model.compile(loss="binary_crossentropy", optimizer=opt, metrics=["accuracy"])
    return model


def _relu_network() -> Sequential:
    model = Sequential(seed=0)
    model.add(Dense(16, activation="relu", input_dim=2, kernel_initializer="he_normal"))
    for _ in range(3):
        model.add(Dense(16, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=vn.optimizers.SGD(learning_rate=1e6))
    return model


def _bare(text: str) -> str:
    return "".join(text.split())


def _everything_after_fit(model: Sequential, flow: vn.callbacks.GradientFlow, x, y, html_path=None):
    """What a user does with a trained model and its report (the page and its figures
    when ``html_path`` is given); returns the report."""
    report = flow.report()
    text = str(report)
    assert json.loads(report.to_json())["findings"] == report.findings
    if html_path is not None:
        report.save_html(html_path)
        assert html_path.stat().st_size > 0
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    again = vn.flow.analyze(model, x, y)
    assert str(again)
    # The text wraps each finding (a line may end in a word's hyphen).
    assert all(_bare(finding) in _bare(text) for finding in report.findings)
    return report


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_the_seed_network_at_a_huge_learning_rate(optimizer: str, tmp_path) -> None:
    x, y = make_moons(n_samples=250, noise=0.05, random_state=42)
    model = _seed_network(optimizer, 1e6)
    flow = vn.callbacks.GradientFlow()
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[flow])
    assert history.history["loss"][-1] > 1e3  # it diverged
    # The page's figures of one of them (about 2 s each).
    html = tmp_path / "report.html" if optimizer == "adam" else None
    report = _everything_after_fit(model, flow, x, y, html)
    (finding,) = [f for f in report.findings if f.startswith("[learning-rate]")]
    assert "the learning rate (1e6) is too large" in finding


def test_weights_that_overflow_to_inf_warn_nothing(tmp_path) -> None:
    # Plain SGD at 1e6 on a relu network: some kernel entries become Inf, others NaN;
    # the Jacobians multiply Inf by 0.
    x, y = make_moons(n_samples=120, noise=0.05, random_state=42)
    model = _relu_network()
    flow = vn.callbacks.GradientFlow()
    model.fit(x, y, epochs=5, verbose=0, callbacks=[flow], validation_split=0.2)
    kernels = model.get_weights()[::2]
    assert any(np.isinf(k).any() for k in kernels)
    report = _everything_after_fit(model, flow, x, y, tmp_path / "report.html")
    assert report.verdict == "non-finite"
    assert any(f.startswith("[non-finite] NaN/Inf first appeared") for f in report.findings)


def test_a_jacobian_through_an_infinite_kernel_is_nan() -> None:
    x, _ = make_moons(n_samples=40, noise=0.05, random_state=0)
    model = _seed_network("adam", 1e-3)
    model.layers[1].kernel[0, :] = np.inf  # the live view of the compiled kernel
    result = jacobian_report(model, x, samples=8)
    assert np.isnan(result["input_output"]["singular_values"]).all()
    # Layers before the infinite kernel keep finite spectra.
    assert np.isfinite(result["layers"][0]["singular_values"]).all()
    assert np.isnan(result["layers"][1]["singular_values"]).all()
