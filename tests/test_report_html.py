"""vgp_native.report_html: one self-contained, escaped, atomically written HTML file."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import matplotlib
import matplotlib.pyplot as plt
import pytest

from _plotdata import X, Y, train
from vgp_native import plots, report_html
from vgp_native.flow import analyze

matplotlib.use("Agg")

_VOID = {"meta", "img", "br", "hr", "link", "input"}


class _Checker(HTMLParser):
    """Collects tags, checks that every non-void element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.imgs: list[str] = []
        self.tags: list[str] = []
        self.cells: list[str] = []
        self._in_td = False

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs)["src"])
        if tag not in _VOID:
            self.stack.append(tag)
        self._in_td = self._in_td or tag == "td"  # a cell's text may sit in a span

    def handle_endtag(self, tag) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()
        if tag == "td":
            self._in_td = False

    def handle_data(self, data) -> None:
        if self._in_td:
            self.cells.append(data)


def _parse(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    assert plt.get_fignums() == []  # the HTML path closes every figure it makes
    plt.close("all")


@pytest.fixture(scope="module")
def seed_report():
    return train(epochs=3).report


@pytest.fixture(scope="module")
def relu_snapshot():
    """A one-shot report (analyze) of a relu + He network after two epochs."""
    run = train(epochs=2, track=False, activation="relu", init="he_normal")
    return analyze(run.model, X, Y)


def _no_external_urls(text: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert "<script" not in text.lower()


def test_save_html_holds_everything_and_writes_atomically(seed_report, tmp_path) -> None:
    path = tmp_path / "report.html"
    # GradientFlowReport.save_html calls report_html.save_html.
    seed_report.save_html(path)
    assert os.listdir(tmp_path) == ["report.html"]  # no temporary file left behind
    text = path.read_text(encoding="utf-8")
    parsed = _parse(text)
    # Every figure of report_figures: gradient and signal norms, heatmap, training
    # curves, weights, activation histograms, Jacobian spectrum, predicted vs measured.
    assert len(parsed.imgs) == 8
    assert all(src.startswith("data:image/png;base64,") for src in parsed.imgs)
    _no_external_urls(text)
    assert "<title>Gradient-flow report</title>" in text
    # Verdict badge, every finding (escaped), every layer name in the table.
    assert seed_report.verdict == "vanishing"
    assert re.search(r'class="badge" style="background:#0072B2">vanishing</span>', text)
    for finding in seed_report.finding_details:
        assert html.escape(finding.evidence) in text
    for row in seed_report.layers:
        assert f'<td class="name">{row["name"]}</td>' in text
    # Engineering notation of the first layer's gradient norm, the theory and the Jacobian.
    assert plots.num(seed_report.layers[0]["grad_norm"]) in parsed.cells
    assert plots.num(seed_report.theory["chi1"]) in parsed.cells
    isometry = seed_report.jacobian["input_output"]["isometry"]
    assert plots.num(isometry) in parsed.cells
    assert "Adam" in parsed.cells  # the optimizer of the run


def test_render_html_escapes_text(seed_report, monkeypatch) -> None:
    monkeypatch.setattr(plots, "report_figures", lambda report: {})
    monkeypatch.setattr(seed_report, "finding_details", [])
    monkeypatch.setattr(seed_report, "findings", ["<script>alert(1)</script> & more"])
    text = report_html.render_html(seed_report, title="Seed <network>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text
    assert "<title>Seed &lt;network&gt;</title>" in text
    _no_external_urls(text)
    _parse(text)


def test_snapshot_with_extra_figures(relu_snapshot) -> None:
    extra, ax = plt.subplots()
    ax.plot([1, 2, 3])
    text = report_html.render_html(relu_snapshot, extra_figures={"my <plot>": extra})
    parsed = _parse(text)
    # Gradient norms, signal norms, activation histograms, Jacobian spectrum,
    # predicted vs measured (relu + He is a plain network), and the extra figure.
    assert len(parsed.imgs) == 6
    assert "my &lt;plot&gt;" in text
    assert "one-shot analysis" in text
    assert plt.get_fignums() == [extra.number]  # the caller's figure stays open
    plt.close(extra)
    with pytest.raises(TypeError, match="extra_figures"):
        report_html.render_html(relu_snapshot, extra_figures=3)


def test_save_html_failure_leaves_the_old_file_and_no_temp(
    seed_report, tmp_path, monkeypatch
) -> None:
    path = tmp_path / "report.html"
    path.write_text("old", encoding="utf-8")
    monkeypatch.setattr(plots, "report_figures", lambda report: {})

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        report_html.save_html(seed_report, path)
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["report.html"]


def test_save_comparison_html(seed_report, relu_snapshot, tmp_path) -> None:
    path = tmp_path / "compare.html"
    labels = ["sigmoid (seed)", "relu + he_normal"]
    assert report_html.save_comparison_html([seed_report, relu_snapshot], labels, path) == str(path)
    assert os.listdir(tmp_path) == ["compare.html"]
    text = path.read_text(encoding="utf-8")
    parsed = _parse(text)
    # The overlay, then each report's own figures.
    assert len(parsed.imgs) == 1 + 8 + 5
    _no_external_urls(text)
    for label in labels:
        assert text.count(f'<td class="name">{label}</td>') == 1  # summary table row
        assert f"<h2>{label}</h2>" in text
    assert f">{relu_snapshot.verdict}</span>" in text and ">vanishing</span>" in text
    assert plots.percent(seed_report.history.logs[-1]["accuracy"]) in parsed.cells
    with pytest.raises(ValueError, match="equally long"):
        report_html.render_comparison_html([seed_report], labels)


def test_page_fits_a_phone(seed_report) -> None:
    # What a 390 px screen needs and a test can see: the viewport tag, every table in
    # a box that scrolls sideways, numbers that never break, figures that shrink,
    # captions in words and human column headers.
    text = report_html.render_html(seed_report)
    parsed = _parse(text)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    css = re.search(r"<style>(.*?)</style>", text, re.S).group(1)
    assert re.search(r"\.table-wrap\{[^}]*overflow-x:auto", css)
    assert re.search(r"\.num[^{]*\{[^}]*white-space:nowrap", css)
    assert re.search(r"figure img\{[^}]*max-width:100%", css)
    assert "@media (max-width:600px)" in css
    assert parsed.tags.count("table") == text.count('<div class="table-wrap"><table')
    # Every per-layer number sits in a cell or span that does not wrap.
    grad = plots.num(seed_report.layers[0]["grad_norm"])
    assert f'<td class="num">{html.escape(grad)}</td>' in text
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", text)
    assert captions and all(" " in c and not c.endswith(".png") for c in captions)
    headers = re.findall(r"<th[^>]*>(.*?)</th>", text)
    assert not [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", h)]
    assert "isometry score" in headers and "std of ln σ" in headers
    for kind in ("verdict", "findings", "layers", "theory", "jacobian", "figures"):
        assert f'<section class="{kind}">' in text
