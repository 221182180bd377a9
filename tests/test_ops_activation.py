"""Activation kernels: NumPy references, gradient checks, stability, threads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import BLOCK, TOL, assert_close, native_threads
from gradcheck import check_grad
from reference import ref_backward, ref_forward
from test_ops_gemm import run_python
from vgp_native import ops
from vgp_native.activations import ACTIVATIONS, RELU_FAMILY

NAMES = list(ACTIVATIONS)
ELEMENTWISE = [n for n in NAMES if n != "softmax"]


def away_from_kink(x: np.ndarray, name: str, margin: float = 1e-3) -> np.ndarray:
    """Inputs at least ``margin`` from 0 for the activations with a kink there."""
    if name not in RELU_FAMILY:
        return x
    return np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)


SHAPES = [(1, 1), (1, 7), (7, 1), (33, 257), (128, 256), (129, 256)]


def test_shapes_straddle_one_block() -> None:
    # One block runs inline; the larger shapes are split among the threads below.
    sizes = [a * b for a, b in SHAPES]
    assert min(sizes) <= BLOCK < max(sizes)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_forward_and_backward_match_numpy(name, shape, dtype, tol, rng) -> None:
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    with native_threads(2):
        y = ops.activation_forward(x, name)
        dx = ops.activation_backward(x, y, dy, name)
    assert y.dtype == dtype and y.shape == shape
    assert_close(y, ref_forward(x, name), tol)
    assert dx.dtype == dtype
    assert_close(dx, ref_backward(x, dy, name), tol)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name, rng) -> None:
    x = away_from_kink(2 * rng.standard_normal((4, 7)), name)

    def backward(r, x):
        return {"x": ops.activation_backward(x, ops.activation_forward(x, name), r, name)}

    check_grad(lambda x: ops.activation_forward(x, name), backward, {"x": x}, rng)


def test_hand_worked_examples() -> None:
    # sigmoid(0) = 1/2 and sigmoid'(0) = y (1 - y) = 1/4: the largest slope a
    # sigmoid ever has, so each sigmoid layer scales the gradient by <= 1/4.
    x = np.array([[0.0, -2.0, 3.0]])
    y = ops.activation_forward(x, "sigmoid")
    assert y[0, 0] == 0.5
    assert ops.activation_backward(x, y, np.ones_like(x), "sigmoid")[0, 0] == 0.25
    # relu: [0, -2, 3] -> [0, 0, 3]; gradient passes where x > 0 only.
    np.testing.assert_array_equal(ops.activation_forward(x, "relu"), [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(
        ops.activation_backward(x, ops.activation_forward(x, "relu"), np.ones_like(x), "relu"),
        [[0.0, 0.0, 1.0]],
    )
    # softmax([0, ln 3]): e^0 = 1, e^ln3 = 3, sum 4 -> [1/4, 3/4].
    # With dy = [1, 0]: sum_j dy_j y_j = 1/4, dx = y (dy - 1/4) = [3/16, -3/16].
    z = np.array([[0.0, math.log(3.0)]])
    s = ops.activation_forward(z, "softmax")
    np.testing.assert_allclose(s, [[0.25, 0.75]], rtol=1e-15)
    dx = ops.activation_backward(z, s, np.array([[1.0, 0.0]]), "softmax")
    np.testing.assert_allclose(dx, [[0.1875, -0.1875]], rtol=1e-14)
    # leaky_relu slope 0.2 (Keras): -2 -> -0.4.
    assert ops.activation_forward(x, "leaky_relu")[0, 1] == pytest.approx(-0.4, rel=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_float32_agrees_with_float64(name, rng) -> None:
    x = (3 * rng.standard_normal((17, 33))).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    y32 = ops.activation_forward(x, name)
    y64 = ops.activation_forward(x64, name)
    assert_close(y32, y64, TOL[np.float32])
    assert_close(
        ops.activation_backward(x, y32, dy, name),
        ops.activation_backward(x64, y64, dy64, name),
        TOL[np.float32],
    )


@pytest.mark.parametrize("name", NAMES)
def test_one_and_two_threads_are_bitwise_equal(name, dtype, rng, assert_thread_invariant) -> None:
    x = (3 * rng.standard_normal((300, 257))).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)

    def run():
        y = ops.activation_forward(x, name)
        return y, ops.activation_backward(x, y, dy, name)

    assert_thread_invariant(run)


@pytest.mark.parametrize("name", NAMES)
def test_stable_at_large_magnitudes(name, dtype) -> None:
    x = np.array([[1e4, -1e4, 0.0, 700.0, -700.0, 90.0, -90.0]], dtype=dtype)
    y = ops.activation_forward(x, name)
    dx = ops.activation_backward(x, y, np.ones_like(x), name)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    with np.errstate(over="ignore", under="ignore"):
        assert_close(y, ref_forward(x, name), TOL[dtype], scale=1e-30)


def test_sigmoid_is_accurate_across_its_whole_range(dtype) -> None:
    # A dense sweep through the clamps of the exponential (1 + e^-x rounds to 1
    # above x = 86 in float, 707 in double; e^-x overflows below x = -88.7 /
    # -709.8, where the result is exactly 0): within 4 ulp of the long-double
    # reference where that is a normal number, within the smallest normal of it
    # where it is not.
    top = 100.0 if dtype == np.float32 else 760.0
    x = np.linspace(-top, top, 400_001).astype(dtype)
    y = ops.activation_forward(x[None], "sigmoid")[0]
    xl = x.astype(np.longdouble)
    with np.errstate(over="ignore"):
        want = np.longdouble(1) / (np.longdouble(1) + np.exp(-xl))
    tiny = np.finfo(dtype).tiny
    normal = want >= tiny
    ulp = np.spacing(want[normal].astype(dtype)).astype(np.longdouble)
    assert np.max(np.abs(y[normal] - want[normal]) / ulp) <= 4
    assert np.all(np.abs(y[~normal] - want[~normal]) <= tiny)
    assert np.all(np.diff(y) >= 0)  # monotone
    assert y[-1] == 1.0 and y[0] == 0.0


def test_saturated_limits_are_exact(dtype) -> None:
    x = np.array([[1e4, -1e4]], dtype=dtype)
    np.testing.assert_array_equal(ops.activation_forward(x, "sigmoid"), [[1.0, 0.0]])
    np.testing.assert_array_equal(ops.activation_forward(x, "tanh"), [[1.0, -1.0]])
    np.testing.assert_array_equal(ops.activation_forward(x, "softplus"), [[1e4, 0.0]])
    np.testing.assert_array_equal(
        ops.activation_forward(np.array([[1e4, -1e4, 0.0]], dtype=dtype), "softmax"),
        [[1.0, 0.0, 0.0]],
    )


@pytest.mark.parametrize("name", NAMES)
def test_nan_propagates(name, dtype) -> None:
    x = np.array([[np.nan, 1.0]], dtype=dtype)
    y = ops.activation_forward(x, name)
    assert np.isnan(y[0, 0])
    if name == "softmax":
        assert np.isnan(y[0, 1])
    dx = ops.activation_backward(
        np.array([[1.0, 2.0]], dtype=dtype), y, np.array([[np.nan, 1.0]], dtype=dtype), name
    )
    assert np.isnan(dx[0, 0])


def test_infinities_follow_the_limits(dtype) -> None:
    x = np.array([[np.inf, -np.inf]], dtype=dtype)
    np.testing.assert_array_equal(ops.activation_forward(x, "sigmoid"), [[1.0, 0.0]])
    np.testing.assert_array_equal(ops.activation_forward(x, "relu"), [[np.inf, 0.0]])
    np.testing.assert_array_equal(ops.activation_forward(x, "softplus"), [[np.inf, 0.0]])
    np.testing.assert_array_equal(ops.activation_forward(x, "elu"), [[np.inf, -1.0]])


def test_one_dimensional_input_is_one_row(rng) -> None:
    v = rng.standard_normal(5)
    np.testing.assert_array_equal(
        ops.activation_forward(v, "softmax"), ops.activation_forward(v[None], "softmax")[0]
    )
    assert ops.activation_backward(v, v, v, "tanh").shape == (5,)


def test_softmax_rows_sum_to_one(rng, dtype) -> None:
    x = (10 * rng.standard_normal((50, 13))).astype(dtype)
    np.testing.assert_allclose(
        ops.activation_forward(x, "softmax").sum(axis=1), 1.0, rtol=TOL[dtype] * 10
    )


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_torch_autograd(name, rng) -> None:
    torch = pytest.importorskip("torch")
    fn = {
        "linear": lambda t: t,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.2),
        "elu": torch.nn.functional.elu,
        "selu": torch.nn.functional.selu,
        "gelu": torch.nn.functional.gelu,
        "softplus": torch.nn.functional.softplus,
        "swish": torch.nn.functional.silu,
        "softmax": lambda t: torch.softmax(t, dim=1),
    }[name]
    x = away_from_kink(3 * rng.standard_normal((6, 9)), name)
    dy = rng.standard_normal(x.shape)
    t = torch.tensor(x, requires_grad=True)
    out = fn(t)
    out.backward(torch.tensor(dy))
    y = ops.activation_forward(x, name)
    np.testing.assert_allclose(y, out.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        ops.activation_backward(x, y, dy, name), t.grad.numpy(), rtol=1e-12, atol=1e-14
    )


# The branch-free vector math (cpp/ops/vecmath.h) against float64 NumPy over a
# dense sweep: forward to rtol 1e-6 (float32) and 1e-12 (float64). Backward
# formulas that use y (sigmoid' = y (1 - y), ...) cancel where the derivative
# is tiny, so they are checked relative to the derivative's scale.
SWEEP = np.concatenate(
    [
        np.linspace(-60.0, 60.0, 240_001),
        np.geomspace(1e-30, 1.0, 2_001),
        -np.geomspace(1e-30, 1.0, 2_001),
        [0.0, -0.0, 87.0, -87.0, 88.5, -88.5, 700.0, -700.0, 1e4, -1e4],
    ]
)
ACCURACY = {np.float32: 1e-6, np.float64: 1e-12}
SMALLEST = {np.float32: 1.2e-38, np.float64: 2.3e-308}


@pytest.mark.parametrize("name", NAMES)
def test_accuracy_over_a_dense_sweep(name, dtype) -> None:
    # One long row, or rows of 7 for softmax; subnormal results may differ.
    width = 7 if name == "softmax" else SWEEP.size
    x = SWEEP[: SWEEP.size // width * width].astype(dtype).reshape(-1, width)
    dy = np.random.default_rng(0).uniform(0.5, 1.5, x.shape).astype(dtype)
    y = ops.activation_forward(x, name)
    with np.errstate(over="ignore", under="ignore"):
        want = ref_forward(x, name)
        dwant = ref_backward(x, dy, name)
    tol = ACCURACY[dtype]
    assert_close(y, want, tol, SMALLEST[dtype] / tol)
    dx = ops.activation_backward(x, want.astype(dtype), dy, name)
    assert_close(dx, dwant, tol, float(np.abs(dwant).max()))


_SIGMOID_SCRIPT = r"""
import sys
import numpy as np
from vgp_native import ops
with np.load(sys.argv[1]) as data:
    out = {name: ops.activation_forward(data[name], "sigmoid") for name in data.files}
np.savez(sys.argv[2], **out)
"""


def _sigmoid_inputs(dtype) -> dict[str, np.ndarray]:
    """Inputs through every path of the sigmoid: a sample of all bit patterns
    (NaNs, infinities, subnormals, both signs), dense sweeps through the clamps,
    every length from 1 to 70 (whole vectors, groups of four and masked tails)
    and an unaligned start."""
    rng = np.random.default_rng(7)
    uint = np.uint32 if dtype == np.float32 else np.uint64
    bits = np.iinfo(uint).max
    sample = (np.arange(1 << 20, dtype=np.uint64) * (bits // (1 << 20))).astype(uint)
    top = 100.0 if dtype == np.float32 else 760.0
    clamps = np.concatenate([np.linspace(s * (top - 16), s * top, 50_001) for s in (-1, 1)])
    normal = (30 * rng.standard_normal(4099)).astype(dtype)
    inputs = {
        "bits": sample.view(dtype),
        "clamps": clamps.astype(dtype),
        "unaligned": normal[1:],
        "special": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-300], dtype=dtype),
    }
    for n in range(1, 71):
        inputs[f"n{n}"] = normal[:n]
    return inputs


@pytest.mark.parametrize("cap", ["avx2", "scalar"])
def test_sigmoid_spans_give_the_bits_of_the_generic_loop(cap, dtype, tmp_path) -> None:
    # The sigmoid runs a hand-written span where the CPU has AVX-512 or AVX2
    # (cpp/ops/sigmoid_span.h). VGP_GEMM_KERNEL=avx2 caps it at the AVX2 span,
    # =scalar at the generic loop (its AVX-512 or AVX2 clone on such CPUs): on
    # every input all of them must give the bits this process's span gives.
    inputs = _sigmoid_inputs(dtype)
    np.savez(tmp_path / "x.npz", **inputs)
    run_python(
        _SIGMOID_SCRIPT, str(tmp_path / "x.npz"), str(tmp_path / "y.npz"), VGP_GEMM_KERNEL=cap
    )
    with np.load(tmp_path / "y.npz") as other:
        for name, x in inputs.items():
            y = ops.activation_forward(x, "sigmoid")
            assert y.dtype == dtype
            np.testing.assert_array_equal(
                y.view(f"u{y.itemsize}"), other[name].view(f"u{y.itemsize}"), err_msg=name
            )
