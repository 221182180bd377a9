"""``GradientFlowReport``: the verdict, per-layer table, findings, Jacobian and theory.

A report is built from recorded statistics: ``GradientFlow().report()`` over a
training run, or ``analyze(model, X, y)`` at the current weights (one probe
record). A run's verdict has two parts (``parts``): ``initial_verdict``, the
network as initialized, and ``training_verdict``, the most severe condition
that persisted through training; ``verdict`` is the more severe of the two
(non-finite > exploding > vanishing > dead > saturated > healthy), and
``events`` lists the conditions seen in some records that neither part
reports. The per-layer table, ``grad_ratio`` and ``signal_ratio`` are those
of the *focus* record, where the headline's evidence is (the probe when the
initial part decides it), so the table always shows the evidence for the
verdict. The findings say in which epochs each condition was seen.
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
from ..report_html import render_fragment, save_html
from .decay import theory_comparison
from .diagnosis import Evidence, Finding, chance_loss, diagnose
from .history import FIELDS, FlowHistory, RowInfo, aggregate, locate_nonfinite, update_ratios
from .jacobian import jacobian_report
from .layout import model_structure, row_infos
from .parts import reason, split_verdicts
from .probe import mode_comparison, probe_record, sample_rows
from .table import format_report
from .thresholds import DepthContext, Thresholds
from .verdicts import RecordVerdicts, judge

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
        verdict: the headline: "healthy", "saturated", "dead", "vanishing",
            "exploding" or "non-finite", the more severe of the two parts.
        initial_verdict: the network as initialized (the probe before the first update).
        training_verdict: the most severe condition present in at least half of the
            last 10 training records ("healthy" when none is).
        events: ``{"verdict", "first_epoch", "last_epoch", "records", "layers"}`` of
            the conditions seen in some records that neither part reports.
        initial_reason, training_reason: the statistic that decided each part,
            e.g. ``"signal 1.4e-06 at dense_1"`` (empty when healthy).
        modes: for a batch-normalized model, ``{"metric", "train_loss",
            "train_metric", "infer_loss", "infer_metric", "samples"}`` on the same
            data in training mode (batch statistics) and inference mode (moving
            statistics) at the model's current weights; None otherwise.
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
        parts: the ``parts.VerdictParts`` (window, focus, training record).
        record_verdicts: ``(records,)`` verdict of each record.
        grad_ratios, signal_ratios: ``(records,)`` ratios of each record.
        signal_factors: ``(records,)`` per-layer factor of the signal on its way to the
            input, ``signal_ratio ** (1 / (hidden - 1))``.
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
        initial: np.ndarray | None = None,
        modes: dict[str, Any] | None = None,
    ) -> None:
        self.history = history
        self.data = data
        self.thresholds = thresholds
        self.rows: list[RowInfo] = list(data.rows)
        self.jacobian = jacobian
        self.modes = modes
        self.theory = theory_comparison(
            self.rows, data.structure, data.field("grad_norm")[0], data.field("signal_norm")[0]
        )
        snapshot = history is None
        v: RecordVerdicts = judge(
            data.field,
            data.update_ratio,
            self.rows,
            thresholds,
            data.loss_name,
            initial=data.epoch == 0 if initial is None else initial,
            depth=DepthContext.of(data.structure, self.theory, self.rows),
        )
        self._verdicts = v
        losses = data.epoch_losses
        self.chance = chance_loss(data.loss_name, data.sample_y)
        tail = losses[-thresholds.window :]
        learned = bool(
            self.chance
            and tail.size
            and np.isfinite(tail).all()
            and tail.mean() < 0.5 * self.chance
        )
        parts = split_verdicts(
            v, data.epoch, self.rows, thresholds, snapshot=snapshot, learned=learned
        )
        self.parts = parts
        self.initial_verdict = parts.initial
        self.training_verdict = parts.training
        self.verdict = parts.headline
        self.events = parts.events
        self.initial_reason = reason(v, 0, parts.initial, data.field, self.rows, thresholds)
        self.training_reason = reason(
            v, parts.training_record, parts.training, data.field, self.rows, thresholds
        )
        self.record = parts.focus
        self.epoch = int(data.epoch[self.record])
        self.batch = int(data.batch[self.record])
        self.record_verdicts = v.record
        self.grad_ratios = v.grad_ratio
        self.signal_ratios = v.signal_ratio
        self.signal_factors = v.signal_factor
        self.grad_ratio = float(v.grad_ratio[self.record])
        self.signal_ratio = float(v.signal_ratio[self.record])
        self.layers = self._layer_rows(data, v)
        self.final_loss = float(losses[-1] if losses.size else data.loss[-1])
        evidence = Evidence(
            rows=self.rows,
            field=data.field,
            update_ratio=data.update_ratio,
            verdicts=v,
            parts=parts,
            epoch=data.epoch,
            thresholds=thresholds,
            optimizer=data.optimizer,
            epoch_losses=losses,
            chance=self.chance,
            theory=self.theory,
            first_nonfinite=data.first_nonfinite,
            structure=data.structure,
            modes=modes,
            snapshot=snapshot,
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
        modes = None
        if model is not None and history.sample_x is not None:
            if samples:
                jac = jacobian_report(model, history.sample_x, samples=samples)
            if history.structure.get("batchnorm"):
                modes = mode_comparison(
                    model, history.sample_x, history.sample_y, history.batch_size
                )
        return cls(history, history=history, thresholds=t, jacobian=jac, modes=modes)

    # -- output --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"verdict", "initial_verdict", "training_verdict", "events", "layers",
        "grad_ratio", "signal_ratio", "findings", "jacobian"}`` (DESIGN.md); floats
        may be NaN or inf (see ``to_json``)."""
        return {
            "verdict": self.verdict,
            "initial_verdict": self.initial_verdict,
            "training_verdict": self.training_verdict,
            "events": [dict(e, layers=list(e["layers"])) for e in self.events],
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
            f"<GradientFlowReport verdict={self.verdict!r} "
            f"initial_verdict={self.initial_verdict!r} "
            f"training_verdict={self.training_verdict!r} layers={len(self.layers)} "
            f"grad_ratio={self.grad_ratio:.3g} signal_ratio={self.signal_ratio:.3g}>"
        )

    def plot(self) -> Any:
        """Figures by name (``plots.report_figures``); a notebook shows each once, no repr."""
        return report_figures(self)

    def _repr_html_(self) -> str:
        """The HTML report's content for Jupyter: inline, self-contained (figures embedded)."""
        return render_fragment(self)

    def save_html(self, path: str | os.PathLike[str]) -> None:
        """One self-contained HTML file with the verdict, findings, table and plots."""
        save_html(self, path)


def analyze(
    model: Any,
    X: Any,
    y: Any,
    *,
    batch_size: int = 32,
    max_samples: int = 2048,
    jacobian_samples: int = 64,
    **thresholds: Any,
) -> GradientFlowReport:
    """A report at the model's current weights, without training.

    The probe (``probe.probe_record``: the sample shuffled once and cut into
    batches of ``batch_size`` rows, one forward/backward pass each, batch
    normalization with batch statistics and no state change, dropout off)
    gives every statistic, averaged over the batches as an epoch's are; the
    update ratios are those of the first step a freshly started optimizer
    would take. The Jacobian spectra use ``jacobian_samples`` inputs in
    inference mode. The three verdicts are the snapshot's; a model that has
    not been trained yet is judged as an initialization (with the depth
    criterion of ``flow.verdicts``).

    Args:
        model: a compiled ``Sequential``.
        X, y: data (as for ``fit``); at most ``max_samples`` rows are used, the
            same ones every time.
        batch_size: rows per probe batch (as ``fit``'s; 32).
        max_samples: rows of ``X`` used for the probe.
        jacobian_samples: rows used for the Jacobians (0: no Jacobian).
        **thresholds: ``Thresholds`` fields to override.
    """
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    max_samples = check_int(max_samples, "max_samples", minimum=1)
    jacobian_samples = check_int(jacobian_samples, "jacobian_samples", minimum=0)
    t = Thresholds.of(**thresholds)
    check_compiled(model, "analyze")
    x = prepare_inputs(model, X)
    native_network(model, x.shape[1])
    yy = prepare_targets(model, y, x.shape[0])
    x, yy = sample_rows(x, yy, max_samples)
    batches, losses = probe_record(model, x, yy, batch_size)
    rows = row_infos(model)
    where = locate_nonfinite(batches)
    structure = model_structure(model)
    nf = len(FIELDS)
    rec = aggregate(batches)
    data = FlowHistory(
        rows=rows,
        stats=rec[None, :, :nf],
        hist=rec[None, :, nf:],
        update_ratio=update_ratios(batches)[None],
        epoch=np.zeros(1, dtype=np.int64),
        batch=np.full(1, -1, dtype=np.int64),
        loss=np.array([losses.mean()]),
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
        structure=structure,
        batch_size=batch_size,
    )
    jac = jacobian_report(model, x, samples=jacobian_samples)
    modes = mode_comparison(model, x, yy, batch_size) if structure.get("batchnorm") else None
    return GradientFlowReport(
        data,
        history=None,
        thresholds=t,
        jacobian=jac,
        initial=np.array([model.history is None]),
        modes=modes,
    )
