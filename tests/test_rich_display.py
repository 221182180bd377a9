"""Rich display without a kernel: the HTML of a model, a report and sweep results,
report.plot()'s figure set, and the notebook progress bar's text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
import pytest

from _plotdata import seed_model, train
from vgp_native import plots
from vgp_native._summary import summary_rows
from vgp_native.callbacks.progress import (
    NotebookProgress,
    ProgressLogger,
    in_notebook,
    progress_callback,
)
from vgp_native.experiments import SweepResults, sweep
from vgp_native.layers import BatchNormalization, Dense, Residual
from vgp_native.models import Sequential

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _body(html_text: str) -> str:
    """The fragment without its style block."""
    return re.sub(r"<style>.*?</style>", "", html_text, flags=re.S)


def test_model_html_matches_the_text_summary(capsys) -> None:
    model = Sequential(seed=0)
    model.add(Dense(4, activation="relu", input_dim=2))
    model.add(Residual([Dense(4, activation="relu")]))
    model.add(BatchNormalization())
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam")
    rows, total, trainable = summary_rows(model)
    # 2*4+4, residual 4*4+4, batch norm 4*4 (4 of them moving means, 4 moving variances), 4+1.
    assert [r[3] for r in rows] == [12, 20, -1, 16, 5]
    assert (total, trainable) == (53, 45)
    body = _body(model._repr_html_())
    assert 'class="vgp-native"' in body and "<script" not in body
    for name, kind, shape, _ in rows:
        assert f"{name} ({kind})" in body and shape in body
    assert "53 (212.00 B)" in body and "45 (180.00 B)" in body and "8 (32.00 B)" in body
    model.summary()
    text = capsys.readouterr().out
    assert "Total params: 53 (212.00 B)" in text and "Non-trainable params: 8" in text


def test_report_html_is_self_contained_and_scoped() -> None:
    report = train(epochs=2).report
    text = report._repr_html_()
    assert text.startswith('<div class="vgp-native"><style>') and text.endswith("</div>")
    style = re.search(r"<style>(.*?)</style>", text, re.S).group(1)
    # Every rule is scoped to the fragment: nothing outside it is styled.
    selectors = re.findall(r"(?:^|[{}])\s*([^{}@]+)\{", style)
    assert selectors and all(s.strip().startswith(".vgp-native") for s in selectors), selectors
    body = _body(text)
    assert "<script" not in body and "http" not in body and "<html" not in body
    assert body.count("data:image/png;base64,") == len(report.plot())
    assert report.verdict in body


def test_report_plot_is_a_figure_set() -> None:
    figures = train(epochs=2).report.plot()
    assert isinstance(figures, plots.FigureSet) and isinstance(figures, dict)
    assert "gradient_norms" in figures
    assert all(isinstance(fig, plt.Figure) for fig in figures.values())


def test_sweep_results_are_a_list_shown_as_a_table() -> None:
    results = sweep({"depth": [2, 3], "activation": ["relu"]}, seeds=2, epochs=1, max_workers=1)
    assert isinstance(results, SweepResults) and isinstance(results, list)
    assert len(results) == 4 and results == list(results)
    assert json.loads(json.dumps(results)) == json.loads(json.dumps(list(results)))
    assert results[0]["depth"] == 2 and [r["seed"] for r in results] == [0, 1, 0, 1]
    summary = results.summary()
    assert len(summary) == 2
    body = _body(results._repr_html_())
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    assert len(rows) == 1 + 2  # header and one row per configuration
    assert "test acc" in rows[0] and "6ξ" in rows[0]
    for row, line in zip(summary, rows[1:], strict=True):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", line)
        assert cells[0] == str(row["depth"])
        mean, std = row["val_accuracy"], row["val_accuracy_std"]
        assert f"{mean:.2f} ± {std:.2f}" in cells
    assert "4 runs, 2 configurations" in body


def test_progress_bar_text_and_choice() -> None:
    bar = NotebookProgress(steps=8, epochs=4, width=20)
    assert bar.bar(0, 0.0, {}) == f"Epoch 0/4 {' ' * 20} 0s elapsed, 0s left"
    text = bar.bar(2, 1.5, {"loss": 0.69314, "accuracy": 0.5})
    assert text.startswith(f"Epoch 2/4 {'━' * 10}{' ' * 10} 1.5s elapsed, 1.5s left")
    assert text.endswith(" - accuracy: 0.5000 - loss: 0.6931")
    assert "left" not in bar.bar(4, 3.0, {})
    # Outside a kernel fit prints Keras' lines; verbose=0 prints nothing.
    assert not in_notebook()
    assert isinstance(progress_callback(1, 8, 4), ProgressLogger)
    assert progress_callback(0, 8, 4) is None
    model = seed_model(depth=2)
    assert "Param #" in _body(model._repr_html_())
