"""vgp_native.plots on real training runs, rendered on the Agg backend."""

from __future__ import annotations

import io
import math
import subprocess
import sys
from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import LogNorm

from _plotdata import Run, X, Y, train
from vgp_native import plots
from vgp_native.flow import HIST_BINS, analyze
from vgp_native.initializers import RandomNormal
from vgp_native.optimizers import SGD

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def seed_run() -> Run:
    return train(epochs=4)


@pytest.fixture(scope="module")
def relu_run() -> Run:
    return train(epochs=4, activation="relu", init="he_normal")


@pytest.fixture(scope="module")
def residual_run() -> Run:
    return train(epochs=2, residual=True)


def _panels(fig: plt.Figure, n: int) -> list[plt.Axes]:
    """The visible axes of a small-multiples figure, checked to be one per layer."""
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == n
    return axes


def _render(fig: plt.Figure) -> None:
    """Draw the figure to PNG bytes: everything matplotlib defers happens here."""
    fig.savefig(io.BytesIO(), format="png", dpi=40)


def test_importing_the_package_does_not_import_matplotlib() -> None:
    code = (
        "import sys, vgp_native, vgp_native.plots, vgp_native.report_html;"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plots_and_pages_share_the_package_formatter() -> None:
    from vgp_native import _format

    assert plots.num is _format.num and plots.percent is _format.percent
    assert plots.num(0.0721, 2) == "0.072"


def test_gradient_norms_overlays_one_log_line_per_model(seed_run, relu_run, residual_run) -> None:
    runs = [seed_run, relu_run, residual_run]
    fig = plots.gradient_norms([r.history for r in runs], labels=["sigmoid", "relu", "residual"])
    _render(fig)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 3
    for line, run in zip(ax.lines, runs, strict=True):
        np.testing.assert_allclose(line.get_ydata(), run.history.field("grad_norm")[0])
    # The seed's sigmoid line falls by orders of magnitude; the legend gives the ratio.
    seed = ax.lines[0].get_ydata()
    assert seed[0] < 1e-3 * seed[-1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("sigmoid (first/last ") and "e-" in legend[0]
    assert len({line.get_color() for line in ax.lines}) == 3


def test_gradient_norms_theory_line_falls_by_sqrt_chi1(seed_run) -> None:
    hist = seed_run.history
    fig = plots.gradient_norms(hist, theory={"chi1": 0.0561}, field="signal_norm")
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    predicted = ax.lines[1].get_ydata()
    np.testing.assert_allclose(predicted[:-1] / predicted[1:], math.sqrt(0.0561))
    # Anchored at the last hidden layer (row 8 of 9) of the measured line.
    assert predicted[-1] == pytest.approx(hist.field("signal_norm")[0, -2])
    assert "backpropagated signal" in ax.get_ylabel()
    # The legend's ratio is the report's signal ratio: first over last hidden layer.
    signal = hist.field("signal_norm")[0]
    ratio = plots.num(signal[0] / signal[-2], 2)
    assert ax.get_legend().get_texts()[0].get_text() == f"model (first/last hidden {ratio})"


def test_gradient_norms_reads_reports_of_runs_and_of_analyze(seed_run) -> None:
    snapshot = analyze(seed_run.model, X, Y)
    fig = plots.gradient_norms(
        [snapshot, seed_run.report], labels=["analyze", "run"], record=[0, -1]
    )
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), snapshot.data.field("grad_norm")[0])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), seed_run.history.field("grad_norm")[-1])


def test_non_finite_values_are_marked_not_dropped() -> None:
    # He-style relu with weights ~ N(0, 9) and SGD at lr 1 blows up into NaN in epoch 1.
    run = train(
        epochs=2,
        activation="relu",
        init=RandomNormal(0.0, 3.0),
        optimizer=SGD(learning_rate=1.0),
    )
    hist = run.history
    last = hist.field("grad_norm")[-1]
    assert not np.isfinite(last).all() and run.report.verdict == "non-finite"
    fig = plots.gradient_norms(hist, record=-1)
    _render(fig)
    crosses = [ln for ln in fig.axes[0].lines if ln.get_marker() == "x"]
    assert len(crosses) == 1 and len(crosses[0].get_xdata()) == int((~np.isfinite(last)).sum())
    fig = plots.heatmap(hist)
    _render(fig)
    shown = fig.axes[0].images[0].get_array()
    assert shown.mask.sum() == int((~(hist.field("grad_norm") > 0)).sum())
    fig = plots.weights_vs_epochs(hist)
    assert any("NaN/Inf" in ax.get_title() for ax in fig.axes)


def test_functions_draw_into_given_axes_and_figures(seed_run) -> None:
    fig, (left, right) = plt.subplots(1, 2)
    assert plots.gradient_norms(seed_run.history, ax=left) is fig
    assert plots.heatmap(seed_run.history, ax=right) is fig
    assert len(left.lines) == 1 and len(right.images) == 1
    target = plt.figure()
    assert plots.training_curves(seed_run.history, fig=target) is target
    assert len(target.axes) == 2
    assert plots.activation_histograms(seed_run.history, fig=target) is target
    assert len([ax for ax in target.axes if ax.get_visible()]) == len(seed_run.history.rows)


def test_gradient_norms_rejects_bad_arguments(seed_run) -> None:
    hist = seed_run.history
    with pytest.raises(ValueError, match="labels must have 2 entries"):
        plots.gradient_norms([hist, hist], labels=["one"])
    with pytest.raises(ValueError, match="unknown field 'grad'"):
        plots.gradient_norms(hist, field="grad")
    with pytest.raises(ValueError, match="record must be in"):
        plots.gradient_norms(hist, record=99)
    with pytest.raises(TypeError, match="needs a FlowHistory"):
        plots.gradient_norms(np.ones(3))


def test_heatmap_is_layers_by_records(seed_run) -> None:
    hist = seed_run.history
    fig = plots.heatmap(hist)
    _render(fig)
    ax = fig.axes[0]
    image = ax.images[0]
    assert image.get_array().shape == (len(hist.rows), hist.stats.shape[0]) == (9, 5)
    assert isinstance(image.norm, LogNorm)
    np.testing.assert_allclose(image.get_array(), hist.field("grad_norm").T)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [r.name for r in hist.rows]
    assert "log scale" in fig.axes[1].get_ylabel()  # the colour bar


def test_heatmap_ticks_epochs_of_batch_records() -> None:
    # every="batch": 7 batches per epoch of 200 samples; ticks only at epoch ends.
    hist = train(epochs=2, track=False, every="batch").history
    fig = plots.heatmap(hist)
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape == (9, 1 + 2 * 7)
    assert list(ax.get_xticks()) == [0, 7, 14]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]


def test_heatmap_linear_and_errors(seed_run) -> None:
    fig = plots.heatmap(seed_run.report, field="saturated", log=False)
    assert not isinstance(fig.axes[0].images[0].norm, LogNorm)
    with pytest.raises(TypeError, match="needs a FlowHistory"):
        plots.heatmap({"loss": [1.0]})
    hist = seed_run.history
    with pytest.raises(ValueError, match="unknown field"):
        plots.heatmap(hist, field="nope")


def test_weights_vs_epochs_draws_every_sampled_weight(seed_run) -> None:
    hist = seed_run.history
    fig = plots.weights_vs_epochs(hist)
    _render(fig)
    for i, ax in enumerate(_panels(fig, len(hist.rows))):
        tracked = hist.weights[:, i, :]
        tracked = tracked[:, np.isfinite(tracked[0])]
        assert len(ax.lines) == tracked.shape[1]
        np.testing.assert_allclose(ax.lines[0].get_ydata(), tracked[:, 0])
        np.testing.assert_allclose(ax.lines[0].get_xdata(), hist.epoch)
    assert "Adam" in fig._suptitle.get_text()


def test_weights_vs_epochs_shows_sgd_frozen_first_layer() -> None:
    # Under SGD the seed's first layer barely moves: its panel's title says so.
    hist = train(epochs=3, optimizer="sgd").history
    fig = plots.weights_vs_epochs(hist)
    moved = np.nanmean(np.abs(hist.weights[-1, 0] - hist.weights[0, 0]))
    assert moved < 1e-4
    assert plots.num(moved, 2) in fig.axes[0].get_title()


def test_weights_vs_epochs_needs_tracked_weights() -> None:
    hist = train(epochs=1, track=False).history
    with pytest.raises(ValueError, match="track_weights=True"):
        plots.weights_vs_epochs(hist)


def test_find_plateaus_rule() -> None:
    # Windows of 3: [1, .5, .3] moves; [.3, .3, .3005] moves 0.0005 <= 1% of 0.3 -> flat.
    loss = [1.0, 0.5, 0.3, 0.3, 0.3005, 0.2, 0.1, 0.1, 0.1]
    assert plots.find_plateaus(loss, rtol=0.01, window=3) == [(2, 4), (6, 8)]
    assert plots.find_plateaus([0.69] * 6, window=5) == [(0, 5)]
    assert plots.find_plateaus([1.0, math.nan, 1.0, 1.0], window=2) == [(2, 3)]
    assert plots.find_plateaus([1.0, 0.5], window=5) == []
    with pytest.raises(ValueError, match="window must be an int >= 2"):
        plots.find_plateaus(loss, window=1)


def test_training_curves_from_flow_history(seed_run) -> None:
    hist = seed_run.history
    fig = plots.training_curves(hist, plateau=(2, 4))
    _render(fig)
    loss_ax, acc_ax = fig.axes
    train_line = loss_ax.lines[0]
    # Epoch 0 is the loss at initialization, then one point per epoch.
    np.testing.assert_allclose(train_line.get_xdata(), [0, 1, 2, 3, 4])
    np.testing.assert_allclose(train_line.get_ydata()[1:], [g["loss"] for g in hist.logs])
    chance = [ln for ln in loss_ax.lines if np.allclose(ln.get_ydata(), math.log(2))]
    assert len(chance) == 1
    spans = [p for p in loss_ax.patches if p.get_label() == "loss plateau"]
    assert len(spans) == 1
    assert spans[0].get_x() == 2 and spans[0].get_width() == 2
    assert "accuracy" in acc_ax.get_ylabel()
    assert len(acc_ax.lines) == 3  # training, validation, chance


def test_training_curves_marks_the_seed_plateau_at_chance() -> None:
    # The seed network with Adam lingers near ln 2: the computed rule finds the plateau.
    hist = train(epochs=20, track=False).history
    fig = plots.training_curves(hist)
    assert "plateau" in fig.axes[0].get_title()
    _, last = plots.find_plateaus([g["loss"] for g in hist.logs])[-1]
    assert last == 19 and abs(hist.logs[-1]["loss"] - math.log(2)) < 0.01


def test_training_curves_from_keras_history_and_dict(seed_run) -> None:
    fig = plots.training_curves(seed_run.keras_history)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), [1, 2, 3, 4])
    assert any(np.allclose(ln.get_ydata(), math.log(2)) for ln in fig.axes[0].lines)
    fig = plots.training_curves({"loss": [3.0, 2.0, 1.0]})
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="no 'loss'"):
        plots.training_curves({"accuracy": [0.5]})
    with pytest.raises(TypeError, match="History returned by fit"):
        plots.training_curves(3.0)


def test_activation_histograms_have_one_bar_per_bin(seed_run) -> None:
    hist = seed_run.history
    fig = plots.activation_histograms(hist)
    _render(fig)
    for i, ax in enumerate(_panels(fig, len(hist.rows))):
        (bars,) = ax.containers
        assert len(bars) == HIST_BINS
        heights = np.array([b.get_height() for b in bars])
        np.testing.assert_allclose(heights.sum(), 1.0)
        np.testing.assert_allclose(heights, hist.hist[-1, i] / hist.hist[-1, i].sum())
        assert ax.get_xlim() == hist.rows[i].hist_range
    assert "sat" in fig.axes[0].get_title()  # sigmoid layers report their saturated fraction
    with pytest.raises(ValueError, match="record must be in"):
        plots.activation_histograms(hist, record=10)


def test_decision_boundary_predicts_the_grid_in_one_call(relu_run) -> None:
    model = relu_run.model
    calls: list[int] = []
    original = model.predict

    def counting(x, *args, **kwargs):
        calls.append(len(x))
        return original(x, *args, **kwargs)

    model.predict = counting
    try:
        fig = plots.decision_boundary(model, X, Y, resolution=50)
    finally:
        del model.predict
    assert calls == [2500, len(X)]  # the grid at once, then the points for the accuracy
    _render(fig)
    ax = fig.axes[0]
    assert len(ax.collections) >= 3  # filled contours, the points of each class
    assert ax.get_xlabel() == "input feature x₁"
    assert "accuracy" in ax.get_title()
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plots.decision_boundary(model, np.zeros((4, 3)), np.zeros(4))


def test_jacobian_spectrum_from_a_report(seed_run) -> None:
    jac = seed_run.report.jacobian
    fig = plots.jacobian_spectrum(seed_run.report)
    _render(fig)
    io_ax, layer_ax = fig.axes
    assert io_ax.get_xscale() == "log" and layer_ax.get_yscale() == "log"
    counts = sum(p.get_height() for p in io_ax.patches)
    assert counts == len(jac["input_output"]["singular_values"])
    text = io_ax.get_legend().get_title().get_text()
    assert f"isometry score: {plots.num(jac['input_output']['isometry'])}" in text
    assert f"mean σ²: {plots.num(jac['input_output']['mean_sq'])}" in text
    assert f"inputs: {jac['samples']}" in text
    names = [t.get_text() for t in layer_ax.get_xticklabels()]
    assert names == [layer["name"] for layer in jac["layers"]]


def test_jacobian_spectrum_from_arrays() -> None:
    fig = plots.jacobian_spectrum(np.array([0.5, 1.0, 2.0]))
    assert sum(p.get_height() for p in fig.axes[0].patches) == 3
    # mean σ² = (0.25 + 1 + 4) / 3 = 1.75; std of ln σ = ln 2 * sqrt(2/3) = 0.566.
    summary = plots.jacobian_summary(np.array([0.5, 1.0, 2.0]))
    assert summary["mean_sq"] == pytest.approx(1.75)
    assert summary["log_std"] == pytest.approx(math.log(2) * math.sqrt(2 / 3))
    layers = [{"name": f"dense_{i}", "singular_values": [0.1, 0.2, 0.3]} for i in range(3)]
    fig = plots.jacobian_spectrum({"layers": layers})
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes) == 1
    with pytest.raises(ValueError, match="empty"):
        plots.jacobian_spectrum(np.array([]))


def test_predicted_vs_measured(seed_run) -> None:
    rep = seed_run.report
    chi1 = rep.theory["chi1"]
    assert chi1 == pytest.approx(0.056, abs=0.005)  # sigmoid + Glorot (DESIGN.md)
    fig = plots.predicted_vs_measured(rep)
    _render(fig)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    grad, signal, predicted = ax.lines
    np.testing.assert_allclose(
        predicted.get_ydata()[:-1] / predicted.get_ydata()[1:], math.sqrt(chi1)
    )
    assert grad.get_ydata()[-2] == pytest.approx(1.0)  # relative to the last hidden layer
    np.testing.assert_allclose(
        signal.get_ydata(), rep.data.field("signal_norm")[0] / rep.data.field("signal_norm")[0, -2]
    )
    text = ax.texts[0].get_text()
    assert f"{math.sqrt(chi1):.3g}" in text
    assert f"{rep.theory['measured_grad_factor']:.3g}" in text


def test_predicted_vs_measured_needs_theory(residual_run) -> None:
    assert residual_run.report.theory is None  # mean-field theory has no residual blocks
    with pytest.raises(ValueError, match=r"report\.theory"):
        plots.predicted_vs_measured(residual_run.report)


def test_report_figures_skip_what_has_no_data(seed_run, residual_run) -> None:
    figures = seed_run.report.plot()  # GradientFlowReport.plot calls plots.report_figures
    assert list(figures) == [
        "gradient_norms",
        "signal_norms",
        "heatmap",
        "training_curves",
        "weights_vs_epochs",
        "activation_histograms",
        "jacobian_spectrum",
        "predicted_vs_measured",
    ]
    assert all(isinstance(f, plt.Figure) for f in figures.values())
    # Initialization and the last epoch overlaid; the mean-field line goes with the
    # signal norms, the quantity it predicts.
    assert len(figures["gradient_norms"].axes[0].lines) == 2
    assert len(figures["signal_norms"].axes[0].lines) == 3
    plt.close("all")
    # analyze(): one probe record, no epochs; a residual network: no theory.
    snapshot = plots.report_figures(analyze(residual_run.model, X, Y))
    assert list(snapshot) == [
        "gradient_norms",
        "signal_norms",
        "activation_histograms",
        "jacobian_spectrum",
    ]
    assert len(snapshot["gradient_norms"].axes[0].lines) == 1


def test_compare_keeps_one_colour_per_configuration(seed_run, relu_run) -> None:
    fig = plots.compare([seed_run.report, relu_run.history], ["sigmoid", "relu + he"])
    _render(fig)
    grads, signals, losses = fig.axes
    assert grads.get_yscale() == signals.get_yscale() == "log"
    for ax in (grads, signals):
        assert [ln.get_color() for ln in ax.lines] == list(plots.PALETTE[:2])
    assert [ln.get_color() for ln in losses.lines[:2]] == list(plots.PALETTE[:2])
    chance = seed_run.report.chance
    assert any(np.allclose(ln.get_ydata(), chance) for ln in losses.lines)
