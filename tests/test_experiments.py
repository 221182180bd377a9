"""vgp_native.experiments: configurations, networks, compare, sweeps on every executor."""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import multiprocessing
import os
import threading

import numpy as np
import pytest

from vgp_native.experiments import (
    CONFIG_KEYS,
    DEFAULTS,
    RESULT_FIELDS,
    build_model,
    check_config,
    compare,
    expand_grid,
    is_dask_client,
    load_dataset,
    run_config,
    sweep,
)
from vgp_native.experiments.figures import heatmap_grid, verdict_grid, verdict_heatmap
from vgp_native.experiments.files import atomic_write_text, remove_stale_temporaries
from vgp_native.experiments.pool import watch_parent
from vgp_native.experiments.summary import summarize, trainable_depth
from vgp_native.experiments.sweep import decode_result, encode_result
from vgp_native.layers import BatchNormalization, Dense, Dropout, Residual

SMALL_GRID = {"depth": [2, 5], "activation": ["sigmoid", "relu"], "norm": ["none", "batchnorm"]}


def _strip_seconds(results: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in results]


# -- configurations and networks ------------------------------------------------------------


def test_defaults_are_the_seed_experiment() -> None:
    cfg = check_config()
    assert cfg["depth"] == 8 and cfg["width"] == 10 and cfg["activation"] == "sigmoid"
    assert cfg["optimizer"] == "adam" and cfg["learning_rate"] == 0.001
    assert cfg["batch_size"] == 32 and cfg["dataset"] == "moons"
    assert tuple(cfg) == CONFIG_KEYS
    model = build_model(cfg)
    kernels = [w for w in model.get_weights() if w.ndim == 2]
    assert [k.shape for k in kernels] == [(2, 10)] + [(10, 10)] * 7 + [(10, 1)]
    assert model.loss == "binary_crossentropy"
    assert [r.activation for r in model.flow_rows] == ["sigmoid"] * 9


def test_sgd_default_learning_rate_is_keras() -> None:
    assert check_config(optimizer="sgd")["learning_rate"] == 0.01
    assert check_config(optimizer="SGD", learning_rate=0.5)["learning_rate"] == 0.5


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"depth": 0}, "config\\['depth'\\] must be >= 1"),
        ({"depth": 2.5}, "config\\['depth'\\] must be an integer"),
        ({"activation": "softmax"}, "elementwise"),
        ({"activation": "bogus"}, "bogus"),
        ({"init": "bogus"}, "config\\['init'\\]: unknown initializer 'bogus'"),
        ({"init": "random_normal(sigma=1)"}, "sigma"),
        ({"init": "random_normal(stddev=x)"}, "key=number"),
        ({"norm": "layernorm"}, "config\\['norm'\\] must be one of none, batchnorm"),
        ({"residual": "dense"}, "config\\['residual'\\]"),
        ({"dropout": 1.0}, "config\\['dropout'\\]"),
        ({"learning_rate": -1.0}, "config\\['learning_rate'\\]"),
        ({"optimizer": "lbfgs"}, "config\\['optimizer'\\]"),
        ({"colour": "red"}, "unknown configuration key"),
    ],
)
def test_bad_configurations_name_the_key(overrides: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        check_config(**overrides)


def test_batchnorm_layout() -> None:
    model = build_model({"depth": 3, "norm": "batchnorm"})
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "BatchNormalization", "Activation"] * 3 + ["Dense"]
    assert all(layer.activation == "linear" for layer in model.layers[:-1:3])


@pytest.mark.parametrize(("depth", "blocks"), [(8, [2, 2, 2, 1]), (5, [2, 2]), (1, [])])
def test_residual_blocks_count_dense_layers_like_plain_networks(depth: int, blocks: list) -> None:
    model = build_model({"depth": depth, "residual": "identity"})
    plain = build_model({"depth": depth})
    assert len(model.flow_rows) == len(plain.flow_rows) == depth + 1
    residual = [layer for layer in model.layers if isinstance(layer, Residual)]
    assert [sum(isinstance(s, Dense) for s in r.layers) for r in residual] == blocks
    for block in residual:
        # A pure identity skip: nothing after the sum, no projection.
        assert block.activation == "linear" and not block.has_projection
        inner = [type(s).__name__ for s in block.layers]
        assert inner == (
            ["Dense", "Activation", "Dense"] if len(inner) == 3 else ["Dense", "Activation"]
        )
    assert sum(w.size for w in model.get_weights()) == sum(w.size for w in plain.get_weights())


def test_residual_batchnorm_block_and_dropout() -> None:
    model = build_model({"depth": 3, "residual": "identity", "norm": "batchnorm", "dropout": 0.25})
    block = next(layer for layer in model.layers if isinstance(layer, Residual))
    assert [type(s).__name__ for s in block.layers] == [
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dense",
        "BatchNormalization",
    ]
    assert sum(isinstance(layer, Dropout) for layer in model.layers) == 2
    assert any(isinstance(layer, BatchNormalization) for layer in model.layers)


def test_initializer_strings_and_seed() -> None:
    naive = build_model({"init": "random_normal(stddev=1)", "width": 200, "depth": 2})
    kernel = naive.get_weights()[2]
    assert kernel.shape == (200, 200)
    assert abs(float(kernel.std()) - 1.0) < 0.02
    a = build_model({"seed": 3}).get_weights()
    b = build_model({"seed": 3}).get_weights()
    c = build_model({"seed": 4}).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_every_initializer_name_builds() -> None:
    # The names come from the initializer registry; the two that take
    # arguments (constant, variance_scaling) accept them as key=number.
    constant = build_model({"init": "constant(value=0.25)", "width": 8, "depth": 2})
    assert np.all(constant.get_weights()[2] == np.float32(0.25))
    scaled = build_model({"init": "variance_scaling(scale=2)", "width": 400, "depth": 2})
    # truncated normal of variance scale / fan_in = 2 / 400
    assert abs(float(scaled.get_weights()[2].var()) - 2 / 400) < 0.1 * 2 / 400
    with pytest.raises(ValueError, match="unknown initializer 'bogus'"):
        build_model({"init": "bogus"})


def test_multiclass_output_is_softmax() -> None:
    model = build_model({"depth": 2}, input_dim=4, n_classes=3)
    assert model.layers[-1].units == 3 and model.layers[-1].activation == "softmax"
    assert model.loss == "sparse_categorical_crossentropy"
    with pytest.raises(ValueError, match="n_classes"):
        build_model({}, n_classes=1)


# -- data ---------------------------------------------------------------------------------------


def test_builtin_datasets_split_like_the_seed() -> None:
    from vgp_native.datasets import make_moons, train_test_split

    moons = load_dataset("moons")
    X, y = make_moons(n_samples=250, noise=0.05, random_state=42)
    X_train, _, _, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    assert np.array_equal(moons.x_train, X_train) and np.array_equal(moons.y_test, y_test)
    assert moons.x_test.shape == (50, 2) and moons.n_classes == 2
    for name in ("circles", "spirals"):
        data = load_dataset(name)
        assert data.x_train.shape == (200, 2) and set(np.unique(data.y_train)) == {0, 1}
    assert load_dataset("moons").digest() == moons.digest() != load_dataset("circles").digest()


def test_csv_labels_are_renumbered(tmp_path) -> None:
    path = tmp_path / "three.csv"
    rows = [f"{i * 0.1},{(i * 7) % 5 * 0.2},{[-1, 4, 9][i % 3]}" for i in range(30)]
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    data = load_dataset(str(path))
    assert data.n_classes == 3 and data.n_features == 2
    assert set(np.unique(np.concatenate([data.y_train, data.y_test]))) == {0, 1, 2}
    run = run_config({"depth": 2, "dataset": str(path)}, epochs=2)
    assert run.model.layers[-1].units == 3 and run.model.loss == "sparse_categorical_crossentropy"
    assert run.result["dataset"] == str(path) and 0.0 <= run.result["val_accuracy"] <= 1.0
    floats = tmp_path / "floats.csv"
    floats.write_text("1,0.5\n2,1.5\n3,0.25\n")
    with pytest.raises(ValueError, match="non-integer"):
        load_dataset(str(floats))
    with pytest.raises(ValueError, match="moons, circles, spirals"):
        load_dataset("mnist")
    assert data.classes == (-1, 4, 9) and data.renumbered
    assert data.class_legend() == "0 = -1, 1 = 4, 2 = 9"
    moons = load_dataset("moons")
    assert moons.classes == (0, 1) and not moons.renumbered


def test_a_data_file_of_any_suffix_with_named_classes(tmp_path) -> None:
    path = tmp_path / "pets.txt"
    rows = [f"{i * 0.1:.1f};{(i * 7) % 5 * 0.2:.1f};{['dog', 'cat'][i % 2]}" for i in range(20)]
    path.write_text("\n".join(rows) + "\n")
    data = load_dataset(str(path))
    assert data.n_classes == 2 and data.classes == ("cat", "dog")
    assert data.class_legend() == "0 = cat, 1 = dog"
    # class 1 is "dog": the rows with an even index
    x_all = np.concatenate([data.x_train, data.x_test])
    y_all = np.concatenate([data.y_train, data.y_test])
    even = np.isclose((x_all[:, 0] * 10) % 2, 0)
    assert np.array_equal(y_all, even.astype(np.int64))
    with pytest.raises(FileNotFoundError, match=r"moons\.txt: no such file"):
        load_dataset(str(tmp_path / "moons.txt"))


# -- one run, compare -------------------------------------------------------------------------


def test_run_config_measures_what_it_says() -> None:
    run = run_config({"depth": 6}, epochs=3)
    r = run.result
    assert list(r) == [*CONFIG_KEYS, *RESULT_FIELDS]
    grads = run.flow.field("grad_norm")[0]
    assert r["grad_ratio"] == pytest.approx(grads[0] / grads[-1], rel=1e-12)
    signal = run.flow.field("signal_norm")[0]
    assert r["signal_ratio"] == pytest.approx(signal[0] / signal[-2], rel=1e-12)
    change = np.linalg.norm(run.model.get_weights()[0] - run.initial_kernel)
    assert r["weight_change"] == pytest.approx(change / np.linalg.norm(run.initial_kernel))
    assert r["final_loss"] == run.history.history["loss"][-1]
    assert r["val_accuracy"] == pytest.approx(
        run.model.evaluate(run.data.x_test, run.data.y_test, verbose=0)[1]
    )
    assert r["verdict"] == run.report.verdict == "vanishing"
    assert r["epochs"] == 3 and r["seconds"] > 0


@pytest.mark.parametrize(
    ("config", "finding", "change"),
    [
        # Adam at 1e30: the weights turn NaN in the first epoch.
        ({"activation": "relu", "learning_rate": 1e30, "depth": 3}, "[non-finite]", math.isnan),
        # SGD at 1e30: finite float32 kernels near 1e29, whose squares overflow float32.
        (
            {"activation": "tanh", "optimizer": "sgd", "learning_rate": 1e30, "depth": 4},
            "[learning-rate]",
            lambda value: 1e20 < value < math.inf,
        ),
    ],
)
def test_a_diverging_run_warns_nothing_and_reports_it(config, finding, change) -> None:
    # pytest runs with filterwarnings=error: a numpy RuntimeWarning anywhere in the
    # training, the measurements or the report fails this test.
    run = run_config(config, epochs=3)
    assert change(run.result["weight_change"])
    assert any(f.startswith(finding) for f in run.report.findings), run.report.findings
    assert finding in str(run.report)


def test_compare_shows_the_remedy() -> None:
    runs = compare(
        {"seed": {}, "relu + he": {"activation": "relu", "init": "he_normal"}}, epochs=40
    )
    assert [run.label for run in runs] == ["seed", "relu + he"]
    seed, relu = (run.result for run in runs)
    assert seed["grad_ratio"] < 1e-3 < relu["grad_ratio"]
    assert relu["val_accuracy"] > seed["val_accuracy"]


def test_compare_on_arrays_with_a_seed_override() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.where(X[:, 0] > 0, 5, 7)
    calls = []
    runs = compare(
        [{"depth": 2, "seed": 9}, {"depth": 3}],
        X,
        y,
        epochs=2,
        seed=4,
        progress=lambda i, n, run: calls.append((i, n, run.label)),
    )
    assert [run.result["seed"] for run in runs] == [4, 4]
    assert [run.result["dataset"] for run in runs] == ["arrays", "arrays"]
    assert runs[0].data.x_train.shape == (48, 3)
    assert calls == [(1, 2, runs[0].label), (2, 2, runs[1].label)]
    with_val = compare([{"depth": 2}], X[:40], y[:40], validation_data=(X[40:], y[40:]), epochs=1)
    assert with_val[0].data.x_test.shape == (20, 3)
    with pytest.raises(ValueError, match="validation labels"):
        compare([{}], X[:40], y[:40], validation_data=(X[40:], y[40:] + 1), epochs=1)


# -- sweeps -----------------------------------------------------------------------------------


def test_expand_grid_order_and_defaults() -> None:
    configs = expand_grid({"activation": ["relu", "tanh"], "depth": [2, 3]}, seeds=2)
    assert [(c["depth"], c["activation"], c["seed"]) for c in configs] == [
        (2, "relu", 0),
        (2, "relu", 1),
        (2, "tanh", 0),
        (2, "tanh", 1),
        (3, "relu", 0),
        (3, "relu", 1),
        (3, "tanh", 0),
        (3, "tanh", 1),
    ]
    assert all(c["width"] == DEFAULTS["width"] and c["dataset"] == "moons" for c in configs)
    assert [c["seed"] for c in expand_grid({"depth": 2}, seeds=[5, 7])] == [5, 7]
    with pytest.raises(ValueError, match="seeds"):
        expand_grid({"seed": [1]})
    with pytest.raises(ValueError, match="unknown grid key"):
        expand_grid({"depths": [1]})
    with pytest.raises(ValueError, match="empty"):
        expand_grid({"depth": []})


def test_sweep_results_do_not_depend_on_where_they_ran() -> None:
    serial = sweep(SMALL_GRID, seeds=2, epochs=5, max_workers=1)
    pool = sweep(SMALL_GRID, seeds=2, epochs=5, max_workers=2)
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        threads = sweep(SMALL_GRID, seeds=2, epochs=5, executor=ex)
    assert len(serial) == 16
    assert _strip_seconds(serial) == _strip_seconds(pool) == _strip_seconds(threads)
    for r in serial:
        assert list(r) == [*CONFIG_KEYS, *RESULT_FIELDS]
        assert r["verdict"] in ("healthy", "vanishing", "exploding", "dead", "saturated")


def test_sweep_on_a_dask_cluster_matches_local() -> None:
    distributed = pytest.importorskip("distributed")
    grid = {"depth": [2, 4], "activation": ["sigmoid", "relu"]}
    local = sweep(grid, seeds=2, epochs=4, max_workers=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert is_dask_client(client)
        remote = sweep(grid, seeds=2, epochs=4, executor=client)
    assert _strip_seconds(remote) == _strip_seconds(local)


def test_is_dask_client_without_dask() -> None:
    assert not is_dask_client(cf.ThreadPoolExecutor)
    assert not is_dask_client(object())
    with pytest.raises(TypeError, match="executor"):
        sweep({"depth": [1]}, executor="localhost:8786")


def test_sweep_cache_resumes_with_the_same_results(tmp_path) -> None:
    cache = tmp_path / "runs"
    seen = []
    first = sweep(
        SMALL_GRID,
        seeds=1,
        epochs=3,
        max_workers=1,
        cache_dir=cache,
        progress=lambda d, n, r, cached: seen.append(cached),
    )
    files = sorted(cache.glob("*.json"))
    assert len(files) == 8 and seen == [False] * 8
    # An interrupted sweep: some results gone, one half-written temporary, one corrupt file.
    for f in files[::2]:
        f.unlink()
    (cache / ".abc.json.123.tmp").write_text('{"depth": ')
    files[1].write_text("{not json")
    seen.clear()
    again = sweep(
        SMALL_GRID,
        seeds=1,
        epochs=3,
        max_workers=2,
        cache_dir=cache,
        progress=lambda d, n, r, cached: seen.append(cached),
    )
    assert _strip_seconds(again) == _strip_seconds(first)
    assert seen.count(True) == 3 and seen.count(False) == 5
    assert not list(cache.glob(".*.tmp"))
    kept = json.loads(files[3].read_text())
    assert decode_result(kept) == next(r for r in again if encode_result(r) == kept)
    # Other epochs are other runs.
    assert len(sweep(SMALL_GRID, seeds=1, epochs=2, max_workers=1, cache_dir=cache)) == 8
    assert len(list(cache.glob("*.json"))) == 16


def test_encode_result_round_trips_non_finite_values() -> None:
    result = {**check_config(), "final_loss": math.nan, "grad_ratio": math.inf, "verdict": "x"}
    text = json.dumps(encode_result(result), allow_nan=False)
    back = decode_result(json.loads(text))
    assert math.isnan(back["final_loss"]) and back["grad_ratio"] == math.inf
    assert back["verdict"] == "x" and back["init"] == "glorot_uniform"


def test_atomic_files(tmp_path) -> None:
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    (tmp_path / ".a.txt.1.tmp").write_text("half")
    assert remove_stale_temporaries(tmp_path) == 1


# -- summaries --------------------------------------------------------------------------------


def test_trainable_depth_from_mean_field() -> None:
    sigmoid = trainable_depth(check_config())
    assert sigmoid == pytest.approx(6 / abs(math.log(0.0557)), rel=0.01)  # about 2.08
    assert trainable_depth(check_config(activation="relu", init="he_normal")) == math.inf
    assert trainable_depth(check_config(norm="batchnorm")) is None
    assert trainable_depth(check_config(residual="identity")) is None
    assert trainable_depth(check_config(init="ones")) is None


def test_summarize_and_heatmap_grid() -> None:
    results = []
    for depth in (2, 4):
        for act in ("sigmoid", "relu"):
            for seed, (acc, ratio) in enumerate([(0.5, 1e-2), (1.0, 1e-4)]):
                results.append(
                    {
                        **check_config(depth=depth, activation=act, seed=seed),
                        "epochs": 1,
                        "final_loss": 0.5,
                        "accuracy": acc,
                        "val_accuracy": acc,
                        "grad_ratio": ratio,
                        "signal_ratio": 1.0,
                        "weight_change": 0.1,
                        "verdict": ["healthy", "vanishing"][seed],
                        "seconds": 0.1,
                    }
                )
    summary = summarize(results[:-1])
    assert len(summary) == 4
    assert summary[0]["seeds"] == 2 and summary[0]["val_accuracy"] == 0.75
    assert summary[0]["grad_ratio"] == pytest.approx(1e-3)
    assert summary[0]["verdict"] == "vanishing" and summary[0]["verdict_count"] == 1
    assert summary[-1]["seeds"] == 1 and summary[-1]["verdict"] == "healthy"
    labels, depths, values, theory = heatmap_grid(results[:-2], "val_accuracy")
    assert labels == ["sigmoid", "relu"] and depths == [2, 4]
    assert values[0].tolist() == [0.75, 0.75] and math.isnan(values[1, 1])
    assert theory[0] == pytest.approx(2.08, abs=0.01)  # sigmoid, glorot_uniform
    assert theory[1] == pytest.approx(8.66, abs=0.01)  # relu, glorot_uniform: chi1 = 1/2
    with pytest.raises(ValueError, match="metric"):
        heatmap_grid(results, "loss")


def test_verdict_grid_pools_both_parts_over_seeds() -> None:
    """The sweep's verdict heatmap: per cell the most severe part over seeds, and counts."""
    base = {k: DEFAULTS[k] for k in CONFIG_KEYS}
    results = []
    for seed, (initial, training) in enumerate([("vanishing", "healthy"), ("healthy", "dead")]):
        results.append(
            base
            | {"seed": seed, "depth": 8}
            | dict.fromkeys(RESULT_FIELDS, 0.0)
            | {"verdict": "vanishing" if seed == 0 else "dead"}
            | {"initial_verdict": initial, "training_verdict": training}
        )
    labels, depths, cells = verdict_grid(results)
    assert depths == [8] and len(labels) == 1
    cell = cells[0][0]
    assert (cell["initial_verdict"], cell["initial_verdict_count"]) == ("vanishing", 1)
    assert (cell["training_verdict"], cell["training_verdict_count"]) == ("dead", 1)
    assert cell["verdict"] == "vanishing"
    fig = verdict_heatmap(results)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["van / dead"]


# -- the local pool's workers end with their parent -------------------------------------------


def _watch(lifeline, parent: int) -> threading.Event:
    ended = threading.Event()
    threading.Thread(target=watch_parent, args=(lifeline, parent, ended.set), daemon=True).start()
    return ended


def test_a_worker_watchdog_fires_when_the_lifeline_closes() -> None:
    lifeline, held = multiprocessing.get_context("spawn").Pipe(duplex=False)
    ended = _watch(lifeline, os.getppid())
    assert not ended.wait(0.3)  # the parent (here: this process) holds the write end
    held.close()
    assert ended.wait(5)
    lifeline.close()


def test_a_worker_watchdog_fires_when_its_parent_changes() -> None:
    # The write end stays open (as when a forked process inherited it); the parent id
    # differs from the one recorded, as it does once a worker is adopted by init.
    lifeline, held = multiprocessing.get_context("spawn").Pipe(duplex=False)
    ended = _watch(lifeline, os.getppid() + 1)
    assert ended.wait(5)
    held.close()
    lifeline.close()
