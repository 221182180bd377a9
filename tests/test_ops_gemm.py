"""GEMM kernel (cpp/ops/gemm/) against numpy, across paths, kernels and threads.

Shapes are chosen to reach both native paths: the unpacked one (products up
to 2^21 multiply-adds, C at most one vector wide, or at most one micro-tile
of rows, unless trans_b with op(B) over 2^18 elements) and the packed,
blocked one (everything else), on both sides of the threading threshold
(2^18 multiply-adds), with k above the k-block the cache model chooses on
common CPUs (a few hundred elements) and n above its B block. Every register
tile, and blocks small enough that every shape crosses them, are exercised
through VGP_GEMM_BLOCKING in test_ops_gemm_blocking.py.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import vgp_native as vn
from vgp_native import _core, ops
from vgp_native.activations import ACTIVATIONS

DTYPES = [np.float32, np.float64]
# Relative to sum_p |a_ip| |b_pj| (+ |c_ij|), per 100 terms of the sum.
RTOL = {np.float32: 1e-5, np.float64: 1e-12}
FORMS = [(False, False), (True, False), (False, True), (True, True)]

SMALL_SHAPES = [  # (m, n, k): unpacked path
    (1, 1, 1),
    (1, 7, 33),
    (7, 1, 33),
    (7, 7, 7),
    (33, 33, 33),
    (1, 257, 33),
    (257, 1, 7),
    (32, 10, 10),
    (2000, 16, 200),  # one vector wide, threaded
    (16, 257, 700),  # one micro-tile of rows, threaded
]
BLOCKED_SHAPES = [  # packed path
    (33, 257, 257),
    (257, 33, 257),
    (70, 90, 900),  # several k blocks of doubles, edge tiles both ways
    (40, 70, 2100),  # several k blocks of floats
    (129, 300, 385),
    (2100, 40, 30),  # two A blocks
    (9, 600, 500),  # packed with trans_b (op(B) too large to copy), unpacked otherwise
]


def op(x: np.ndarray, trans: bool) -> np.ndarray:
    return x.T if trans else x


def operands(rng, m, n, k, trans_a, trans_b, dtype):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def assert_close(got, a, b, trans_a, trans_b, dtype, c0=None, bias=None):
    """got == op(a) @ op(b) (+ c0) (+ bias) within the float64 error bound."""
    oa = op(a, trans_a).astype(np.float64)
    ob = op(b, trans_b).astype(np.float64)
    want = oa @ ob
    scale = np.abs(oa) @ np.abs(ob)
    if c0 is not None:
        want = want + c0
        scale = scale + np.abs(c0)
    if bias is not None:
        want = want + bias
        scale = scale + np.abs(bias)
    k = oa.shape[1]
    tol = RTOL[dtype] * max(1.0, k / 100) * (scale + np.finfo(dtype).tiny)
    assert got.dtype == dtype
    assert got.shape == want.shape
    err = np.abs(got.astype(np.float64) - want)
    assert np.all(err <= tol), (
        f"max error {err.max():.3g}, tolerance there {tol.flat[err.argmax()]:.3g}"
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def threads():
    """Restores the thread count after a test changes it."""
    before = vn.get_num_threads()
    yield
    vn.set_num_threads(before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("trans_a", "trans_b"), FORMS)
@pytest.mark.parametrize("shape", SMALL_SHAPES + BLOCKED_SHAPES)
def test_matches_numpy(rng, dtype, trans_a, trans_b, shape) -> None:
    m, n, k = shape
    a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
    got = ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
    assert_close(got, a, b, trans_a, trans_b, dtype)


def test_hand_worked_2x2() -> None:
    # [1 2] [5 6]   [1*5 + 2*7  1*6 + 2*8]   [19 22]
    # [3 4] [7 8] = [3*5 + 4*7  3*6 + 4*8] = [43 50]
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[5.0, 6.0], [7.0, 8.0]])
    assert np.array_equal(ops.gemm(a, b), [[19.0, 22.0], [43.0, 50.0]])
    # a^T b: [1 3; 2 4] b = [1*5 + 3*7  1*6 + 3*8; 2*5 + 4*7  2*6 + 4*8] = [26 30; 38 44]
    assert np.array_equal(ops.gemm(a, b, trans_a=True), [[26.0, 30.0], [38.0, 44.0]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("trans_a", "trans_b"), FORMS)
@pytest.mark.parametrize(
    "shape", [(7, 33, 5), (33, 7, 1), (300, 200, 100), (90, 70, 900), (40, 50, 2100)]
)
def test_accumulate_and_bias(rng, dtype, trans_a, trans_b, shape) -> None:
    m, n, k = shape
    a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    got = ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b, c=c0, bias=bias)
    assert_close(got, a, b, trans_a, trans_b, dtype, c0=c0, bias=bias)
    got = ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b, c=c0)
    assert_close(got, a, b, trans_a, trans_b, dtype, c0=c0)


_erf = np.vectorize(math.erf)
_SELU_SCALE, _SELU_ALPHA = 1.0507009873554805, 1.6732632423543772
# Keras 3 definitions, evaluated in float64.
NP_ACTIVATIONS = {
    "linear": lambda x: x,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "swish": lambda x: x / (1.0 + np.exp(-x)),
}
ELEMENTWISE = [name for name in ACTIVATIONS if name != "softmax"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ELEMENTWISE)
@pytest.mark.parametrize(
    ("shape", "trans_a", "trans_b"),
    [((32, 10, 10), False, False), ((150, 140, 130), True, False), ((64, 300, 200), False, True)],
)
def test_epilogue_activation(rng, dtype, activation, shape, trans_a, trans_b) -> None:
    m, n, k = shape
    a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
    bias = rng.standard_normal(n).astype(dtype)
    pre, post = ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b, bias=bias, activation=activation)
    assert_close(pre, a, b, trans_a, trans_b, dtype, bias=bias)
    want = NP_ACTIVATIONS[activation](pre.astype(np.float64))
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(post, want, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(32, 10, 10), (200, 150, 300)])
def test_epilogue_post_aliasing_c(rng, dtype, shape) -> None:
    m, n, k = shape
    a, b = operands(rng, m, n, k, False, False, dtype)
    bias = rng.standard_normal(n).astype(dtype)
    pre = ops.gemm(a, b, bias=bias)
    c = np.empty((m, n), dtype=dtype)
    _core.gemm(a, b, c, False, False, False, bias, ACTIVATIONS["tanh"], c)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(c, np.tanh(pre.astype(np.float64)), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("accumulate", [False, True])
def test_k_zero(dtype, accumulate) -> None:
    # Reached through the binding: the checked wrapper rejects empty operands.
    a = np.empty((5, 0), dtype=dtype)
    b = np.empty((0, 3), dtype=dtype)
    c0 = np.arange(15, dtype=dtype).reshape(5, 3) - 7
    bias = np.array([1.0, -2.0, 0.5], dtype=dtype)
    c = c0.copy()
    post = np.empty_like(c)
    _core.gemm(a, b, c, False, False, accumulate, bias, ACTIVATIONS["relu"], post)
    want = (c0 if accumulate else np.zeros_like(c0)) + bias
    np.testing.assert_array_equal(c, want)
    np.testing.assert_array_equal(post, np.maximum(want, 0))


def test_nan_and_inf_propagate() -> None:
    a = np.ones((40, 300), dtype=np.float32)
    b = np.ones((300, 50), dtype=np.float32)
    a[3, 7] = np.nan
    a[5, 0] = np.inf
    c = ops.gemm(a, b)
    assert np.all(np.isnan(c[3])) and np.all(np.isposinf(c[5]))
    assert np.all(np.isfinite(np.delete(c, [3, 5], axis=0)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("trans_a", "trans_b"), FORMS)
@pytest.mark.parametrize(
    "shape",
    [(300, 200, 500), (2000, 16, 200), (16, 1000, 300), (129, 257, 400), (70, 450, 1100)],
)
def test_one_and_two_threads_bitwise_equal(rng, threads, dtype, trans_a, trans_b, shape) -> None:
    m, n, k = shape
    a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    results = []
    for t in (1, 2, 3):
        vn.set_num_threads(t)
        results.append(ops.gemm(a, b, trans_a, trans_b, c=c0, bias=bias, activation="gelu"))
    for pre, post in results[1:]:
        assert np.array_equal(pre, results[0][0])
        assert np.array_equal(post, results[0][1])


def test_concurrent_python_threads(rng, threads) -> None:
    # Each calling OS thread has its own scratch; with the GIL released the
    # calls overlap, and every result must equal the serial one bit for bit.
    vn.set_num_threads(2)
    cases = []
    for i in range(4):
        a = rng.standard_normal((150 + 10 * i, 300)).astype(np.float32)
        b = rng.standard_normal((300, 120 + 7 * i)).astype(np.float32)
        cases.append((a, b, ops.gemm(a, b)))
    failures = []

    def worker(a, b, want):
        for _ in range(30):
            if not np.array_equal(ops.gemm(a, b), want):
                failures.append(a.shape)

    pool = [threading.Thread(target=worker, args=case) for case in cases]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert failures == []


def test_float32_and_float64_agree(rng) -> None:
    a, b = operands(rng, 100, 90, 400, False, False, np.float64)
    c64 = ops.gemm(a, b)
    c32 = ops.gemm(a.astype(np.float32), b.astype(np.float32))
    np.testing.assert_allclose(c32, c64, rtol=1e-4, atol=1e-4 * np.abs(c64).max())


# ---- every micro-kernel path ---------------------------------------------

_FORCED_SCRIPT = r"""
import json, sys
import numpy as np
import vgp_native as vn
from vgp_native import ops
rng = np.random.default_rng(7)
out = {"names": [ops.gemm_kernel_name("float32"), ops.gemm_kernel_name("float64")], "err": [],
       "gemm": ops.cpu_info()["gemm"]}
for dtype, rtol in ((np.float32, 1e-5), (np.float64, 1e-12)):
    for m, n, k in ((32, 10, 10), (33, 7, 257), (257, 33, 700), (70, 90, 900), (16, 300, 50)):
        for ta in (False, True):
            for tb in (False, True):
                a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
                b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
                bias = rng.standard_normal(n).astype(dtype)
                oa = (a.T if ta else a).astype(np.float64)
                ob = (b.T if tb else b).astype(np.float64)
                want = oa @ ob + bias
                scale = np.abs(oa) @ np.abs(ob) + np.abs(bias)
                outs = []
                for t in (1, 2):
                    vn.set_num_threads(t)
                    outs.append(ops.gemm(a, b, ta, tb, bias=bias, activation="relu"))
                pre, post = outs[0]
                ratio = np.max(np.abs(pre - want) / (rtol * max(1.0, k / 100) * scale))
                same = bool(np.array_equal(pre, outs[1][0]) and np.array_equal(post, outs[1][1]))
                relu_ok = bool(np.array_equal(post, np.maximum(pre, 0)))
                row = [str(np.dtype(dtype)), m, n, k, ta, tb, float(ratio), same, relu_ok]
                out["err"].append(row)
print(json.dumps(out))
"""


def _cpu_flags() -> set[str] | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return None


def run_python(script: str, *args: str, **env_vars: str) -> str:
    """The output of ``python -c script *args`` in a fresh process that imports
    this package, with the ``VGP_GEMM_*`` variables replaced by ``env_vars``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VGP_GEMM_")}
    env.update(env_vars)
    package_root = str(Path(vn.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root, env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _run_script(script: str, **env_vars: str) -> dict:
    return json.loads(run_python(script, **env_vars))


def _expected_kernel(requested: str | None) -> str | None:
    """The kernel the dispatcher must pick on this CPU, None when unknown."""
    flags = _cpu_flags()
    if flags is None:
        return "scalar" if requested == "scalar" else None
    has_avx2 = {"avx2", "fma"} <= flags
    has_avx512 = has_avx2 and "avx512f" in flags
    if requested == "scalar":
        return "scalar"
    if requested == "avx2":
        return "avx2" if has_avx2 else "scalar"
    return "avx512" if has_avx512 else "avx2" if has_avx2 else "scalar"


@pytest.mark.parametrize("kernel", ["scalar", "avx2", "avx512", None, "bogus"])
def test_forced_kernel_matches_numpy(kernel) -> None:
    out = _run_script(_FORCED_SCRIPT, **({} if kernel is None else {"VGP_GEMM_KERNEL": kernel}))
    expected = _expected_kernel(None if kernel == "bogus" else kernel)
    if expected is not None:
        assert out["names"] == [expected, expected]
    for dtype, m, n, k, ta, tb, ratio, same, relu_ok in out["err"]:
        case = f"{out['names']} {dtype} {(m, n, k)} trans_a={ta} trans_b={tb}"
        assert ratio <= 1.0, case
        assert same, f"1 vs 2 threads differ: {case}"
        assert relu_ok, case


_SMALL_TEAM_SCRIPT = r"""
import json
import numpy as np
import vgp_native as vn
from vgp_native import ops
vn.set_num_threads(2)
rng = np.random.default_rng(5)
ok = []
for m, n, k in ((300, 200, 500), (2000, 16, 200)):
    a = rng.standard_normal((m, k))
    b = rng.standard_normal((k, n))
    ok.append(bool(np.allclose(ops.gemm(a, b), a @ b, rtol=1e-12, atol=1e-10)))
print(json.dumps(ok))
"""


def test_team_smaller_than_requested() -> None:
    # OpenMP may hand out fewer threads than num_threads asks for (here
    # OMP_THREAD_LIMIT=1; also a call from inside another parallel region):
    # every part of C must still be computed.
    assert _run_script(_SMALL_TEAM_SCRIPT, OMP_THREAD_LIMIT="1") == [True, True]


# ---- bad calls --------------------------------------------------------------


_A23, _B35 = np.ones((2, 3)), np.ones((3, 5))


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.ones(3), np.ones((3, 2))), {}, "a must have 2 dimension"),
        ((_A23, np.ones((3, 2, 1))), {}, "b must have 2 dimension"),
        ((_A23, np.ones((4, 5))), {}, r"inner dimensions differ: op\(a\) is \(2, 3\)"),
        ((_A23, np.ones((4, 5))), {"trans_b": True}, "inner dimensions differ"),
        ((_A23, _B35), {"c": np.ones((5, 2))}, r"c.shape=\(2, 5\)"),
        ((_A23, _B35), {"bias": np.ones(4)}, r"bias.shape=\(5,\)"),
        ((_A23, _B35), {"activation": "softmax"}, "softmax"),
        ((_A23, _B35), {"activation": "sigmoidal"}, "Unknown activation"),
    ],
)
def test_bad_shapes_and_arguments(args, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        ops.gemm(*args, **kwargs)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([["a", "b"], ["c", "d"]]),
        np.array([[object(), 1]], dtype=object),
        np.ones((2, 2), dtype=complex),
    ],
)
def test_non_numeric_operands(bad) -> None:
    with pytest.raises(TypeError, match="a must hold real numbers"):
        ops.gemm(bad, np.ones((2, 2)))
    with pytest.raises(TypeError, match="b must hold real numbers"):
        ops.gemm(np.ones((2, 2)), bad)


def test_numeric_inputs_are_converted() -> None:
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    b = np.arange(12, dtype=np.float16).reshape(3, 4)[:, ::2]  # a non-contiguous view
    got = ops.gemm(a, b)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, a.astype(np.float64) @ b.astype(np.float64))
    got = ops.gemm([[1, 2]], np.array([[3.0], [4.0]]))
    assert got.dtype == np.float64 and got[0, 0] == 11.0
