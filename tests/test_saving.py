"""save / load_model: exact round trips, atomic writes, malformed files rejected."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Residual
from vgp_native.models import Sequential, load_model
from vgp_native.optimizers import SGD


def _trained(dtype: str = "float32") -> tuple[Sequential, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = rng.integers(0, 3, size=64)
    model = Sequential(seed=1, dtype=dtype, name="roundtrip")
    model.add(Dense(8, input_dim=3, kernel_initializer="he_normal"))
    model.add(BatchNormalization(momentum=0.9))
    model.add(Activation("relu"))
    model.add(Residual([Dense(8, "tanh"), Dropout(0.1), Dense(8)], activation="elu"))
    model.add(Residual([Dense(5, "gelu")]))
    model.add(Dense(3, "softmax", use_bias=False))
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=SGD(0.05, momentum=0.5),
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model, x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_preserves_predictions_exactly(tmp_path: Path, dtype: str) -> None:
    model, x = _trained(dtype)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
        assert b.dtype == np.dtype(dtype)
    assert loaded.name == "roundtrip"
    assert loaded.loss == "sparse_categorical_crossentropy"
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert [type(la).__name__ for la in loaded.layers] == [type(la).__name__ for la in model.layers]
    # The loaded model trains on.
    loaded.fit(x, np.zeros(len(x)), epochs=1, verbose=0)


def test_file_is_a_plain_npz(tmp_path: Path) -> None:
    model, _ = _trained()
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["weight_00000.npy"], model.get_weights()[0])
        assert json.loads(data["config.json"])["format"] == "vgp-native"


def test_save_is_atomic_and_overwrites(tmp_path: Path) -> None:
    model, _ = _trained()
    path = tmp_path / "m.npz"
    path.write_bytes(b"old content")
    model.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    assert load_model(path).count_params() == model.count_params()


def test_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:
    model, _ = _trained()
    path = tmp_path / "m.npz"
    model.save(path)
    original = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_unbuilt_model_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no weights yet"):
        Sequential([Dense(2)]).save(tmp_path / "m.npz")


# -- malformed files ---------------------------------------------------------------------


def _saved_bytes(tmp_path: Path) -> bytes:
    model, _ = _trained()
    path = tmp_path / "good.npz"
    model.save(path)
    return path.read_bytes()


def _rewrite(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "bad.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.npz"):
        load_model(tmp_path / "nope.npz")


@pytest.mark.parametrize("cut", [0, 10, 100, -200, -20])
def test_truncated_file(tmp_path: Path, cut: int) -> None:
    raw = _saved_bytes(tmp_path)
    path = tmp_path / "cut.npz"
    path.write_bytes(raw[:cut] if cut > 0 else raw[:cut] if cut < 0 else b"")
    with pytest.raises(ValueError, match="Cannot load model"):
        load_model(path)


def test_every_single_bit_flip_in_the_data_is_caught_or_harmless(tmp_path: Path) -> None:
    raw = _saved_bytes(tmp_path)
    model_ref = load_model(tmp_path / "good.npz")
    x = np.random.default_rng(5).normal(size=(8, 3))
    ref = model_ref.predict(x, verbose=0)
    rng = np.random.default_rng(0)
    path = tmp_path / "flip.npz"
    for pos in rng.choice(len(raw), size=120, replace=False):
        data = bytearray(raw)
        data[pos] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(data))
        try:
            loaded = load_model(path)
        except ValueError as exc:
            assert "Cannot load model" in str(exc)
            continue
        # A flip the zip format does not checksum (e.g. a timestamp) must not change the model.
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), ref)


def test_foreign_npz(tmp_path: Path) -> None:
    path = tmp_path / "foreign.npz"
    np.savez(path, a=np.arange(3))
    with pytest.raises(ValueError, match="not a vgp-native model file"):
        load_model(path)


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "text.npz"
    path.write_text("hello")
    with pytest.raises(ValueError, match="not a zip"):
        load_model(path)


def test_pickled_object_array_is_never_unpickled(tmp_path: Path) -> None:
    members = _members(_saved_bytes(tmp_path))

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > pwned.txt",))

    buf = io.BytesIO()
    np.save(buf, np.array([Evil()], dtype=object), allow_pickle=True)
    members["weight_00000.npy"] = buf.getvalue()
    path = _rewrite(tmp_path, members)
    with pytest.raises(ValueError, match="dtype object"):
        load_model(path)
    assert not Path("pwned.txt").exists()
    raw_pickle = pickle.dumps({"a": 1})
    members["weight_00000.npy"] = raw_pickle
    with pytest.raises(ValueError, match="not a valid npy array"):
        load_model(_rewrite(tmp_path, members))


def test_oversized_declared_shape_is_rejected_before_allocation(tmp_path: Path) -> None:
    members = _members(_saved_bytes(tmp_path))
    config = json.loads(members["config.json"])
    config["model"]["layers"][0]["config"]["units"] = 10**12
    members["config.json"] = json.dumps(config).encode()
    with pytest.raises(ValueError, match=r"bytes of weights|shape"):
        load_model(_rewrite(tmp_path, members))
    # An npy header that lies about its shape.
    members = _members(_saved_bytes(tmp_path))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**9, 10**9)}
    )
    members["weight_00000.npy"] = header.getvalue() + b"\0" * 16
    with pytest.raises(ValueError, match="shape"):
        load_model(_rewrite(tmp_path, members))


def test_inconsistent_weight_count_and_missing_members(tmp_path: Path) -> None:
    members = _members(_saved_bytes(tmp_path))
    del members["weight_00003.npy"]
    with pytest.raises(ValueError, match=r"weight_00003\.npy is missing"):
        load_model(_rewrite(tmp_path, members))
    members = _members(_saved_bytes(tmp_path))
    config = json.loads(members["config.json"])
    config["n_weights"] = 3
    members["config.json"] = json.dumps(config).encode()
    with pytest.raises(ValueError, match="declares 3 weights"):
        load_model(_rewrite(tmp_path, members))


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda c: c.update(format="other"), "not a vgp-native model"),
        (lambda c: c.update(version=99), "unsupported format version"),
        (lambda c: c["model"].update(layers=[]), "lists no layers"),
        (lambda c: c["model"].update(input_dim="3"), "invalid input_dim"),
        (lambda c: c["model"]["layers"][0].update(class_name="Conv2D"), "Unknown layer class"),
        (lambda c: c["model"]["layers"][0]["config"].update(units=-1), "units must be >= 1"),
        (lambda c: c["model"].update(dtype="int8"), "unsupported dtype"),
        (lambda c: c["compile"].update(loss="hinge"), "Unknown loss"),
    ],
)
def test_malformed_config(tmp_path: Path, mutate, match: str) -> None:
    members = _members(_saved_bytes(tmp_path))
    config = json.loads(members["config.json"])
    mutate(config)
    members["config.json"] = json.dumps(config).encode()
    with pytest.raises(ValueError, match=match):
        load_model(_rewrite(tmp_path, members))


def test_config_that_is_not_json(tmp_path: Path) -> None:
    members = _members(_saved_bytes(tmp_path))
    members["config.json"] = b"\xff\xfe{not json"
    with pytest.raises(ValueError, match=r"unreadable config\.json"):
        load_model(_rewrite(tmp_path, members))


def test_compressed_members_are_rejected(tmp_path: Path) -> None:
    members = _members(_saved_bytes(tmp_path))
    path = tmp_path / "deflated.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ValueError, match="compressed"):
        load_model(path)


# -- file names -----------------------------------------------------------------------------------


def _small() -> Sequential:
    model = Sequential(seed=0)
    model.add(Dense(2, input_dim=3))
    return model


def test_a_path_without_suffix_gets_npz_as_numpy_does(tmp_path: Path) -> None:
    model = _small()
    written = model.save(tmp_path / "model")
    assert written == str(tmp_path / "model.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    for name in ("model", "model.npz"):
        loaded = load_model(tmp_path / name)
        np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
    assert model.save(str(tmp_path / "other.NPZ")).endswith("other.NPZ")


def test_a_suffixless_file_of_its_own_still_loads(tmp_path: Path) -> None:
    model = _small()
    model.save(tmp_path / "old.npz")
    (tmp_path / "old.npz").rename(tmp_path / "old")
    np.testing.assert_array_equal(load_model(tmp_path / "old").get_weights()[0], model.weights[0])
    with pytest.raises(FileNotFoundError, match=r"missing\.npz"):
        load_model(tmp_path / "missing")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("m.keras", "Keras 3"),
        ("m.h5", "HDF5"),
        ("m.hdf5", "HDF5"),
        ("m.pkl", "pickle"),
        ("m.txt", "models are .npz archives"),
    ],
)
def test_a_foreign_suffix_is_refused_naming_path_and_suffix(
    tmp_path: Path, name: str, words: str
) -> None:
    model = _small()
    path = tmp_path / name
    expected = str(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="Cannot save") as info:
        model.save(path)
    assert str(path) in str(info.value) and words in str(info.value)
    assert expected in str(info.value)
    assert list(tmp_path.iterdir()) == []
    model.save(tmp_path / "m.npz")
    (tmp_path / "m.npz").rename(path)
    with pytest.raises(ValueError, match="Cannot load") as info:
        load_model(path)
    assert str(path) in str(info.value) and expected in str(info.value)


def test_a_directory_or_a_non_path_is_refused(tmp_path: Path) -> None:
    model = _small()
    with pytest.raises(ValueError, match="names a directory"):
        model.save(tmp_path)
    with pytest.raises(ValueError, match="names a directory"):
        model.save(f"{tmp_path}{os.sep}")
    with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike"):
        model.save(3)
    with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike"):
        load_model(None)
