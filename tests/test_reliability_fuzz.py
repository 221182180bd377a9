"""Fuzzing the public API with hypothesis (issue 6).

Random architectures (every layer kind, nested residual blocks), dtypes,
shapes, values (zeros, subnormals, huge, NaN, Inf), containers (lists, ints,
bools, float16, Fortran order, strided views, strings, objects, complex) and
argument types, through ops, Sequential, fit / evaluate / predict,
set_weights and load_model. Every call either succeeds with a finite,
correctly shaped and correct result or raises ValueError / TypeError: never a
crash, never another exception, never a NaN or Inf from finite, valid input.

Example counts come from a hypothesis profile: ``vgp-dev`` by default
(quick), ``vgp-ci`` in CI (``VGP_FUZZ_PROFILE=vgp-ci``, derandomized so a CI
run is reproducible). ``EXAMPLES`` below lists each test's share.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from reference import ref_forward
from vgp_native import ops
from vgp_native.activations import ACTIVATIONS
from vgp_native.callbacks import TerminateOnNaN
from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Layer, Residual
from vgp_native.models import Sequential, load_model
from vgp_native.optimizers import SGD, Adam, RMSprop

settings.register_profile(
    "vgp-dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "vgp-ci",
    max_examples=500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile(os.environ.get("VGP_FUZZ_PROFILE", "vgp-dev"))

#: Each test's examples as a multiple of the profile's max_examples.
EXAMPLES = {
    "activations": 2.0,
    "losses": 1.0,
    "predict": 1.0,
    "fit": 0.6,
    "halting": 0.3,
    "arguments": 1.0,
    "data": 1.0,
    "set_weights": 1.0,
    "file_bytes": 1.0,
    "file_config": 1.0,
}


def fuzz(name: str) -> settings:
    return settings(PROFILE, max_examples=max(1, round(PROFILE.max_examples * EXAMPLES[name])))


HIDDEN = [a for a in ACTIVATIONS if a != "softmax"]
DTYPES = st.sampled_from(["float32", "float64"])
#: Lipschitz bound of each activation (for the forward error bound).
LIPSCHITZ = {"sigmoid": 0.25, "selu": 1.76, "gelu": 1.13, "swish": 1.1}
BOUNDED = {"sigmoid", "tanh", "softmax"}


def special(dtype: str) -> list[float]:
    """Zeros, subnormals, the smallest normal, and huge values that leave headroom."""
    fi = np.finfo(dtype)
    big = 1e28 if dtype == "float32" else 1e290
    sub = float(fi.smallest_subnormal)
    return [0.0, -0.0, sub, -sub, 3 * sub, float(fi.tiny), -float(fi.tiny), big, -big, 1.0]


def values(dtype: str, bound: float = 1e3, huge: bool = True) -> st.SearchStrategy[float]:
    width = 32 if dtype == "float32" else 64
    picks = [v for v in special(dtype) if huge or abs(v) <= bound]
    return st.one_of(st.floats(-bound, bound, width=width), st.sampled_from(picks))


# -- architectures --------------------------------------------------------------------------------


def layer_spec(nest: bool) -> st.SearchStrategy[tuple]:
    dense = st.tuples(st.just("dense"), st.integers(1, 6), st.sampled_from(HIDDEN), st.booleans())
    kinds = [
        dense,
        st.tuples(st.just("act"), st.sampled_from(HIDDEN)),
        st.tuples(st.just("bn"), st.sampled_from([0.0, 0.5, 0.99]), st.sampled_from([1e-3, 1e-5])),
        st.tuples(st.just("dropout"), st.sampled_from([0.0, 0.2, 0.6])),
    ]
    if nest:
        inner = st.lists(layer_spec(False), min_size=1, max_size=2)
        kinds.append(st.tuples(st.just("res"), inner, st.sampled_from(HIDDEN)))
    return st.one_of(kinds)


def build_layers(specs: list[tuple]) -> list[Layer]:
    out: list[Layer] = []
    for s in specs:
        if s[0] == "dense":
            out.append(Dense(s[1], s[2], use_bias=s[3]))
        elif s[0] == "act":
            out.append(Activation(s[1]))
        elif s[0] == "bn":
            out.append(BatchNormalization(momentum=s[1], epsilon=s[2]))
        elif s[0] == "dropout":
            out.append(Dropout(s[1]))
        else:
            out.append(Residual(build_layers(s[1]), activation=s[2]))
    return out


@st.composite
def model_configs(draw: st.DrawFn) -> dict[str, Any]:
    loss = draw(
        st.sampled_from(
            [
                "mse",
                "binary_crossentropy",
                "categorical_crossentropy",
                "sparse_categorical_crossentropy",
            ]
        )
    )
    k = 1 if loss == "binary_crossentropy" else draw(st.integers(2, 4))
    if loss == "mse":
        k = draw(st.integers(1, 3))
    out_act = {"binary_crossentropy": "sigmoid", "mse": draw(st.sampled_from(HIDDEN))}.get(
        loss, "softmax"
    )
    return {
        "dtype": draw(DTYPES),
        "d": draw(st.integers(1, 5)),
        "specs": draw(st.lists(layer_spec(True), max_size=3)),
        "loss": loss,
        "k": k,
        "out_act": out_act,
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def make_model(cfg: dict[str, Any]) -> Sequential:
    model = Sequential(seed=cfg["seed"] % 1000, dtype=cfg["dtype"])
    for layer in [*build_layers(cfg["specs"]), Dense(cfg["k"], cfg["out_act"])]:
        model.add(layer)
    model.build(cfg["d"])
    return model


def randomize_weights(model: Sequential, seed: int) -> None:
    """Weights in [-2, 2] with some zeros and subnormals; valid batch-norm statistics."""
    rng = np.random.default_rng(seed)
    new = []
    for owner, i in (slot for layer in model.layers for slot in layer.weight_slots()):
        name = owner.all_weight_names()[i]
        w = owner._weights[i]
        if name == "moving_variance":
            a = rng.uniform(0.0, 3.0, size=w.shape)
        else:
            a = rng.uniform(-2.0, 2.0, size=w.shape)
            a[rng.random(w.shape) < 0.1] = 0.0
            a[rng.random(w.shape) < 0.05] = float(np.finfo(w.dtype).smallest_subnormal)
        new.append(a.astype(w.dtype))
    model.set_weights(new)


def targets(cfg: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    k, loss = cfg["k"], cfg["loss"]
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, size=n).astype(np.float64)
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, k, size=n)
    if loss == "categorical_crossentropy":
        return np.eye(k)[rng.integers(0, k, size=n)]
    return rng.normal(size=(n, k))


# -- a float64 reference of the forward pass, with an error bound -------------------------------


def _activate(z, err, mag, act, eps):
    y = ref_forward(z, act)
    lip = LIPSCHITZ.get(act, 1.0)
    if act == "softmax":
        # Each output moves by at most the largest move of a logit in its row.
        err = np.broadcast_to(err.max(axis=1, keepdims=True), z.shape)
    err_y = lip * err + 8 * eps * np.abs(y)
    mag_y = np.ones_like(mag) if act in BOUNDED else LIPSCHITZ.get(act, 1.0) * mag + 1.0
    return y, err_y, mag_y


def _affine(a, err, mag, w, b, eps):
    k = w.shape[0]
    mag_z = mag @ np.abs(w) + (np.abs(b) if b is not None else 0.0)
    z = a @ w + (b if b is not None else 0.0)
    return z, err @ np.abs(w) + 2 * (k + 2) * eps * mag_z, mag_z


def forward_bounds(layers: list[Layer], a, err, mag, eps):
    """Inference output in float64, a bound on |model - reference| and on |values|."""
    for layer in layers:
        w = [np.asarray(v, dtype=np.float64) for v in layer._weights]
        if isinstance(layer, Dense):
            z, err, mag = _affine(a, err, mag, w[0], w[1] if layer.use_bias else None, eps)
            a, err, mag = _activate(z, err, mag, layer.activation, eps)
        elif isinstance(layer, Activation):
            a, err, mag = _activate(a, err, mag, layer.activation, eps)
        elif isinstance(layer, BatchNormalization):
            gamma, beta, mean, var = w
            s = gamma / np.sqrt(var + layer.epsilon)
            centred = np.abs(a) + np.abs(mean)
            a = (a - mean) * s + beta
            err = np.abs(s) * err + 4 * eps * (centred * np.abs(s) + np.abs(beta))
            mag = centred * np.abs(s) + np.abs(beta)
        elif isinstance(layer, Residual):
            h, err_h, mag_h = forward_bounds(layer.layers, a, err, mag, eps)
            if w:
                a, err, mag = _affine(a, err, mag, w[0], w[1], eps)
            z = a + h
            mag_z = mag + mag_h
            a, err, mag = _activate(z, err + err_h + eps * mag_z, mag_z, layer.activation, eps)
    return a, err, mag


# -- ops: any float, including NaN and Inf --------------------------------------------------------


@fuzz("activations")
@given(
    DTYPES.flatmap(
        lambda dt: st.tuples(
            st.just(dt),
            hnp.arrays(
                dt,
                st.tuples(st.integers(1, 4), st.integers(1, 5)),
                elements=st.floats(width=32 if dt == "float32" else 64),
            ),
        )
    ),
    st.sampled_from(list(ACTIVATIONS)),
)
def test_activations_over_the_whole_float_range(case, act: str) -> None:
    # NaN in, NaN out (the diagnostics rely on it); from finite input never a
    # NaN, an infinity only where the exact result is beyond the dtype's
    # range, and otherwise the reference value. Infinite inputs only must not
    # crash (their limits are conventions).
    dtype, x = case
    y = ops.activation_forward(x, act)
    assert y.shape == x.shape and y.dtype == x.dtype
    with np.errstate(all="ignore"):
        ref = ref_forward(np.where(np.isfinite(x), x, 0.0), act)
    finite_in = np.isfinite(x)
    if act == "softmax":
        rows = finite_in.all(axis=1, keepdims=True)
        assert np.all(np.isnan(y[np.isnan(x).any(axis=1)]))
        finite_in = np.broadcast_to(rows, x.shape)
    else:
        assert np.all(np.isnan(y[np.isnan(x)]))
    assert not np.any(np.isnan(y[finite_in]))
    fmax = float(np.finfo(dtype).max)
    overflow = np.abs(ref) > fmax * (1 - 1e-6)
    assert np.all(np.isfinite(y[finite_in & ~overflow]))
    assert np.all(np.isinf(y[finite_in & overflow]) | (np.abs(y[finite_in & overflow]) <= fmax))
    ok = finite_in & ~overflow
    tol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(y[ok], ref[ok], rtol=tol, atol=tol)


@fuzz("losses")
@given(
    DTYPES.flatmap(
        lambda dt: st.tuples(
            hnp.arrays(
                dt,
                st.tuples(st.integers(1, 4), st.integers(2, 4)),
                # float32: the whole range. float64: up to 1e300, because the
                # loss of a batch is a sum in double, and a few per-row losses
                # of ~1e308 add up past the largest double (a documented limit).
                elements=st.floats(allow_nan=False, allow_infinity=False, width=32)
                if dt == "float32"
                else st.floats(-1e300, 1e300),
            ),
            st.integers(0, 2**32 - 1),
        )
    )
)
def test_fused_losses_are_finite_for_any_finite_logits(case) -> None:
    # Logits of any magnitude: loss and gradient finite (the fused, stable forms).
    logits, seed = case
    rng = np.random.default_rng(seed)
    n, k = logits.shape
    labels = rng.integers(0, k, size=n)
    onehot = np.eye(k, dtype=logits.dtype)[labels]
    binary = rng.integers(0, 2, size=logits.shape).astype(logits.dtype)
    for loss, grad in (
        ops.sigmoid_binary_crossentropy(logits, binary),
        ops.softmax_categorical_crossentropy(logits, onehot),
        ops.softmax_sparse_categorical_crossentropy(logits, labels),
    ):
        assert math.isfinite(loss) and loss >= 0.0
        assert grad.shape == logits.shape and np.all(np.isfinite(grad))


# -- Sequential: predict against the reference ---------------------------------------------------


@fuzz("predict")
@given(model_configs(), st.integers(1, 8), st.data())
def test_predict_matches_a_float64_reference_for_any_finite_input(cfg, n: int, data) -> None:
    model = make_model(cfg)
    randomize_weights(model, cfg["seed"])
    dt = cfg["dtype"]
    x = data.draw(hnp.arrays(dt, (n, cfg["d"]), elements=values(dt)), label="x")
    batch_size = data.draw(st.integers(1, n + 2), label="batch_size")
    out = model.predict(x, batch_size=batch_size, verbose=0)
    assert out.shape == (n, cfg["k"]) and out.dtype == np.dtype(dt)
    eps = float(np.finfo(dt).eps)
    x64 = x.astype(np.float64)
    ref, err, mag = forward_bounds(model.layers, x64, np.zeros_like(x64), np.abs(x64), eps)
    if mag.max() < float(np.finfo(dt).max) / 64:
        # Nothing in the exact computation comes near the dtype's range, so
        # the model must stay finite and within the rounding-error bound.
        assert np.all(np.isfinite(out))
        bound = err + 4 * eps * np.abs(ref) + 64 * float(np.finfo(dt).tiny)
        assert np.all(np.abs(out - ref) <= bound), (out, ref, bound)


# -- Sequential: training ------------------------------------------------------------------------


def _optimizer(kind: str, lr: float) -> Any:
    return {
        "adam": lambda: Adam(learning_rate=lr),
        "rmsprop": lambda: RMSprop(learning_rate=lr, clipnorm=1.0),
        "sgd": lambda: SGD(learning_rate=lr, momentum=0.5, nesterov=True, clipnorm=1.0),
    }[kind]()


@fuzz("fit")
@given(
    model_configs(),
    st.integers(1, 12),
    st.sampled_from(["adam", "rmsprop", "sgd"]),
    st.floats(1e-4, 1e-2),
    st.integers(0, 3),
    st.data(),
)
def test_fit_on_valid_data_stays_finite(cfg, n: int, opt: str, lr: float, epochs: int, data):
    model = make_model(cfg)
    dt = cfg["dtype"]
    model.compile(loss=cfg["loss"], optimizer=_optimizer(opt, lr), metrics=["accuracy"])
    x = data.draw(hnp.arrays(dt, (n, cfg["d"]), elements=values(dt, huge=False)), label="x")
    y = targets(cfg, n, np.random.default_rng(cfg["seed"]))
    batch_size = data.draw(st.integers(1, n + 2), label="batch_size")
    shuffle = data.draw(st.booleans(), label="shuffle")
    split = 0.25 if n >= 4 and data.draw(st.booleans(), label="split") else 0.0
    history = model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        verbose=0,
        shuffle=shuffle,
        validation_split=split,
    )
    assert history.epoch == list(range(epochs))
    for key, series in history.history.items():
        assert len(series) == epochs and all(math.isfinite(v) for v in series), key
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    out = model.predict(x, verbose=0)
    assert out.shape == (n, cfg["k"]) and np.all(np.isfinite(out))
    loss, acc = model.evaluate(x, y, verbose=0)
    assert math.isfinite(loss) and 0.0 <= acc <= 1.0


@fuzz("halting")
@given(model_configs(), st.integers(1, 12), st.floats(1e-3, 1e3), st.data())
def test_with_terminate_on_nan_the_weights_stay_finite_whatever_the_data(cfg, n, lr, data):
    # Huge inputs and large learning rates: training may blow up, but the
    # weights TerminateOnNaN leaves are always finite.
    model = make_model(cfg)
    dt = cfg["dtype"]
    model.compile(loss=cfg["loss"], optimizer=SGD(learning_rate=lr))
    x = data.draw(hnp.arrays(dt, (n, cfg["d"]), elements=values(dt)), label="x")
    y = targets(cfg, n, np.random.default_rng(cfg["seed"]))
    with contextlib.redirect_stdout(io.StringIO()):
        history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[TerminateOnNaN()])
    assert 1 <= len(history.epoch) <= 3
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


# -- arguments and data of every type ------------------------------------------------------------

BATCH_SIZES = [None, 1, 3, 64, np.int64(2), 0, -1, 1.5, "4", True, [2]]
EPOCHS = [0, 1, 2, np.int32(1), -1, 1.0, "1", None, False]
VERBOSE = [0, "auto", 1, 2, 3, -1, "loud", 0.0, True]
SHUFFLE = [True, False, np.bool_(True), 1, None, "yes"]
SPLITS = [0.0, 0.25, 0.5, 1.0, -0.1, float("nan"), "0.2", True, 0.01]


def _valid_int(v: Any, minimum: int) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= minimum


def _valid_split(v: Any, n: int) -> bool:
    if isinstance(v, bool) or not isinstance(v, float) or not 0.0 <= v < 1.0:
        return False
    return v == 0.0 or 1 <= math.floor(n * v) < n


def _small_model(dtype: str = "float32") -> Sequential:
    model = Sequential(seed=0, dtype=dtype)
    model.add(Dense(4, "relu", input_dim=3))
    model.add(BatchNormalization())
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


@fuzz("arguments")
@given(
    st.sampled_from(BATCH_SIZES),
    st.sampled_from(EPOCHS),
    st.sampled_from(VERBOSE),
    st.sampled_from(SHUFFLE),
    st.sampled_from(SPLITS),
)
def test_fit_evaluate_predict_arguments(batch_size, epochs, verbose, shuffle, split) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 3)), rng.integers(0, 2, size=10)
    model = _small_model()
    valid_bs = batch_size is None or _valid_int(batch_size, 1)
    valid_verbose = (
        verbose == "auto" if isinstance(verbose, str) else _valid_int(verbose, 0) and verbose <= 2
    )
    valid = (
        valid_bs
        and _valid_int(epochs, 0)
        and valid_verbose
        and isinstance(shuffle, (bool, np.bool_))
        and _valid_split(split, 10)
    )
    calls = [
        (
            lambda: model.fit(
                x,
                y,
                batch_size=batch_size,
                epochs=epochs,
                verbose=verbose,
                shuffle=shuffle,
                validation_split=split,
            ),
            valid,
        ),
        (
            lambda: model.evaluate(x, y, batch_size=batch_size, verbose=verbose),
            valid_bs and valid_verbose,
        ),
        (
            lambda: model.predict(x, batch_size=batch_size, verbose=verbose),
            valid_bs and valid_verbose,
        ),
    ]
    for call, expected_ok in calls:
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                result = call()
            except (ValueError, TypeError) as exc:
                assert not expected_ok, f"valid arguments refused: {exc}"
                assert str(exc)
                continue
        assert expected_ok, "invalid arguments accepted"
        flat = result.history.get("loss", []) if hasattr(result, "history") else np.ravel(result)
        assert all(math.isfinite(v) for v in flat)


def _container(arr: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[Any, str | None]:
    """``arr`` presented as ``kind``; the error expected (None: must work)."""
    if kind == "float32":
        return arr.astype(np.float32), None
    if kind == "float16":
        return arr.astype(np.float16), None
    if kind == "int":
        return np.round(arr).astype(np.int64), None
    if kind == "bool":
        return arr > 0, None
    if kind == "list":
        return arr.tolist(), None
    if kind == "fortran":
        return np.asfortranarray(arr), None
    if kind == "strided":
        wide = np.repeat(arr, 2, axis=-1) if arr.ndim == 2 else np.repeat(arr, 2)
        return wide[..., ::2], None
    if kind == "nan":
        out = arr.astype(np.float64).copy()
        out.flat[rng.integers(out.size)] = rng.choice([np.nan, np.inf, -np.inf])
        return out, "ValueError"
    if kind == "huge":
        out = arr.astype(np.float64).copy()
        out.flat[rng.integers(out.size)] = 1e300
        return out, "float32"
    if kind == "strings":
        return arr.astype(str), "TypeError"
    if kind == "objects":
        return arr.astype(object), "TypeError"
    if kind == "complex":
        return arr.astype(np.complex128), "TypeError"
    if kind == "3d":
        return arr[..., None, None], "ValueError"
    if kind == "empty":
        return arr[:0], "ValueError"
    return arr, None


KINDS = [
    "float64",
    "float32",
    "float16",
    "int",
    "bool",
    "list",
    "fortran",
    "strided",
    "nan",
    "huge",
    "strings",
    "objects",
    "complex",
    "3d",
    "empty",
]


@fuzz("data")
@given(st.sampled_from(KINDS), st.sampled_from(KINDS), DTYPES, st.integers(0, 2**32 - 1))
def test_data_of_any_container_and_dtype(x_kind: str, y_kind: str, dtype: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=(12, 3)) * 3
    y0 = rng.integers(0, 2, size=12).astype(np.float64)
    x, x_err = _container(x0, x_kind, rng)
    y, y_err = _container(y0, y_kind, rng)
    if y_kind in ("int", "bool", "float16", "float32") or y_kind == "huge":
        # Targets of binary cross-entropy must lie in [0, 1]: a huge one is refused.
        y_err = "ValueError" if y_kind == "huge" else None
    errs = [
        e if e != "float32" else ("ValueError" if dtype == "float32" else None)
        for e in (x_err, y_err)
    ]
    model = _small_model(dtype)
    for name, call, relevant in (
        ("fit", lambda: model.fit(x, y, epochs=1, batch_size=5, verbose=0), errs),
        ("evaluate", lambda: model.evaluate(x, y, verbose=0), errs),
        ("predict", lambda: model.predict(x, verbose=0), errs[:1]),
    ):
        expected = [e for e in relevant if e]
        try:
            result = call()
        except (ValueError, TypeError) as exc:
            assert type(exc).__name__ in expected, f"{name}: unexpected {exc!r}"
            continue
        assert not expected, f"{name} accepted {x_kind}/{y_kind} data"
        if x_kind != "huge":  # 1e300 in a float64 model may overflow the math itself
            flat = result.history["loss"] if name == "fit" else np.ravel(result)
            assert all(math.isfinite(v) for v in flat)


# -- set_weights ---------------------------------------------------------------------------------


@fuzz("set_weights")
@given(
    DTYPES,
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "same",
                    "float16",
                    "int",
                    "bool",
                    "list",
                    "huge",
                    "nan",
                    "shape",
                    "strings",
                    "complex",
                    "scalar",
                ]
            ),
            st.integers(0, 2**32 - 1),
        ),
        min_size=0,
        max_size=9,
    ),
)
def test_set_weights_writes_all_or_nothing(dtype: str, edits) -> None:
    model = _small_model(dtype)
    before = model.get_weights()
    new, expect_error = [], None
    for i, w in enumerate(before):
        kind, seed = edits[i] if i < len(edits) else ("same", 0)
        rng = np.random.default_rng(seed)
        a = rng.normal(size=w.shape) * 3
        if kind == "float16":
            a = a.astype(np.float16)
        elif kind == "int":
            a = np.round(a).astype(np.int32)
        elif kind == "bool":
            a = a > 0
        elif kind == "list":
            a = a.tolist()
        elif kind == "huge":
            a.flat[0] = 1e300
            expect_error = expect_error or ("ValueError" if dtype == "float32" else None)
        elif kind == "nan":
            a.flat[0] = np.nan  # weights may be NaN (the user's own): stored as given
        elif kind == "shape":
            a = a.reshape(-1)[:-1] if a.size > 1 else np.zeros((*w.shape, 2))
            expect_error = expect_error or "ValueError"
        elif kind == "strings":
            a = a.astype(str)
            expect_error = expect_error or "TypeError"
        elif kind == "complex":
            a = a.astype(np.complex64)
            expect_error = expect_error or "TypeError"
        elif kind == "scalar":
            a = 1.0
            expect_error = expect_error or "ValueError"
        new.append(a)
    if len(edits) > len(before):
        new.append(np.zeros(2))
        expect_error = "ValueError"
    try:
        model.set_weights(new)
    except (ValueError, TypeError) as exc:
        assert expect_error is not None, f"refused valid weights: {exc}"
        for a, b in zip(before, model.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)  # nothing written
        return
    assert expect_error is None, "accepted invalid weights"
    for a, b in zip(new, model.get_weights(), strict=True):
        np.testing.assert_array_equal(np.asarray(a, dtype=dtype), b)
    assert model.predict(np.ones((2, 3)), verbose=0).shape == (2, 1)


# -- load_model ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Iterator[tuple[Path, bytes, Sequential]]:
    folder = tmp_path_factory.mktemp("fuzz_files")
    model = Sequential(seed=3, name="fuzzed")
    model.add(Dense(5, "relu", input_dim=3))
    model.add(BatchNormalization())
    model.add(Residual([Dense(5, "tanh"), Dropout(0.2)], activation="elu"))
    model.add(Dense(2, "softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=SGD(0.1, momentum=0.9))
    path = folder / "good.npz"
    model.save(path)
    yield folder, path.read_bytes(), model


def _load_or_refuse(path: Path, original: Sequential) -> None:
    """load_model raises 'Cannot load model' or returns a model equal to the original."""
    try:
        loaded = load_model(path)
    except ValueError as exc:
        assert str(exc).startswith("Cannot load model"), exc
        return
    x = np.linspace(-2, 2, 12).reshape(4, 3)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), original.predict(x, verbose=0))
    for a, b in zip(loaded.get_weights(), original.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


MUTATIONS = st.one_of(
    st.tuples(
        st.just("flip"),
        st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 7)), min_size=1, max_size=4),
    ),
    st.tuples(st.just("truncate"), st.integers(0, 10**9)),
    st.tuples(st.just("splice"), st.integers(0, 10**9), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("random"), st.binary(max_size=512)),
)


def _mutate(raw: bytes, mutation: tuple) -> bytes:
    data = bytearray(raw)
    if mutation[0] == "flip":
        for pos, bit in mutation[1]:
            data[pos % len(data)] ^= 1 << bit
    elif mutation[0] == "truncate":
        del data[mutation[1] % len(data) :]
    elif mutation[0] == "splice":
        pos = mutation[1] % len(data)
        data[pos : pos + len(mutation[2])] = mutation[2]
    elif mutation[0] == "append":
        data += mutation[1]
    else:
        data = bytearray(mutation[1])
    return bytes(data)


@fuzz("file_bytes")
@given(MUTATIONS)
def test_load_model_on_damaged_bytes(saved, mutation) -> None:
    folder, raw, model = saved
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as fh:
        fh.write(_mutate(raw, mutation))
    try:
        _load_or_refuse(Path(fh.name), model)
    finally:
        os.unlink(fh.name)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


@fuzz("file_config")
@given(st.data(), JSON)
def test_load_model_on_hostile_configurations(saved, data, value) -> None:
    # Any value of any JSON type at any place of config.json.
    folder, raw, model = saved
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    paths = sorted((p for p in _paths(config) if p), key=repr)
    path = data.draw(st.sampled_from(paths), label="path")
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    members["config.json"] = json.dumps(config).encode()
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as fh:
        with zipfile.ZipFile(fh, "w") as zf:
            for name, content in members.items():
                zf.writestr(name, content)
    try:
        loaded = load_model(Path(fh.name))
    except ValueError as exc:
        assert str(exc).startswith("Cannot load model"), exc
    else:
        # A change the format tolerates (a name, a seed, an optimizer setting):
        # the weights are the saved ones and the model computes.
        for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        assert np.all(np.isfinite(loaded.predict(np.ones((2, 3)), verbose=0)))
    finally:
        os.unlink(fh.name)
