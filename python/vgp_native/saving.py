"""Saving and loading models: one ``.npz`` archive, written atomically, read safely.

Layout (a zip archive of uncompressed members, readable by ``numpy.load``)::

    config.json         {"format": "vgp-native", "version": 1, "model": ..., "compile": ...}
    weight_00000.npy    the weights in Keras order (float32 or float64)
    ...

File names: a path ending in ``.npz`` is used as given, and a path without a
suffix gets ``.npz`` appended (as ``numpy.savez`` does; ``load_model`` reads
``m.npz`` for ``m`` too). Any other suffix is a ValueError naming the path and
the supported suffix: ``m.keras`` or ``m.h5`` would promise Keras' formats, and
no file is written under a name that says it is something else.

``save`` writes a temporary file next to the target and renames it over the
target, so a crash never leaves a half-written model. ``load_model`` never
unpickles; it checks every array header against the shapes the configuration
implies before reading any data, and it only reads uncompressed members whose
bytes are really in the file, so a malformed or hostile file cannot make it
allocate more memory than the file's own size.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from . import optimizers
from ._atomic import atomic_open
from .layers import InputLayer, deserialize, serialize

FORMAT = "vgp-native"
SUFFIX = ".npz"
#: Suffixes of other libraries' model formats, named in the error for them.
FOREIGN_SUFFIXES = {
    ".keras": "Keras 3",
    ".h5": "HDF5 (Keras 2)",
    ".hdf5": "HDF5 (Keras 2)",
    ".pt": "PyTorch",
    ".pth": "PyTorch",
    ".pkl": "pickle",
}
VERSION = 1
_CONFIG = "config.json"
_MAX_CONFIG_BYTES = 16 * 1024 * 1024
_ALLOWED_DTYPES = (np.dtype("<f4"), np.dtype("<f8"))
# What zipfile raises on a damaged archive besides BadZipFile: an encryption
# flag (RuntimeError: "password required"), an unknown feature flag or
# version (NotImplementedError), a short read (EOFError, OSError).
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError)


def _weight_member(i: int) -> str:
    return f"weight_{i:05d}.npy"


def model_path(path: Any, action: str = "save") -> str:
    """The file a model is saved to or loaded from (see the module docstring).

    Args:
        path: a str or ``os.PathLike``.
        action: "save" or "load", for the error message.

    Raises:
        TypeError: ``path`` is not a path.
        ValueError: a suffix other than ``.npz``, or a directory.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, received {path!r}")
    path = os.fsdecode(path)
    head, name = os.path.split(path)
    if not name or os.path.isdir(path):
        raise ValueError(f"Cannot {action} a model as '{path}': it names a directory, not a file")
    suffix = os.path.splitext(name)[1]
    if suffix.lower() == SUFFIX:
        return path
    if not suffix:
        return path + SUFFIX
    stem = os.path.join(head, os.path.splitext(name)[0])
    what = FOREIGN_SUFFIXES.get(suffix.lower())
    because = f"that is the {what} format's suffix, and " if what else ""
    raise ValueError(
        f"Cannot {action} a model as '{path}': {because}models are {SUFFIX} archives of this "
        f"package's own format; use '{stem}{SUFFIX}' (a path without a suffix gets {SUFFIX} "
        "appended)"
    )


class Saving:
    """The persistence methods of ``models.Sequential``: config, compile config, save."""

    def get_config(self) -> dict[str, Any]:
        """Name, seed, dtype, input width, the Input (if any) and the layers' configs."""
        return model_config(self)

    def compile_config(self) -> dict[str, Any] | None:
        """Loss, optimizer and metrics given to ``compile()``; None before it."""
        return compile_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """A new model from ``get_config()``'s output (built when its width is known)."""
        return model_from_config(cls, config)

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the model to one ``.npz`` archive (this package's format), atomically.

        ``m.npz`` is used as given; ``m`` becomes ``m.npz``, as ``numpy.savez``
        does; any other suffix (``.keras``, ``.h5``, ...) is a ValueError naming
        the path and the supported suffix. Returns the path written.
        """
        return save_model(self, path)


def model_config(model: Any) -> dict[str, Any]:
    """``Sequential.get_config()``: name, seed, dtype, input width, the Input and the layers."""
    config = {
        "name": model.name,
        "seed": model.seed,
        "dtype": model.dtype.name,
        "input_dim": model.input_dim,
        "layers": [serialize(layer) for layer in model.layers],
    }
    if model.input_layer is not None:
        config["input_layer"] = model.input_layer.get_config()
    return config


def _input_layer(config: dict[str, Any]) -> InputLayer | None:
    """The ``Input`` a model configuration holds, or None (files written without one)."""
    entry = config.get("input_layer")
    return None if entry is None else InputLayer.from_config(entry)


def compile_config(model: Any) -> dict[str, Any] | None:
    """``Sequential.compile_config()``: loss, optimizer and metrics, None before compile."""
    if not model.compiled:
        return None
    return {
        "loss": model.loss,
        "optimizer": optimizers.serialize(model.optimizer),
        "metrics": list(model.metrics),
    }


def model_from_config(cls: type, config: dict[str, Any]) -> Any:
    """``Sequential.from_config``: a ``cls`` from ``model_config``, built if its width is known."""
    model = cls(
        seed=config.get("seed"), dtype=config.get("dtype", "float32"), name=config.get("name")
    )
    input_layer = _input_layer(config)
    if input_layer is not None:
        model.add(input_layer)
    for layer_cfg in config.get("layers", []):
        model.add(deserialize(layer_cfg))
    if config.get("input_dim") is not None and not model.built:
        model.build(int(config["input_dim"]))
    return model


def save_model(model: Any, path: Any) -> str:
    """Write ``model`` (configuration, compile settings and weights) to ``path``.

    Returns ``model_path(path)``, the file written.
    """
    path = model_path(path, "save")
    if not model.built:
        raise ValueError(
            "The model has no weights yet: give the first layer input_dim or call build() "
            "before save()"
        )
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model": model.get_config(),
        "compile": model.compile_config(),
        "n_weights": len(model.weights),
    }
    with atomic_open(path, "wb", prefix=".vgp-save-") as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(_CONFIG, json.dumps(payload, indent=1))
            for i, w in enumerate(model.weights):
                buf = io.BytesIO()
                npy_format.write_array(buf, np.ascontiguousarray(w), allow_pickle=False)
                zf.writestr(_weight_member(i), buf.getvalue())
    return path


def _fail(path: str, why: str) -> ValueError:
    return ValueError(f"Cannot load model from '{path}': {why}")


def _read_config(zf: zipfile.ZipFile, path: str) -> dict[str, Any]:
    try:
        info = zf.getinfo(_CONFIG)
    except KeyError:
        raise _fail(path, f"no {_CONFIG} member (not a vgp-native model file)") from None
    if info.file_size > _MAX_CONFIG_BYTES:
        raise _fail(path, f"{_CONFIG} is implausibly large ({info.file_size} bytes)")
    try:
        raw = zf.read(_CONFIG)
        payload = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise _fail(path, f"{_CONFIG} is nested too deeply") from None
    except (*_ZIP_ERRORS, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, f"unreadable {_CONFIG} ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise _fail(path, "not a vgp-native model file")
    if payload.get("version") != VERSION:
        raise _fail(path, f"unsupported format version {payload.get('version')!r}")
    if not isinstance(payload.get("model"), dict):
        raise _fail(path, "model configuration missing")
    return payload


def _expected_shapes(model_cfg: dict[str, Any], path: str) -> tuple[Any, list[tuple[int, ...]]]:
    """Rebuild the (unbuilt) layer list and the weight shapes it implies."""
    layers_cfg = model_cfg.get("layers")
    input_dim = model_cfg.get("input_dim")
    if not isinstance(layers_cfg, list) or not layers_cfg:
        raise _fail(path, "the configuration lists no layers")
    if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
        raise _fail(path, f"invalid input_dim {input_dim!r}")
    try:
        layers = [deserialize(c) for c in layers_cfg]
        shapes: list[tuple[int, ...]] = []
        width = input_dim
        for layer in layers:
            shapes.extend(layer.weight_shapes(width))
            width = layer.compute_output_dim(width)
    except RecursionError:
        raise _fail(path, "the layer configuration is nested too deeply") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise _fail(path, f"malformed layer configuration ({exc})") from None
    return layers, shapes


def _nbytes(shape: tuple[int, ...], itemsize: int) -> int:
    # Python integers: a declared shape can exceed int64 (np.prod would wrap
    # around or raise OverflowError).
    return math.prod(shape) * itemsize


def _read_weight(zf: zipfile.ZipFile, name: str, shape: tuple[int, ...], path: str) -> np.ndarray:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise _fail(path, f"member {name} is missing") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise _fail(path, f"member {name} is compressed; expected stored arrays")
    try:
        with zf.open(name) as fh:
            version = npy_format.read_magic(fh)
            if version == (1, 0):
                hshape, fortran, dtype = npy_format.read_array_header_1_0(fh)
            elif version == (2, 0):
                hshape, fortran, dtype = npy_format.read_array_header_2_0(fh)
            else:
                raise _fail(path, f"member {name} has unsupported npy version {version}")
            if dtype.hasobject or dtype not in _ALLOWED_DTYPES:
                raise _fail(path, f"member {name} has dtype {dtype}; expected float32 or float64")
            if tuple(hshape) != tuple(shape) or fortran:
                raise _fail(
                    path,
                    f"member {name} has shape {tuple(hshape)}, the configuration implies "
                    f"{tuple(shape)}",
                )
            nbytes = _nbytes(shape, dtype.itemsize)
            if nbytes > info.file_size:
                raise _fail(path, f"member {name} is truncated")
            data = fh.read(nbytes)
            if len(data) != nbytes:
                raise _fail(path, f"member {name} is truncated")
            if fh.read(1):
                raise _fail(path, f"member {name} has trailing bytes")
    except _ZIP_ERRORS as exc:
        raise _fail(path, f"member {name} is corrupt ({exc})") from None
    except ValueError as exc:
        if str(exc).startswith("Cannot load model"):
            raise
        raise _fail(path, f"member {name} is not a valid npy array ({exc})") from None
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def load_model(path: Any, model_class: type) -> Any:
    """Load a model saved by ``Sequential.save``.

    Args:
        path: the file (``model_path``'s rule; for a path without a suffix, the
            file itself is read when only it exists, as older versions wrote it).
        model_class: the class to rebuild (``models.Sequential``), called as
            ``model_class(seed=..., dtype=..., name=...)``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a vgp-native model, or is truncated, corrupt or
            inconsistent (each case with a message naming the problem).
    """
    given = path
    path = model_path(path, "load")
    if not os.path.exists(path) and os.path.isfile(given):
        path = os.fsdecode(given)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: '{path}'")
    file_size = os.path.getsize(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise _fail(path, "not a zip/npz archive (truncated or foreign file)") from None
    except _ZIP_ERRORS as exc:
        raise _fail(path, str(exc)) from None
    with zf:
        payload = _read_config(zf, path)
        model_cfg = payload["model"]
        layers, shapes = _expected_shapes(model_cfg, path)
        if payload.get("n_weights") != len(shapes):
            raise _fail(
                path,
                f"declares {payload.get('n_weights')!r} weights, the layers need {len(shapes)}",
            )
        dtype_name = model_cfg.get("dtype", "float32")
        if dtype_name not in ("float32", "float64"):
            raise _fail(path, f"unsupported dtype {dtype_name!r}")
        itemsize = np.dtype(dtype_name).itemsize
        total = sum(_nbytes(s, itemsize) for s in shapes)
        if total > file_size:
            raise _fail(
                path,
                f"the configuration implies {total} bytes of weights in a {file_size}-byte file",
            )
        weights = [_read_weight(zf, _weight_member(i), s, path) for i, s in enumerate(shapes)]
    seed = model_cfg.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise _fail(path, f"invalid seed {seed!r}")
    try:
        model = model_class(seed=seed, dtype=dtype_name, name=model_cfg.get("name"))
        input_layer = _input_layer(model_cfg)
        if input_layer is not None:
            if input_layer.width != model_cfg["input_dim"]:
                raise ValueError(
                    f"the Input's width {input_layer.width} is not input_dim "
                    f"{model_cfg['input_dim']}"
                )
            model.add(input_layer)
        for layer in layers:
            model.add(layer)
        if not model.built:
            model.build(int(model_cfg["input_dim"]))
        compile_cfg = payload.get("compile")
        if compile_cfg is not None:
            if not isinstance(compile_cfg, dict) or not isinstance(
                compile_cfg.get("optimizer"), dict
            ):
                raise ValueError(f"compile settings must be a dict, received {compile_cfg!r}")
            model.compile(
                optimizer=optimizers.deserialize(compile_cfg["optimizer"]),
                loss=compile_cfg["loss"],
                metrics=compile_cfg.get("metrics") or None,
            )
    except RecursionError:
        raise _fail(path, "the layer configuration is nested too deeply") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise _fail(path, f"inconsistent configuration ({exc})") from None
    model.set_weights(weights)
    return model
