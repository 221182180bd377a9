"""Toy data sets, train_test_split and load_csv; scikit-learn equality where claimed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgp_native.datasets import (
    load_csv,
    make_circles,
    make_moons,
    make_spirals,
    train_test_split,
)

GENERATOR_CASES = [
    {"n_samples": 250, "noise": 0.05, "random_state": 42},
    {"n_samples": 101, "random_state": 3},
    {"n_samples": 33, "noise": 0.1, "random_state": 0, "shuffle": False},
    {"n_samples": (7, 12), "noise": 0.3, "random_state": 5},
    {"n_samples": (0, 3), "noise": 0.0, "random_state": 9},
    {"n_samples": 1, "noise": 1.0, "random_state": 2**32 - 1},
]


def _same(ours: tuple[np.ndarray, ...] | list[np.ndarray], theirs: list | tuple) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        b = np.asarray(b)
        assert a.dtype == b.dtype
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)  # bit for bit, not approximately


# ----------------------------------------------------------------- moons and circles


@pytest.mark.parametrize("kwargs", GENERATOR_CASES)
@pytest.mark.parametrize("name", ["make_moons", "make_circles"])
def test_generators_match_sklearn_bit_for_bit(name: str, kwargs: dict) -> None:
    sk_datasets = pytest.importorskip("sklearn.datasets")
    ours = {"make_moons": make_moons, "make_circles": make_circles}[name]
    _same(ours(**kwargs), getattr(sk_datasets, name)(**kwargs))


@pytest.mark.parametrize("factor", [0.0, 0.3, 0.999])
def test_circles_factor_matches_sklearn(factor: float) -> None:
    sk_datasets = pytest.importorskip("sklearn.datasets")
    kwargs = {"n_samples": 40, "noise": 0.02, "random_state": 11, "factor": factor}
    _same(make_circles(**kwargs), sk_datasets.make_circles(**kwargs))


def test_generators_match_sklearn_with_a_shared_random_state() -> None:
    sk_datasets = pytest.importorskip("sklearn.datasets")
    ours, theirs = np.random.RandomState(7), np.random.RandomState(7)
    for _ in range(2):  # the second call continues the same stream in both
        _same(make_moons(20, noise=0.1, random_state=ours),
              sk_datasets.make_moons(20, noise=0.1, random_state=theirs))  # fmt: skip


def test_moons_hand_worked() -> None:
    # t in {0, pi}: upper moon (cos t, sin t) = (1, 0), (-1, 0);
    # lower moon (1 - cos t, 1 - sin t - 0.5) = (0, 0.5), (2, 0.5).
    X, y = make_moons(4, shuffle=False)
    np.testing.assert_allclose(X, [[1, 0], [-1, 0], [0, 0.5], [2, 0.5]], atol=1e-15)
    np.testing.assert_array_equal(y, [0, 0, 1, 1])
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_circles_lie_on_their_circles() -> None:
    X, y = make_circles(51, factor=0.3, random_state=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    assert (y == 0).sum() == 25 and (y == 1).sum() == 26  # the inner circle gets the odd point


def test_same_seed_same_data_and_global_state_untouched() -> None:
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state is the point)
    a = make_moons(50, noise=0.2, random_state=1)
    b = make_moons(50, noise=0.2, random_state=1)
    c = make_moons(50, noise=0.2, random_state=2)
    make_circles(50, noise=0.2)  # random_state=None: a fresh OS-seeded RandomState
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    _same(a, b)
    assert not np.array_equal(a[0], c[0])


def test_generator_random_state_is_accepted_and_advanced() -> None:
    rng = np.random.default_rng(0)
    first = make_moons(30, noise=0.1, random_state=rng)
    second = make_moons(30, noise=0.1, random_state=rng)
    assert not np.array_equal(first[0], second[0])
    np.testing.assert_array_equal(
        first[0], make_moons(30, noise=0.1, random_state=np.random.default_rng(0))[0]
    )


# ------------------------------------------------------------------------- spirals


def test_spirals_follow_the_documented_formula() -> None:
    n_classes, turns = 3, 1.5
    X, y = make_spirals(101, n_classes=n_classes, turns=turns, shuffle=False)
    counts = np.bincount(y)
    np.testing.assert_array_equal(counts, [34, 34, 33])
    for k, m in enumerate(counts):
        points = X[y == k]
        radius = np.arange(1, m + 1) / m
        theta = 2 * np.pi * turns * radius + 2 * np.pi * k / n_classes
        np.testing.assert_allclose(points[:, 0], radius * np.cos(theta), atol=1e-14)
        np.testing.assert_allclose(points[:, 1], radius * np.sin(theta), atol=1e-14)


def test_spirals_hand_worked() -> None:
    # Two arms of 2 points, one turn: r = 1/2, 1; theta = 2 pi r (+ pi for class 1).
    # Class 0: theta = pi, 2 pi -> (-0.5, 0), (1, 0); class 1: 2 pi, 3 pi -> (0.5, 0), (-1, 0).
    X, y = make_spirals(4, shuffle=False)
    np.testing.assert_allclose(X, [[-0.5, 0], [1, 0], [0.5, 0], [-1, 0]], atol=1e-15)
    np.testing.assert_array_equal(y, [0, 0, 1, 1])


def test_spiral_noise_moves_the_angle_not_the_radius() -> None:
    clean, y0 = make_spirals(200, n_classes=4, shuffle=False)
    noisy, y1 = make_spirals(200, n_classes=4, noise=0.2, random_state=0, shuffle=False)
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_allclose(np.hypot(*noisy.T), np.hypot(*clean.T), rtol=1e-12)
    shift = np.angle((noisy[:, 0] + 1j * noisy[:, 1]) / (clean[:, 0] + 1j * clean[:, 1]))
    assert 0.15 < shift.std() < 0.25  # wrapped N(0, 0.2^2)


def test_spirals_shuffle_is_a_permutation_and_seeded() -> None:
    ordered, y_ordered = make_spirals(60, n_classes=3, noise=0.1, random_state=4, shuffle=False)
    shuffled, y_shuffled = make_spirals(60, n_classes=3, noise=0.1, random_state=4)
    assert X_rows(shuffled) == X_rows(ordered)
    assert not np.array_equal(y_shuffled, y_ordered)
    np.testing.assert_array_equal(np.bincount(y_shuffled), [20, 20, 20])
    _same(make_spirals(60, n_classes=3, noise=0.1, random_state=4), (shuffled, y_shuffled))
    assert shuffled.flags.c_contiguous and shuffled.dtype == np.float64


def X_rows(X: np.ndarray) -> set[tuple[float, float]]:
    return {tuple(row) for row in X.tolist()}


# ----------------------------------------------------------------- train_test_split

SPLIT_CASES = [
    {"test_size": 0.2, "random_state": 42},
    {"train_size": 0.5, "random_state": 1},
    {"test_size": 17, "train_size": 100, "random_state": 7},
    {"test_size": 0.3, "train_size": 0.6, "random_state": 3},
    {"random_state": 0},
    {"test_size": 0.3, "shuffle": False},
    {"test_size": 0.99, "random_state": 5},
]


@pytest.mark.parametrize("kwargs", SPLIT_CASES)
def test_split_matches_sklearn(kwargs: dict) -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = make_moons(250, noise=0.05, random_state=42)
    names = np.array([f"s{i}" for i in range(250)])
    _same(train_test_split(X, y, names, **kwargs),
          model_selection.train_test_split(X, y, names, **kwargs))  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("test_size", [0.25, 0.1, 13, 0.77])
def test_stratified_split_matches_sklearn(seed: int, test_size: float) -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    labels = np.arange(100) % 3
    labels[:7] = 5  # a fourth, rarer class; ties in the remainders are broken at random
    kwargs = {"test_size": test_size, "random_state": seed, "stratify": labels}
    _same(train_test_split(np.arange(100), list(labels), **kwargs),
          model_selection.train_test_split(np.arange(100), list(labels), **kwargs))  # fmt: skip


def test_multilabel_stratified_split_matches_sklearn() -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    rows = np.random.default_rng(0).integers(0, 2, size=(60, 2))
    kwargs = {"test_size": 0.25, "random_state": 8, "stratify": rows}
    _same(train_test_split(np.arange(60), **kwargs),
          model_selection.train_test_split(np.arange(60), **kwargs))  # fmt: skip


@settings(deadline=None, max_examples=60)
@given(
    n=st.integers(2, 80),
    fraction=st.floats(0.01, 0.99),
    use_count=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_matches_sklearn_property(
    n: int, fraction: float, use_count: bool, seed: int
) -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    test_size: float | int = max(1, min(n - 1, round(fraction * n))) if use_count else fraction
    data = np.arange(n) * 1.5
    try:
        expected = model_selection.train_test_split(data, test_size=test_size, random_state=seed)
    except ValueError:
        with pytest.raises(ValueError, match="train set will be empty"):
            train_test_split(data, test_size=test_size, random_state=seed)
        return
    _same(train_test_split(data, test_size=test_size, random_state=seed), expected)


def test_split_with_a_random_state_instance_matches_sklearn() -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    labels = np.arange(40) % 2
    for stratify in (None, labels):
        ours = train_test_split(
            np.arange(40), random_state=np.random.RandomState(3), stratify=stratify
        )
        theirs = model_selection.train_test_split(
            np.arange(40), random_state=np.random.RandomState(3), stratify=stratify
        )
        _same(ours, theirs)


def test_split_accepts_a_generator() -> None:
    labels = np.arange(30) % 3
    first = train_test_split(np.arange(30), random_state=np.random.default_rng(1), stratify=labels)
    again = train_test_split(np.arange(30), random_state=np.random.default_rng(1), stratify=labels)
    _same(first, again)
    # 8 test rows (ceil(7.5)) over three classes of 10: 3, 3 and 2, the tie broken at random.
    assert sorted(np.bincount(labels[first[1]]).tolist()) == [2, 3, 3]


def test_split_partitions_rows_and_keeps_class_proportions() -> None:
    X = np.arange(200).reshape(100, 2)
    y = np.repeat([0, 1, 2, 3], [40, 30, 20, 10])
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    assert sorted(X_train[:, 0].tolist() + X_test[:, 0].tolist()) == list(range(0, 200, 2))
    np.testing.assert_array_equal(np.bincount(y_test), [12, 9, 6, 3])
    np.testing.assert_array_equal(np.bincount(y_train), [28, 21, 14, 7])
    np.testing.assert_array_equal(y[X_train[:, 0] // 2], y_train)  # rows stay aligned


def test_split_sizes_round_like_sklearn() -> None:
    a_train, a_test = train_test_split(list(range(10)), test_size=0.25, random_state=0)
    assert (len(a_train), len(a_test)) == (7, 3)  # test rounds up: ceil(2.5) = 3
    a_train, a_test = train_test_split(list(range(10)), train_size=0.25, random_state=0)
    assert (len(a_train), len(a_test)) == (2, 8)  # train rounds down: floor(2.5) = 2
    assert isinstance(a_train, np.ndarray)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"test_size": 1.5}, ValueError, "test_size"),
        ({"test_size": 0.0}, ValueError, "test_size"),
        ({"test_size": 0}, ValueError, "test_size"),
        ({"test_size": 10}, ValueError, "test_size=10"),
        ({"train_size": -0.1}, ValueError, "train_size"),
        ({"train_size": 10}, ValueError, "train_size=10"),
        ({"test_size": 0.6, "train_size": 0.6}, ValueError, "sum of test_size and train_size"),
        ({"test_size": 6, "train_size": 5}, ValueError, "sum of train_size and test_size"),
        ({"test_size": 0.95}, ValueError, "train set will be empty"),
        ({"test_size": "half"}, TypeError, "test_size"),
        ({"test_size": True}, TypeError, "test_size"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
        ({"shuffle": False, "stratify": [0, 1] * 5}, ValueError, "stratify requires shuffle"),
        ({"stratify": [0] * 9 + [1]}, ValueError, "only 1 member"),
        ({"stratify": [0, 1] * 4}, ValueError, "stratify must have shape"),
        ({"stratify": [0, 1, 2, 3, 4] * 2, "test_size": 3}, ValueError, "test_size = 3"),
        ({"random_state": "seed"}, TypeError, "random_state"),
        ({"random_state": -1}, ValueError, "random_state"),
    ],
)
def test_split_errors(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        train_test_split(np.arange(10), **kwargs)


def test_split_rejects_bad_arrays() -> None:
    with pytest.raises(ValueError, match="at least one array"):
        train_test_split()
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[10, 9\]"):
        train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(TypeError, match=r"arrays\[1\]"):
        train_test_split(np.arange(10), 3)
    with pytest.raises(TypeError, match=r"arrays\[0\]"):
        train_test_split(None)


# ------------------------------------------------------------------ generator errors


@pytest.mark.parametrize("fn", [make_moons, make_circles, make_spirals])
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1"),
        ({"n_samples": -5}, ValueError, "n_samples"),
        ({"n_samples": 2.5}, TypeError, "n_samples"),
        ({"noise": -0.1}, ValueError, "noise must be >= 0"),
        ({"noise": math.nan}, ValueError, "noise must be finite"),
        ({"random_state": 1.5}, TypeError, "random_state"),
    ],
)
def test_generator_errors(fn: object, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        fn(**kwargs)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: make_circles(factor=1.0), ValueError, "factor must be < 1"),
        (lambda: make_circles(factor=-0.1), ValueError, "factor must be >= 0"),
        (lambda: make_moons((1, 2, 3)), ValueError, "two-element tuple"),
        (lambda: make_moons((0, 0)), ValueError, "at least 1"),
        (lambda: make_circles((3, -1)), ValueError, r"n_samples\[1\]"),
        (lambda: make_moons(shuffle=1), TypeError, "shuffle"),
        (lambda: make_spirals(3, n_classes=4), ValueError, "n_samples must be >= n_classes"),
        (lambda: make_spirals(n_classes=1), ValueError, "n_classes must be >= 2"),
        (lambda: make_spirals(turns=-1.0), ValueError, "turns must be >= 0"),
        (lambda: make_spirals(noise=None), TypeError, "noise"),
    ],
)
def test_generator_specific_errors(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


# -------------------------------------------------------------------------- load_csv


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_with_header_and_integer_labels(tmp_path: Path) -> None:
    path = _write(tmp_path, "x1,x2,label\n0.5,1,0\n-2,3e-1,1.0\n\n4, 5 ,2\n")
    X, y = load_csv(path)
    np.testing.assert_array_equal(X, [[0.5, 1.0], [-2.0, 0.3], [4.0, 5.0]])
    np.testing.assert_array_equal(y, [0, 1, 2])
    assert X.dtype == np.float64 and y.dtype == np.int64 and X.flags.c_contiguous


def test_load_csv_without_header_and_label_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "1,0.25,7\n0,0.5,8\n")
    X, y = load_csv(str(path), label_column=0)
    np.testing.assert_array_equal(X, [[0.25, 7.0], [0.5, 8.0]])
    np.testing.assert_array_equal(y, [1, 0])
    X, y = load_csv(path, label_column=-2)
    np.testing.assert_array_equal(y, [0.25, 0.5])
    assert y.dtype == np.float64  # non-integer labels are regression targets


def test_load_csv_label_column_by_name_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffy,a,b\n1,2,3\n0,5,6\n".encode())
    X, y = load_csv(path, label_column="y")
    np.testing.assert_array_equal(X, [[2.0, 3.0], [5.0, 6.0]])
    np.testing.assert_array_equal(y, [1, 0])


def test_load_csv_header_choices(tmp_path: Path) -> None:
    path = _write(tmp_path, "1,2,0\n3,4,1\n5,6,0\n")
    assert load_csv(path)[0].shape == (3, 2)  # auto: an all-numeric first row is data
    assert load_csv(path, header=True)[0].shape == (2, 2)
    texty = _write(tmp_path, "a,b,c\n1,2,0\n3,4,1\n", "texty.csv")
    with pytest.raises(ValueError, match=r"texty\.csv: line 1, column 1: 'a' is not a number"):
        load_csv(texty, header=False)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("x1,x2,y\n0.5,1,0\n-2,0.3,1\n4,5,2\n", "data.csv"),
        ("x1;x2;y\n0.5;1;0\n-2;0.3;1\n4;5;2\n", "data.csv"),
        ("x1\tx2\ty\n0.5\t1\t0\n-2\t0.3\t1\n4\t5\t2\n", "data.tsv"),
        ("0.5 1 0\n-2  0.3 1\n 4 5 2\n", "data.dat"),  # numpy.savetxt's layout, and runs
        ("x1, x2, y\n0.5, 1, 0\n-2, 0.3, 1\n4, 5, 2\n", "moons.txt"),
    ],
)
def test_load_csv_finds_the_separator_whatever_the_suffix(
    tmp_path: Path, text: str, name: str
) -> None:
    X, y = load_csv(_write(tmp_path, text, name))
    np.testing.assert_array_equal(X, [[0.5, 1.0], [-2.0, 0.3], [4.0, 5.0]])
    np.testing.assert_array_equal(y, [0, 1, 2])


def test_load_csv_reads_what_numpy_savetxt_writes(tmp_path: Path) -> None:
    X, y = make_moons(30, noise=0.1, random_state=1)
    np.savetxt(tmp_path / "moons.txt", np.c_[X, y])
    X2, y2 = load_csv(tmp_path / "moons.txt")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_load_csv_text_labels_are_names(tmp_path: Path) -> None:
    path = _write(tmp_path, "x1,x2,animal\n0.5,1,dog\n-2,0.3,cat\n4,5,dog\n1,1, bird\n")
    X, y = load_csv(path)
    assert X.shape == (4, 2) and y.dtype.kind == "U"
    assert y.tolist() == ["dog", "cat", "dog", "bird"]
    # Without a header the first row is data: its label is a name like the others.
    bare = _write(tmp_path, "0.5,1,dog\n-2,0.3,cat\n", "bare.csv")
    X, y = load_csv(bare)
    assert X.shape == (2, 2) and y.tolist() == ["dog", "cat"]
    # A numeric first row whose label cell names the column, above numeric labels: a header.
    named = _write(tmp_path, "0.5,1,label\n-2,0.3,1\n4,5,0\n", "named.csv")
    X, y = load_csv(named)
    assert X.shape == (2, 2) and y.tolist() == [1, 0]
    classes, numbers = np.unique(load_csv(path)[1], return_inverse=True)
    assert classes.tolist() == ["bird", "cat", "dog"] and numbers.tolist() == [2, 1, 2, 0]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "a,b,y\n1,2,cat\n3,4,1\n5,6,dog\n",
            r"the label column \(y\) mixes numbers \(line 3: '1'\) and names \(line 2: 'cat'\)",
        ),
        ("a,b,y\n1,2,cat\n3,4,cat\n", r"the label column \(y\) holds a single class \(cat\)"),
        ("a,b,y\n1,2,cat\n3,4,\n", r"line 3, column 3: the label is empty"),
        ("a,b,y\n1,2,cat\n3,x,dog\n", r"line 3, column 2: 'x' is not a number"),
    ],
)
def test_load_csv_label_errors(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_csv(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"data\.csv: the file is empty"),
        ("\n  \n", r"data\.csv: the file is empty"),
        ("a,b,label\n", r"data\.csv: line 1 is a header, and no data rows follow"),
        ("a,b,c\n1,2,0\n3,x,1\n", r"data\.csv: line 3, column 2: 'x' is not a number"),
        ("1,2,0\n\n3,,1\n", r"data\.csv: line 3, column 2: '' is not a number"),
        ("a,b,c\n1,2,0\n3,4\n", r"data\.csv: line 3: expected 3 columns, found 2"),
        ("1,2,0\n3,4,1,9\n", r"data\.csv: line 2: expected 3 columns, found 4"),
        ("1,nan,0\n3,4,1\n", r"data\.csv: line 1, column 2: 'nan' is NaN or infinite"),
        ("1,2,0\n3,-inf,1\n", r"data\.csv: line 2, column 2: '-inf' is NaN or infinite"),
        ("a,b,y\n1,2,3\n4,5,3\n", r"data\.csv: the label column \(y\) holds a single class \(3\)"),
        ("1\n2\n", r"data\.csv: line 1: expected at least 2 columns"),
        ('1,"2\n', r"data\.csv: line 1: malformed CSV"),
    ],
)
def test_load_csv_errors_name_file_and_line(tmp_path: Path, text: str, match: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=match) as info:
        load_csv(path)
    assert "\n" not in str(info.value)


def test_load_csv_argument_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=r"nope\.csv: no such file"):
        load_csv(missing)
    with pytest.raises(ValueError, match="not a regular file"):
        load_csv(tmp_path)
    path = _write(tmp_path, "a,b\n1,0\n2,1\n")
    with pytest.raises(ValueError, match="label_column=5 is out of range for 2 columns"):
        load_csv(path, label_column=5)
    with pytest.raises(ValueError, match="'z' is not a column"):
        load_csv(path, label_column="z")
    with pytest.raises(TypeError, match="label_column"):
        load_csv(path, label_column=1.0)
    with pytest.raises(ValueError, match="header must be"):
        load_csv(path, header="yes")
    with pytest.raises(TypeError, match="path"):
        load_csv(42)  # type: ignore[arg-type]
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\xff\xfe\x00a,b\n")
    with pytest.raises(ValueError, match=r"blob\.csv: not a UTF-8 text file"):
        load_csv(binary)


def test_load_csv_round_trips_a_generated_data_set(tmp_path: Path) -> None:
    X, y = make_moons(40, noise=0.1, random_state=0)
    path = tmp_path / "moons.csv"
    lines = ["x0,x1,y"] + [f"{float(a)!r},{float(b)!r},{c}" for (a, b), c in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    X2, y2 = load_csv(path, delimiter=",")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
