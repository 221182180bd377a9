"""Initializers: moments against their formulas, determinism, orthogonality, (de)serialization."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from vgp_native import initializers as I

ALL_NAMES = [
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "zeros",
    "ones",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "constant",
]
FAN_IN, FAN_OUT = 300, 500


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ------------------------------------------------------------------- the formulas


@pytest.mark.parametrize(
    ("name", "variance"),
    [
        ("glorot_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("glorot_normal", 2 / (FAN_IN + FAN_OUT)),
        ("he_uniform", 2 / FAN_IN),
        ("he_normal", 2 / FAN_IN),
        ("lecun_uniform", 1 / FAN_IN),
        ("lecun_normal", 1 / FAN_IN),
        ("variance_scaling", 1 / FAN_IN),
        ("orthogonal", 1 / FAN_OUT),
        ("random_normal", 0.05**2),
        ("random_uniform", 0.1**2 / 12),
        ("truncated_normal", 0.05**2 * 0.7737413035499232),
        ("zeros", 0.0),
        ("ones", 0.0),
    ],
)
def test_weight_variance_formula_and_empirical_draws(name: str, variance: float) -> None:
    init = I.get(name)
    assert I.weight_variance(init, (FAN_IN, FAN_OUT)) == pytest.approx(variance, rel=1e-12)
    w = init((FAN_IN, FAN_OUT), _rng(1), dtype="float64")
    mean, _ = init.moments((FAN_IN, FAN_OUT))
    # 150 000 draws: the sample variance is within 1.5 % (> 5 standard errors) of the truth.
    assert w.var() == pytest.approx(variance, rel=0.015, abs=1e-12)
    assert w.mean() == pytest.approx(mean, abs=5 * math.sqrt(variance / w.size) + 1e-15)


def test_square_layer_variances_give_the_design_sigma_w2() -> None:
    n = 64
    assert n * I.weight_variance("glorot_uniform", (n, n)) == pytest.approx(1.0, rel=1e-14)
    assert n * I.weight_variance("glorot_normal", (n, n)) == pytest.approx(1.0, rel=1e-14)
    assert n * I.weight_variance("he_normal", (n, n)) == pytest.approx(2.0, rel=1e-14)
    assert n * I.weight_variance(I.Orthogonal(gain=1.5), (n, n)) == pytest.approx(2.25)


def test_uniform_limits() -> None:
    w = I.GlorotUniform()((20, 30), _rng(), dtype="float64")
    limit = math.sqrt(6 / 50)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    w = I.HeUniform()((40, 10), _rng(), dtype="float64")
    assert np.abs(w).max() <= math.sqrt(6 / 40)
    w = I.RandomUniform(minval=2.0, maxval=3.0)((1000,), _rng(), dtype="float64")
    assert w.min() >= 2.0 and w.max() < 3.0
    assert I.weight_variance(I.RandomUniform(2.0, 3.0), (1000,)) == pytest.approx(1 / 12)


@pytest.mark.parametrize(
    ("init", "stddev"),
    [
        (I.TruncatedNormal(mean=0.5, stddev=0.1), 0.1),
        (I.HeNormal(), math.sqrt(2 / 200) / 0.87962566103423978),
        (I.GlorotNormal(), math.sqrt(2 / 500) / 0.87962566103423978),
        (I.VarianceScaling(3.0, "fan_out", "normal"), math.sqrt(3 / 300) / 0.87962566103423978),
    ],
)
def test_truncated_normal_stays_within_two_stddev(init: I.Initializer, stddev: float) -> None:
    w = init((200, 300), _rng(3), dtype="float64")
    centre = getattr(init, "mean", 0.0)
    deviation = np.abs(w - centre)
    assert deviation.max() <= 2 * stddev
    assert deviation.max() > 1.99 * stddev  # the tails are cut, not squeezed


def test_untruncated_normal_goes_beyond_two_stddev() -> None:
    init = I.VarianceScaling(1.0, "fan_in", "untruncated_normal")
    w = init((100, 1000), _rng(), dtype="float64")
    assert np.abs(w).max() > 3 * math.sqrt(1 / 100)
    assert w.var() == pytest.approx(1 / 100, rel=0.02)


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((), (1, 1)), ((7,), (7, 7)), ((3, 5), (3, 5)), ((2, 3, 4, 5), (24, 30)), ((0, 4), (0, 4))],
)
def test_compute_fans_as_keras(shape: tuple[int, ...], fans: tuple[int, int]) -> None:
    assert I.compute_fans(shape) == fans


def test_variance_scaling_modes_and_rank() -> None:
    shape = (3, 3, 16, 32)  # a conv kernel: receptive field 9
    for mode, n in [("fan_in", 9 * 16), ("fan_out", 9 * 32), ("fan_avg", 9 * 24)]:
        init = I.VarianceScaling(2.0, mode, "uniform")
        assert I.weight_variance(init, shape) == pytest.approx(2.0 / n)
    assert I.weight_variance("lecun_uniform", (10,)) == pytest.approx(1 / 10)
    assert I.weight_variance("he_uniform", (0, 5)) == pytest.approx(2.0)  # max(1, fan) as Keras


# --------------------------------------------------------------------- determinism


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64", np.float32])
def test_same_seed_same_weights_and_dtype(name: str, dtype: object) -> None:
    init = I.get(name)
    a = init((6, 9), _rng(42), dtype=dtype)
    b = init((6, 9), _rng(42), dtype=dtype)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (6, 9)
    assert a.dtype == np.dtype(dtype)
    if I.weight_variance(init, (6, 9)) > 0:
        assert not np.array_equal(a, init((6, 9), _rng(43), dtype=dtype))


def test_default_dtype_is_float32_and_float32_is_the_rounded_float64() -> None:
    w32 = I.GlorotUniform()((5, 4), _rng(7))
    w64 = I.GlorotUniform()((5, 4), _rng(7), dtype="float64")
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


def test_global_numpy_state_is_untouched() -> None:
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (the global state is the point)
    for name in ALL_NAMES:
        I.get(name)((4, 4), _rng())
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_empty_shapes() -> None:
    for name in ALL_NAMES:
        assert I.get(name)((0, 3), _rng()).shape == (0, 3)


# -------------------------------------------------------------------- orthogonal


@pytest.mark.parametrize("shape", [(16, 16), (40, 10), (10, 40), (3, 4, 5)])
def test_orthogonal_is_orthonormal(shape: tuple[int, ...]) -> None:
    w = I.Orthogonal()(shape, _rng(5), dtype="float64")
    assert w.shape == shape
    flat = w.reshape(-1, shape[-1])
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_gain_scales_singular_values() -> None:
    w = I.Orthogonal(gain=2.5)((12, 8), _rng(), dtype="float64")
    np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False), 2.5, rtol=1e-12)
    # A deep linear orthogonal network preserves norms exactly (Saxe et al. 2014).
    x = np.ones(8)
    for seed in range(20):
        x = I.Orthogonal()((8, 8), _rng(seed), dtype="float64") @ x
    assert np.linalg.norm(x) == pytest.approx(math.sqrt(8), rel=1e-12)


def test_orthogonal_is_haar_sign_corrected() -> None:
    # Without the sign(diag(R)) correction the diagonal of Q is biased positive.
    diagonals = np.array([np.diag(I.Orthogonal()((3, 3), _rng(s), "float64")) for s in range(4000)])
    assert abs(diagonals.mean()) < 0.03
    assert np.mean(diagonals**2) == pytest.approx(1 / 3, rel=0.05)  # Var = gain^2 / n


# --------------------------------------------------------------- get / serialize


@pytest.mark.parametrize("name", ALL_NAMES)
def test_names_and_class_names_resolve(name: str) -> None:
    init = I.get(name)
    assert isinstance(init, I.Initializer)
    assert I.get(type(init).__name__) == init
    assert I.get(init) is init


def test_keras_aliases_and_classes() -> None:
    assert isinstance(I.get("OrthogonalInitializer"), I.Orthogonal)
    assert isinstance(I.get(I.HeNormal), I.HeNormal)
    assert I.get("variance_scaling").get_config() == {
        "scale": 1.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
    }


@pytest.mark.parametrize(
    "init",
    [
        *(I.get(name) for name in ALL_NAMES),
        I.Orthogonal(gain=0.5),
        I.Constant(3.25),
        I.RandomNormal(mean=0.1, stddev=0.2),
        I.RandomUniform(minval=-1.0, maxval=2.0),
        I.TruncatedNormal(stddev=1.5),
        I.VarianceScaling(scale=0.5, mode="fan_avg", distribution="uniform"),
    ],
    ids=repr,
)
def test_serialize_round_trips_through_json(init: I.Initializer) -> None:
    config = I.serialize(init)
    assert set(config) == {"class_name", "config"}
    again = I.deserialize(json.loads(json.dumps(config)))
    assert again == init and type(again) is type(init)
    assert I.get(config) == init
    w1 = init((5, 5), _rng(9), dtype="float64")
    np.testing.assert_array_equal(w1, again((5, 5), _rng(9), dtype="float64"))


def test_deserialize_accepts_keras_saved_configs() -> None:
    saved = {
        "module": "keras.initializers",
        "class_name": "RandomUniform",
        "config": {"minval": -0.1, "maxval": 0.1, "seed": None},
        "registered_name": None,
    }
    assert I.deserialize(saved) == I.RandomUniform(-0.1, 0.1)
    assert I.deserialize({"class_name": "GlorotUniform", "config": {"seed": None}}) == (
        I.GlorotUniform()
    )
    assert I.serialize("he_normal") == {"class_name": "HeNormal", "config": {}}


def test_callables_pass_through_get_but_have_no_variance() -> None:
    def ones_like(shape: tuple[int, ...], rng: np.random.Generator, dtype: str = "float32"):
        return np.ones(shape, dtype=dtype)

    assert I.get(ones_like) is ones_like
    with pytest.raises(TypeError, match="no moments"):
        I.weight_variance(ones_like, (2, 2))
    with pytest.raises(TypeError, match="only Initializer objects"):
        I.serialize(ones_like)


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="Unknown initializer: 'xavier'") as info:
        I.get("xavier")
    for name in ALL_NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("identifier", "error", "match"),
    [
        (3, TypeError, "initializer must be a name"),
        (None, TypeError, "initializer must be a name"),
        (dict, TypeError, "must subclass Initializer"),
        ({"config": {}}, ValueError, "class_name"),
        ({"class_name": "Nope"}, ValueError, "Unknown initializer class_name"),
        ({"class_name": "Zeros", "config": [1]}, TypeError, "'config' of Zeros must be a dict"),
        ({"class_name": "RandomNormal", "config": {"sd": 1}}, TypeError, "bad config"),
    ],
)
def test_get_errors(identifier: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        I.get(identifier)


# ------------------------------------------------------------------ bad arguments


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: I.RandomNormal(stddev=0.0), ValueError, "stddev must be > 0"),
        (lambda: I.RandomNormal(stddev=-1.0), ValueError, "stddev must be > 0"),
        (lambda: I.TruncatedNormal(stddev=0.0), ValueError, "stddev must be > 0"),
        (lambda: I.RandomNormal(mean=math.inf), ValueError, "mean must be finite"),
        (lambda: I.RandomUniform(1.0, 1.0), ValueError, "minval must be < maxval"),
        (lambda: I.RandomUniform(2.0, 1.0), ValueError, "minval must be < maxval"),
        (lambda: I.RandomUniform("a", 1.0), TypeError, "minval must be a number"),
        (lambda: I.VarianceScaling(scale=0.0), ValueError, "scale must be > 0"),
        (lambda: I.VarianceScaling(scale=-2.0), ValueError, "scale must be > 0"),
        (lambda: I.VarianceScaling(mode="fan_sum"), ValueError, "mode must be one of"),
        (lambda: I.VarianceScaling(distribution="cauchy"), ValueError, "distribution must be"),
        (lambda: I.VarianceScaling(distribution=1), TypeError, "distribution must be a string"),
        (lambda: I.Orthogonal(gain=0.0), ValueError, "gain must be > 0"),
        (lambda: I.Constant("1"), TypeError, "value must be a number"),
    ],
)
def test_hyper_parameter_errors(make: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: I.GlorotUniform()((2, -1), _rng()), ValueError, r"shape\[1\] must be >= 0"),
        (lambda: I.GlorotUniform()(4, _rng()), TypeError, "shape must be a tuple"),
        (lambda: I.GlorotUniform()((2, 2.0), _rng()), TypeError, r"shape\[1\] must be an integer"),
        (lambda: I.Zeros()((2, 2), np.random.RandomState(0)), TypeError, "rng must be a np.random"),
        (lambda: I.HeNormal()((2, 2), 0), TypeError, "rng must be a np.random.Generator"),
        (lambda: I.Ones()((2, 2), _rng(), dtype="float16"), ValueError, "dtype must be"),
        (lambda: I.Orthogonal()((2, 2), None), TypeError, "rng"),
        (lambda: I.Orthogonal()((5,), _rng()), ValueError, "rank 2 or more"),
        (lambda: I.weight_variance("orthogonal", (5,)), ValueError, "rank 2 or more"),
    ],
)
def test_call_errors(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]
