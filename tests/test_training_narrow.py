"""The narrow pass (cpp/network/narrow.h): a stack of Dense layers at most 16
units wide trains with the batch on the vector lanes, and gives the bits of
the layer-by-layer pass.

A step that measures gradient-flow statistics takes the layer-by-layer pass,
one that measures nothing the narrow pass; so a fit with a per-batch
GradientFlow callback and the same fit without callbacks run the two passes
from the same start, and their weights must agree bit for bit after several
epochs (every product, activation, loss gradient and bias sum, then Adam,
SGD with momentum, an L2 penalty, batches of 1 and of odd sizes, both dtypes,
and with the layer-by-layer pass split across two threads; below a sigmoid
layer the narrow pass's kernel stores that layer's dz^T directly).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import native_threads
from vgp_native import ops
from vgp_native.callbacks import GradientFlow
from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Residual
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD
from vgp_native.regularizers import L2

# (hidden widths, hidden activations, input width, output width, output activation, loss)
CASES = {
    "seed": ([10] * 8, ["sigmoid"] * 8, 2, 1, "sigmoid", "binary_crossentropy"),
    "mixed": (
        [16, 7, 1, 13],
        ["tanh", "relu", "linear", "elu"],
        5,
        3,
        "softmax",
        "categorical_crossentropy",
    ),
    "smooth": ([3, 16], ["gelu", "swish"], 16, 2, "linear", "mse"),
    # Sigmoid layers of 16, 13 and 4 units: the kernels above them, with 16 and
    # 13 inputs (two groups of AVX2 chains) and few outputs (13 -> 4, 4 -> 3),
    # store their dz^T.
    "sigmoids": (
        [16, 13, 4],
        ["sigmoid"] * 3,
        5,
        3,
        "softmax",
        "categorical_crossentropy",
    ),
    "wide_out": ([9], ["softplus"], 4, 16, "sigmoid", "mse"),
    "sparse": (
        [12, 12],
        ["selu", "leaky_relu"],
        3,
        4,
        "softmax",
        "sparse_categorical_crossentropy",
    ),
    "one_layer": ([], [], 6, 2, "tanh", "mse"),
}


def _data(case: str, dtype: str, n: int = 101) -> tuple[np.ndarray, np.ndarray]:
    _, _, inp, out, _, loss = CASES[case]
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, inp)).astype(dtype)
    if loss == "binary_crossentropy":
        return x, (x[:, :1] * x[:, -1:] > 0).astype(dtype)
    if loss == "categorical_crossentropy":
        return x, np.eye(out, dtype=dtype)[rng.integers(0, out, n)]
    if loss == "sparse_categorical_crossentropy":
        return x, rng.integers(0, out, n)
    return x, rng.normal(size=(n, out)).astype(dtype)


def _model(case: str, dtype: str, *, use_bias: bool = True, l2: float = 0.0, sgd: bool = False):
    widths, acts, inp, out, out_act, loss = CASES[case]
    reg = L2(l2) if l2 else None
    model = Sequential(seed=5, dtype=dtype)
    for i, (w, a) in enumerate(zip(widths, acts, strict=True)):
        model.add(
            Dense(
                w,
                a,
                input_dim=inp if i == 0 else None,
                use_bias=use_bias,
                kernel_regularizer=reg,
            )
        )
    model.add(Dense(out, out_act, input_dim=None if widths else inp, kernel_regularizer=reg))
    optimizer = SGD(learning_rate=0.05, momentum=0.9) if sgd else "adam"
    model.compile(loss=loss, optimizer=optimizer)
    return model


def _fit_both(case: str, dtype: str, batch_size: int, threads: int = 1, n: int = 101, **kw):
    """Weights after the same fit through the narrow pass and through the layer-by-layer pass."""
    x, y = _data(case, dtype, n)
    out = []
    for callbacks in ([], [GradientFlow(every="batch")]):
        model = _model(case, dtype, **kw)
        with native_threads(threads if callbacks else 1):
            model.fit(x, y, epochs=3, batch_size=batch_size, verbose=0, callbacks=callbacks)
        out.append(model)
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("batch_size", [1, 7, 32, 48])
def test_the_narrow_pass_gives_the_bits_of_the_layer_pass(case, dtype, batch_size):
    narrow, layered = _fit_both(case, dtype, batch_size)
    assert narrow._engine.net.narrow_pass
    for a, b in zip(narrow.get_weights(), layered.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The fit moved the weights: equal because both passes computed the same
    # steps, not because neither trained.
    pairs = zip(narrow.get_weights(), _model(case, dtype).get_weights(), strict=True)
    assert any(not np.array_equal(a, b) for a, b in pairs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ["seed", "mixed"])
@pytest.mark.parametrize("batch_size", [1000, 4096])
def test_batches_longer_than_a_k_block_keep_the_bits(case, dtype, batch_size):
    # Longer than the GEMM's k blocks (KC: a few hundred), up to the narrow
    # pass's largest batch: every kernel gradient is still the chain over the
    # whole batch that the layer-by-layer pass computes.
    narrow, layered = _fit_both(case, dtype, batch_size, n=5000)
    assert narrow._engine.net.narrow_pass
    for a, b in zip(narrow.get_weights(), layered.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_no_bias_l2_sgd_and_two_threads_keep_the_bits(dtype):
    narrow, layered = _fit_both(
        "mixed", dtype, batch_size=13, threads=2, use_bias=False, l2=1e-3, sgd=True
    )
    for a, b in zip(narrow.get_weights(), layered.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_buffers_grown_between_fits_keep_the_bits(dtype):
    # Every batch larger than the last moves the layers' buffers (predict on
    # more rows, then a fit with larger batches): the narrow pass must take
    # their new places, and its weights still match the layer-by-layer pass's.
    x, y = _data("seed", dtype, 300)
    models = []
    for callbacks in ([], [GradientFlow(every="batch")]):
        model = _model("seed", dtype)
        for batch_size, rows in ((4, 8), (16, 64), (48, 300)):
            model.fit(
                x[:rows], y[:rows], epochs=2, batch_size=batch_size, verbose=0, callbacks=callbacks
            )
            model.predict(x[: 2 * rows], verbose=0)
        models.append(model)
    narrow, layered = models
    assert narrow._engine.net.narrow_pass
    for a, b in zip(narrow.get_weights(), layered.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(narrow.predict(x, verbose=0), layered.predict(x, verbose=0))


def test_the_seed_network_takes_the_narrow_pass():
    model = _model("seed", "float32")
    assert model._engine.net.narrow_pass


@pytest.mark.parametrize(
    "layers",
    [
        [Dense(17, "relu", input_dim=3), Dense(1)],  # wider than 16 units
        [Dense(4, input_dim=17), Dense(1)],  # input wider than 16
        [Dense(8, "softmax", input_dim=3), Dense(1)],  # a row activation below the top
        [Dense(8, input_dim=3), BatchNormalization(), Dense(1)],
        [Dense(8, input_dim=3), Activation("relu"), Dense(1)],
        [Dense(8, input_dim=3), Dropout(0.2), Dense(1)],
        [Dense(3, input_dim=3), Residual([Dense(3, "relu")]), Dense(1)],
    ],
    ids=["wide", "wide_input", "softmax_hidden", "batchnorm", "activation", "dropout", "residual"],
)
def test_other_networks_take_the_layer_pass(layers):
    model = Sequential(seed=0)
    for layer in layers:
        model.add(layer)
    model.compile(loss="mse", optimizer="adam")
    assert not model._engine.net.narrow_pass


_KERNEL_SCRIPT = """
import numpy as np
import test_training_narrow as t
from vgp_native import ops
print(ops.gemm_kernel_name("float32"), ops.gemm_kernel_name("float64"))
runs = [(case, 9, 101) for case in sorted(t.CASES)]
runs += [("seed", 1, 101), ("mixed", 48, 101), ("wide_out", 5, 101), ("seed", 1000, 3000)]
for case, batch_size, n in runs:
    for dtype in ("float32", "float64"):
        narrow, layered = t._fit_both(case, dtype, batch_size=batch_size, n=n)
        assert narrow._engine.net.narrow_pass
        for a, b in zip(narrow.get_weights(), layered.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{case} {dtype} {batch_size}")
print("ok")
"""


@pytest.mark.parametrize("kernel", ["scalar", "avx2"])
def test_every_kernel_set_keeps_the_bits(kernel):
    """The AVX2 and portable kernel sets (VGP_GEMM_KERNEL) give both passes the same bits too
    (AVX2's own narrow kernels: 8 batch rows a block, more than 8 or 12 units in groups)."""
    env = {**os.environ, "VGP_GEMM_KERNEL": kernel, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", _KERNEL_SCRIPT],
        env=env,
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    # A CPU without AVX2 runs the portable set whatever is asked.
    expected = kernel if ops.cpu_info()["isa"] in ("avx2", "avx512") else "scalar"
    assert out.stdout.split() == [expected, expected, "ok"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_gemm_profile_counts_the_narrow_products(dtype):
    """bench/training.py's GEMM share: the narrow pass reports the same products
    (calls and multiply-adds) as the layer-by-layer pass."""
    from vgp_native import _core

    x, y = _data("seed", dtype, n=200)
    counts = []
    for callbacks in ([], [GradientFlow(every="batch")]):
        model = _model("seed", dtype)
        _core.gemm_profile(True)
        try:
            model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=callbacks)
            p = _core.gemm_profile_read()
        finally:
            _core.gemm_profile(False)
        counts.append((p["calls"], p["flops"]))
        assert p["seconds"] > 0
    # 9 forward products, 9 kernel gradients, 8 input gradients a step; 2 * rows
    # * (2*10 + 7*100 + 10) flops for each of the first two, 2 * rows * 710 for dx.
    steps = [32] * 6 + [8]
    want_flops = sum(2 * rows * (730 + 730 + 710) for rows in steps)
    assert counts == [(26 * 7, want_flops)] * 2
