"""``GradientFlowReport``: the verdict, per-layer table, findings, Jacobian and theory.

A report is built from recorded statistics: ``GradientFlow().report()`` over a
training run, or ``analyze(model, X, y)`` at the current weights (one probe
record). Over a run, the overall verdict is the most severe condition seen in
any record (non-finite > exploding > vanishing > dead > saturated > healthy);
the per-layer table, ``grad_ratio`` and ``signal_ratio`` are those of the
*focus* record, the first record showing that verdict (the last record when
healthy), so the table always shows the evidence for the verdict. The
findings say in which epochs each condition was seen.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from .._atomic import atomic_write_text
from .._engine import check_compiled, native_network, prepare_inputs, prepare_targets
from .._validation import check_int
from ..plots import report_figures
from ..report_html import save_html
from .decay import theory_comparison
from .diagnosis import Evidence, Finding, chance_loss, diagnose
from .history import FIELDS, FlowHistory, RowInfo, locate_nonfinite, update_ratios
from .jacobian import jacobian_report
from .layout import model_structure, row_infos
from .probe import probe_record, sample_rows
from .table import format_report
from .verdicts import RecordVerdicts, Thresholds, judge

__all__ = ["LAYER_KEYS", "GradientFlowReport", "analyze", "json_safe"]

#: Keys of each per-layer row of ``to_dict()["layers"]`` (DESIGN.md).
LAYER_KEYS: tuple[str, ...] = (
    "name",
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
    "nonfinite",
    "verdict",
)


def json_safe(value: Any) -> Any:
    """``value`` with only JSON types: NaN becomes None (``null``), +/-inf the
    strings ``"Infinity"`` / ``"-Infinity"``, numpy scalars and arrays Python
    numbers and lists, tuples lists."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    return value


class GradientFlowReport:
    """Where the gradient dies, why, and which remedy fixes it.

    Attributes:
        verdict: the overall verdict: "healthy", "saturated", "dead", "vanishing",
            "exploding" or "non-finite" (the most severe seen in any record).
        layers: one dict per layer that owns a kernel, keys ``LAYER_KEYS``, at the
            focus record. ``update_ratio`` is ``||dW|| / ||W||`` per step (at
            epoch 0 or for ``analyze``: the first step a fresh optimizer takes).
        grad_ratio: first row's kernel-gradient norm over the last row's.
        signal_ratio: signal norm at the first hidden row over the last hidden row.
        findings: plain-language sentences, each with evidence and remedy.
        finding_details: the same as ``Finding`` objects (kind, evidence,
            remedy, epochs, layers).
        jacobian: ``jacobian.jacobian_report`` at the model's current weights
            (empty without a model).
        theory: ``decay.theory_comparison`` at the first record, or None when
            mean-field theory does not apply.
        history: the ``FlowHistory`` of a run, None for ``analyze``.
        data: the statistics the report was built from: ``history``, or for
            ``analyze`` a one-record ``FlowHistory`` of the probe (epoch 0).
        thresholds: the ``Thresholds`` used.
        rows: ``RowInfo`` per layer row.
        record, epoch, batch: index, epoch and batch of the focus record.
        record_verdicts: ``(records,)`` verdict of each record.
        grad_ratios, signal_ratios: ``(records,)`` ratios of each record.
        final_loss: last epoch's training loss (a run) or the probe loss (analyze).
        chance: loss of predicting the label frequencies (None if unknown).
    """

    def __init__(
        self,
        data: FlowHistory,
        *,
        history: FlowHistory | None,
        thresholds: Thresholds,
        jacobian: dict[str, Any],
    ) -> None:
        self.history = history
        self.data = data
        self.thresholds = thresholds
        self.rows: list[RowInfo] = list(data.rows)
        self.jacobian = jacobian
        v: RecordVerdicts = judge(
            data.field,
            data.update_ratio,
            [r.activation for r in self.rows],
            thresholds,
            data.loss_name,
        )
        self._verdicts = v
        self.verdict = v.overall()
        hits = np.flatnonzero(v.record == self.verdict)
        self.record = int(hits[0]) if self.verdict != "healthy" else len(v.record) - 1
        self.epoch = int(data.epoch[self.record])
        self.batch = int(data.batch[self.record])
        self.record_verdicts = v.record
        self.grad_ratios = v.grad_ratio
        self.signal_ratios = v.signal_ratio
        self.grad_ratio = float(v.grad_ratio[self.record])
        self.signal_ratio = float(v.signal_ratio[self.record])
        self.layers = self._layer_rows(data, v)
        losses = data.epoch_losses
        self.final_loss = float(losses[-1] if losses.size else data.loss[-1])
        self.chance = chance_loss(data.loss_name, data.sample_y)
        self.theory = theory_comparison(
            self.rows, data.structure, data.field("grad_norm")[0], data.field("signal_norm")[0]
        )
        evidence = Evidence(
            rows=self.rows,
            field=data.field,
            update_ratio=data.update_ratio,
            verdicts=v,
            epoch=data.epoch,
            thresholds=thresholds,
            optimizer=data.optimizer,
            epoch_losses=losses,
            chance=self.chance,
            theory=self.theory,
            first_nonfinite=data.first_nonfinite,
            snapshot=history is None,
        )
        self.finding_details: list[Finding] = diagnose(evidence)
        self.findings = [str(f) for f in self.finding_details]

    def _layer_rows(self, data: FlowHistory, v: RecordVerdicts) -> list[dict[str, Any]]:
        r = self.record
        f = {name: data.field(name)[r] for name in FIELDS}
        nonfinite = f["grad_nonfinite"] + f["signal_nonfinite"] + f["act_nonfinite"]
        out = []
        for k, row in enumerate(self.rows):
            values = {key: float(f[key][k]) for key in LAYER_KEYS[1:-3] if key != "update_ratio"}
            out.append(
                {"name": row.name}
                | values
                | {"update_ratio": float(data.update_ratio[r, k])}
                | {
                    "saturated": float(f["saturated"][k]),
                    "dead": float(f["dead"][k]),
                    "nonfinite": int(nonfinite[k]),
                    "verdict": str(v.layer[r, k]),
                }
            )
        return [{key: row[key] for key in LAYER_KEYS} for row in out]

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_history(
        cls,
        history: FlowHistory,
        model: Any = None,
        *,
        jacobian_samples: int = 64,
        **thresholds: Any,
    ) -> GradientFlowReport:
        """The report of a recorded run.

        Args:
            history: what ``GradientFlow`` recorded.
            model: the trained model; when given, the Jacobian spectra are computed
                at its current weights on ``history.sample_x``.
            jacobian_samples: inputs used for the Jacobians (0: none).
            **thresholds: ``Thresholds`` fields to override (e.g. ``vanishing=1e-4``).
        """
        if not isinstance(history, FlowHistory):
            raise TypeError(f"history must be a FlowHistory, received {type(history).__name__}")
        if history.stats.shape[0] == 0:
            raise ValueError("history holds no record")
        t = Thresholds.of(**thresholds)
        jac: dict[str, Any] = {}
        samples = check_int(jacobian_samples, "jacobian_samples", minimum=0)
        if model is not None and history.sample_x is not None and samples:
            jac = jacobian_report(model, history.sample_x, samples=samples)
        return cls(history, history=history, thresholds=t, jacobian=jac)

    # -- output --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"verdict", "layers", "grad_ratio", "signal_ratio", "findings", "jacobian"}``
        (DESIGN.md); floats may be NaN or inf (see ``to_json``)."""
        return {
            "verdict": self.verdict,
            "layers": [dict(row) for row in self.layers],
            "grad_ratio": self.grad_ratio,
            "signal_ratio": self.signal_ratio,
            "findings": list(self.findings),
            "jacobian": self.jacobian,
        }

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """``to_dict()`` as JSON text; written atomically to ``path`` when given.

        NaN is written as ``null`` and +/-inf as the strings ``"Infinity"`` and
        ``"-Infinity"`` (see ``json_safe``), so the text is valid JSON.
        """
        text = json.dumps(json_safe(self.to_dict()), indent=2, allow_nan=False)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def __str__(self) -> str:
        return format_report(self)

    def __repr__(self) -> str:
        return (
            f"<GradientFlowReport verdict={self.verdict!r} layers={len(self.layers)} "
            f"grad_ratio={self.grad_ratio:.3g} signal_ratio={self.signal_ratio:.3g}>"
        )

    def plot(self) -> Any:
        """Matplotlib figure(s) of this report (``vgp_native.plots.report_figures``)."""
        return report_figures(self)

    def save_html(self, path: str | os.PathLike[str]) -> None:
        """One self-contained HTML file with the verdict, findings, table and plots."""
        save_html(self, path)


def analyze(
    model: Any,
    X: Any,
    y: Any,
    *,
    max_samples: int = 2048,
    jacobian_samples: int = 64,
    **thresholds: Any,
) -> GradientFlowReport:
    """A report at the model's current weights, without training.

    One probe pass (``probe.probe_record``: the whole sample as one batch,
    batch normalization with batch statistics and no state change, dropout
    off) gives every statistic; the update ratios are those of the first step
    a freshly started optimizer would take. The Jacobian spectra use
    ``jacobian_samples`` inputs in inference mode.

    Args:
        model: a compiled ``Sequential``.
        X, y: data (as for ``fit``); at most ``max_samples`` rows are used, the
            same ones every time.
        max_samples: rows of ``X`` used for the probe.
        jacobian_samples: rows used for the Jacobians (0: no Jacobian).
        **thresholds: ``Thresholds`` fields to override.
    """
    max_samples = check_int(max_samples, "max_samples", minimum=1)
    jacobian_samples = check_int(jacobian_samples, "jacobian_samples", minimum=0)
    t = Thresholds.of(**thresholds)
    check_compiled(model, "analyze")
    x = prepare_inputs(model, X)
    native_network(model, x.shape[1])
    yy = prepare_targets(model, y, x.shape[0])
    x, yy = sample_rows(x, yy, max_samples)
    rec, loss = probe_record(model, x, yy)
    rows = row_infos(model)
    where = locate_nonfinite(rec[None])
    nf = len(FIELDS)
    data = FlowHistory(
        rows=rows,
        stats=rec[None, :, :nf],
        hist=rec[None, :, nf:],
        update_ratio=update_ratios(rec[None])[None],
        epoch=np.zeros(1, dtype=np.int64),
        batch=np.full(1, -1, dtype=np.int64),
        loss=np.array([loss]),
        optimizer={"class_name": type(model.optimizer).__name__, **model.optimizer.get_config()},
        loss_name=model.loss or "",
        sample_x=x,
        sample_y=yy,
        first_nonfinite=None
        if where is None
        else {
            "epoch": 0,
            "batch": -1,
            "row": where[1],
            "name": rows[where[1]].name,
            "where": where[2],
        },
        structure=model_structure(model),
    )
    jac = jacobian_report(model, x, samples=jacobian_samples)
    return GradientFlowReport(data, history=None, thresholds=t, jacobian=jac)
