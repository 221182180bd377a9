"""Jupyter: a notebook executed in a real kernel shows rich HTML, figures once, Keras-like fit.

The notebook is built with nbformat in a temporary directory and run with nbclient
(skipped when nbclient, nbformat or ipykernel is missing). Its outputs' mime types
are what a reader sees: text/html for a report, a model and sweep results; one
image/png per figure for ``report.plot()`` and no text/plain repr of a dict of
figures; for ``fit(verbose=1)`` one line per epoch and a bar updated in place.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import vgp_native

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EPOCHS = 3

CELLS = [
    # 0: a small seed-like network trained with the gradient-flow callback.
    """
%matplotlib inline
import vgp_native as vn
from vgp_native.models import Sequential
from vgp_native.layers import Dense
from vgp_native.datasets import make_moons

X, y = make_moons(n_samples=120, noise=0.05, random_state=0)
model = Sequential(seed=0)
model.add(Dense(6, activation="sigmoid", input_dim=2))
model.add(Dense(6, activation="sigmoid"))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
flow = vn.callbacks.GradientFlow(track_weights=True)
model.fit(X, y, epochs=4, batch_size=32, verbose=0, callbacks=[flow])
report = flow.report()
""",
    # 1: the report as the cell's last expression.
    "report",
    # 2: the model.
    "model",
    # 3: sweep results.
    """
from vgp_native.experiments import sweep
results = sweep({"depth": [2, 3], "activation": ["relu"]}, seeds=1, epochs=1, max_workers=1)
results
""",
    # 4: the report's figures.
    "report.plot()",
    # 5: fit with the Keras-like progress.
    f"history = model.fit(X, y, epochs={EPOCHS}, batch_size=32, verbose=1)",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> list:
    """The notebook's cells after a run in a fresh kernel (the package on its path)."""
    tmp = tmp_path_factory.mktemp("notebook")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.strip()) for src in CELLS]
    path = tmp / "check.ipynb"
    nbformat.write(nb, path)
    package_root = str(Path(vgp_native.__file__).resolve().parent.parent)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = package_root + (os.pathsep + old if old else "")
    try:
        client = nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp)}}
        )
        client.execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return nb.cells


def _mimes(cell) -> list[set[str]]:
    return [set(out.get("data", {})) for out in cell.outputs if "data" in out]


def test_report_model_and_sweep_display_as_html(executed) -> None:
    for index, marker in ((1, "Gradient-flow report"), (2, "Layer (type)"), (3, "Sweep results")):
        outputs = [out for out in executed[index].outputs if out.output_type == "execute_result"]
        assert len(outputs) == 1, executed[index].outputs
        html = outputs[0]["data"]["text/html"]
        assert marker in html and 'class="vgp-native"' in html
        # Self-contained: no script, no external file.
        assert "<script" not in html and 'src="http' not in html and "href=" not in html
    report_html = executed[1].outputs[0]["data"]["text/html"]
    assert report_html.count("data:image/png;base64,") >= 4
    assert "<table" in executed[3].outputs[0]["data"]["text/html"]


def test_report_plot_shows_each_figure_once_and_no_dict_repr(executed) -> None:
    cell = executed[4]
    assert not [out for out in cell.outputs if out.output_type == "execute_result"]
    images = [m for m in _mimes(cell) if "image/png" in m]
    # The report of a 4-epoch run with tracked weights: norms, signal, heatmap, curves,
    # weights, activations, Jacobian, mean-field prediction.
    assert len(images) == 8, _mimes(cell)
    texts = [out["data"].get("text/plain", "") for out in cell.outputs if "data" in out]
    texts += [out.get("text", "") for out in cell.outputs if out.output_type == "stream"]
    assert not any("{'gradient_norms'" in t or "'signal_norms':" in t for t in texts)


def test_fit_verbose_reads_like_keras(executed) -> None:
    cell = executed[5]
    lines = "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")
    epoch_lines = [line for line in lines.splitlines() if line.startswith("Epoch ")]
    assert len(epoch_lines) == EPOCHS
    assert all(" - loss: " in line and "/step" in line for line in epoch_lines)
    assert epoch_lines[-1].startswith(f"Epoch {EPOCHS}/{EPOCHS} ")
    bars = [out for out in cell.outputs if out.output_type == "display_data"]
    # One bar, shown once: its updates replaced it in place (no new output per epoch).
    assert len(bars) == 1
    shown = bars[0]["data"]["text/plain"]
    assert shown.startswith(f"Epoch {EPOCHS}/{EPOCHS} ") and "━" * 30 in shown
