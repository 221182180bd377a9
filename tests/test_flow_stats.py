"""Gradient-flow statistics against a direct numpy forward/backward in float64."""

from __future__ import annotations

import numpy as np
import pytest

from vgp_native import flow
from vgp_native.callbacks import GradientFlow
from vgp_native.flow.history import FIELDS, HIST_BINS
from vgp_native.layers import Dense
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD, Adam

RTOL = 1e-6
ACTS = ("sigmoid", "relu", "tanh", "sigmoid")
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 4.0)}


def _model(optimizer: object = "adam") -> tuple[Sequential, list[np.ndarray]]:
    """3 -> 6 sigmoid -> 5 relu -> 4 tanh -> 1 sigmoid, with weights chosen so
    that some sigmoid units saturate and some relu units are dead."""
    model = Sequential(seed=0, dtype="float64")
    model.add(Dense(6, activation="sigmoid", input_dim=3))
    model.add(Dense(5, activation="relu"))
    model.add(Dense(4, activation="tanh"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=optimizer)
    rng = np.random.default_rng(7)
    w = [
        rng.normal(0, 3.0, (3, 6)),
        rng.normal(0, 1.0, 6),
        rng.normal(0, 1.0, (6, 5)),
        np.array([0.5, -20.0, 0.1, -20.0, 0.3]),  # units 1 and 3 never switch on
        rng.normal(0, 2.0, (5, 4)),
        rng.normal(0, 0.5, 4),
        rng.normal(0, 1.0, (4, 1)),
        rng.normal(0, 0.1, 1),
    ]
    model.set_weights(w)
    return model, w


def _data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1.5, (n, 3))
    y = (rng.random(n) < 0.5).astype(np.float64)
    return x, y


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _reference(w: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Statistics of one batch, from the textbook formulas (mean binary cross-entropy)."""
    n = x.shape[0]
    kernels, biases = w[0::2], w[1::2]
    a, zs, outs = x, [], []
    for k, (kern, b) in enumerate(zip(kernels, biases, strict=True)):
        z = a @ kern + b
        act = ACTS[k]
        a = _sigmoid(z) if act == "sigmoid" else np.maximum(z, 0) if act == "relu" else np.tanh(z)
        zs.append(z)
        outs.append(a)
    p = outs[-1]
    dz = (p - y[:, None]) / n  # fused sigmoid + cross-entropy: dL/dz of the output
    signals = [dz]
    grads = [outs[-2].T @ dz]
    bias_grads = [dz.sum(0)]
    for k in range(len(kernels) - 2, -1, -1):
        da = dz @ kernels[k + 1].T
        signals.insert(0, da)
        act, out = ACTS[k], outs[k]
        if act == "sigmoid":
            deriv = out * (1 - out)
        else:
            deriv = (zs[k] > 0) if act == "relu" else 1 - out**2
        dz = da * deriv
        inp = x if k == 0 else outs[k - 1]
        grads.insert(0, inp.T @ dz)
        bias_grads.insert(0, dz.sum(0))
    ref: dict[str, list[float]] = {name: [] for name in (*FIELDS, "hist")}
    for k in range(len(kernels)):
        g, out, act = grads[k], outs[k], ACTS[k]
        ref["grad_norm"].append(np.linalg.norm(g))
        ref["grad_mean_abs"].append(np.abs(g).mean())
        ref["grad_max_abs"].append(np.abs(g).max())
        ref["weight_norm"].append(np.linalg.norm(kernels[k]))
        ref["signal_norm"].append(np.linalg.norm(signals[k]))
        ref["bias_grad_norm"].append(np.linalg.norm(bias_grads[k]))
        ref["act_mean"].append(out.mean())
        ref["act_std"].append(out.std())
        if act == "sigmoid":
            ref["saturated"].append(np.mean((out < 0.01) | (out > 0.99)))
        elif act == "tanh":
            ref["saturated"].append(np.mean(np.abs(out) > 0.99))
        else:
            ref["saturated"].append(0.0)
        ref["dead"].append(np.mean((out <= 0).all(axis=0)) if act == "relu" else 0.0)
        lo, hi = RANGES[act]
        pos = np.floor((out.ravel() - lo) * HIST_BINS / (hi - lo))
        ref["hist"].append(np.bincount(np.clip(pos, 0, HIST_BINS - 1).astype(int), minlength=20))
    out = {k: np.array(v, dtype=np.float64) for k, v in ref.items() if v}
    out["kernel_grads"] = grads  # type: ignore[assignment]
    return out


STAT_KEYS = (
    "grad_norm",
    "grad_mean_abs",
    "grad_max_abs",
    "weight_norm",
    "signal_norm",
    "bias_grad_norm",
    "act_mean",
    "act_std",
    "saturated",
    "dead",
)


def test_probe_statistics_match_numpy() -> None:
    model, w = _model()
    x, y = _data()
    batches, losses = flow.probe_record(model, x, y, batch_size=len(x))  # one batch: all of x
    assert batches.shape[0] == 1
    rec, loss = batches[0], losses[0]
    ref = _reference(w, x, y)
    for key in STAT_KEYS:
        np.testing.assert_allclose(rec[:, FIELDS.index(key)], ref[key], rtol=RTOL, err_msg=key)
    np.testing.assert_array_equal(rec[:, len(FIELDS) :], ref["hist"])
    # The weights were chosen so that the saturated and dead columns are not trivially 0.
    assert rec[0, FIELDS.index("saturated")] > 0.1
    assert rec[1, FIELDS.index("dead")] == pytest.approx(0.4)
    assert np.all(rec[:, FIELDS.index("grad_nonfinite")] == 0)
    p = _sigmoid(
        np.tanh(np.maximum(_sigmoid(x @ w[0] + w[1]) @ w[2] + w[3], 0) @ w[4] + w[5]) @ w[6] + w[7]
    )[:, 0]
    assert loss == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=RTOL)


def test_analyze_rows_match_numpy() -> None:
    model, w = _model()
    x, y = _data()
    report = flow.analyze(model, x, y, batch_size=len(x))
    ref = _reference(w, x, y)
    for key in ("grad_norm", "grad_mean_abs", "grad_max_abs", "weight_norm", "signal_norm"):
        got = [row[key] for row in report.layers]
        np.testing.assert_allclose(got, ref[key], rtol=RTOL, err_msg=key)
    assert report.grad_ratio == pytest.approx(ref["grad_norm"][0] / ref["grad_norm"][-1], rel=RTOL)
    assert report.signal_ratio == pytest.approx(
        ref["signal_norm"][0] / ref["signal_norm"][-2], rel=RTOL
    )
    assert [row["dead"] for row in report.layers][1] == pytest.approx(0.4)


def test_training_record_matches_numpy_and_sgd_step() -> None:
    """One full-batch SGD step: the epoch record is the statistics of that step,
    and the update norm is lr * ||g||."""
    lr = 0.05
    model, w = _model(SGD(learning_rate=lr))
    x, y = _data()
    gf = GradientFlow()
    model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0, callbacks=[gf])
    hist = gf.history
    ref = _reference(w, x, y)
    assert hist.epoch.tolist() == [0, 1]
    for key in STAT_KEYS:
        np.testing.assert_allclose(hist.field(key)[1], ref[key], rtol=RTOL, err_msg=key)
    np.testing.assert_array_equal(hist.hist[1], ref["hist"])
    step = lr * ref["grad_norm"]
    np.testing.assert_allclose(hist.field("update_norm")[1], step, rtol=RTOL)
    np.testing.assert_allclose(hist.update_ratio[1], step / ref["weight_norm"], rtol=RTOL)
    # The probe at epoch 0 predicts the same first step.
    np.testing.assert_allclose(hist.update_ratio[0], step / ref["weight_norm"], rtol=RTOL)


def test_first_step_prediction_follows_adam() -> None:
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    model, w = _model(Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps))
    x, y = _data()
    rec = flow.probe_record(model, x, y, batch_size=len(x))[0][0]
    ref = _reference(w, x, y)
    # Keras' Adam, first step from zero moments.
    steps = [
        lr * np.sqrt(1 - b2) / (1 - b1) * (1 - b1) * g / (np.sqrt((1 - b2) * g**2) + eps)
        for g in ref["kernel_grads"]
    ]
    want = [np.linalg.norm(s) for s in steps]
    np.testing.assert_allclose(rec[:, FIELDS.index("update_norm")], want, rtol=RTOL)


def test_batch_records_aggregate_to_epoch_record() -> None:
    x, y = _data(48)
    per_batch, per_epoch = GradientFlow(every="batch"), GradientFlow(every="epoch")
    for cb in (per_batch, per_epoch):
        model, _ = _model()
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
    hb, he = per_batch.history, per_epoch.history
    assert hb.epoch.tolist() == [0, 1, 1, 1, 2, 2, 2]
    assert hb.batch.tolist() == [-1, 0, 1, 2, 0, 1, 2]
    # An epoch record is the measurement of the epoch's first batch (the same
    # training, so the same numbers), with the epoch's mean loss.
    for e in (1, 2):
        sel = hb.epoch == e
        first = sel & (hb.batch == 0)
        for name in ("grad_norm", "grad_max_abs", "signal_norm", "saturated"):
            np.testing.assert_array_equal(he.field(name)[e], hb.field(name)[first][0])
        np.testing.assert_array_equal(he.hist[e], hb.hist[first][0])
        np.testing.assert_array_equal(he.update_ratio[e], hb.update_ratio[first][0])
        assert he.loss[e] == pytest.approx(np.mean(hb.loss[sel]))


def test_track_weights_samples_the_kernels() -> None:
    model, _ = _model()
    x, y = _data()
    gf = GradientFlow(track_weights=4)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[gf])
    weights = gf.history.weights
    assert weights.shape == (4, 4, 4)
    last = model.get_weights()[0].ravel()
    assert np.isin(weights[-1, 0], last).all()
    assert not np.array_equal(weights[0, 0], weights[-1, 0])
