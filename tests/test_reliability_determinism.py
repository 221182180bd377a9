"""Determinism (issue 6; docs/determinism.md): the same seed gives the same
weights bit for bit across runs and processes, 1 and 2 threads, the epoch and
the batch-callback paths, and with statistics recording and TerminateOnNaN
switched on, for every layer kind (dropout, batch norm, residual blocks with
and without a projection) and every optimizer, in both dtypes.

With two threads every loop of more than one block is split between them
(``native_threads``: the kernels' work threshold set to 0), and the products
(160 x 256 x 256) are large enough for the GEMM to split its tiles, so the
elementwise kernels, the reductions and the GEMMs really share the work.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import vgp_native as vn
from conftest import native_threads
from vgp_native.callbacks import Callback, GradientFlow, TerminateOnNaN
from vgp_native.layers import Activation, BatchNormalization, Dense, Dropout, Residual
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD, Adam, RMSprop

OPTIMIZERS = {
    "adam": lambda: Adam(learning_rate=1e-3, clipnorm=1.0),
    "sgd": lambda: SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: RMSprop(learning_rate=1e-3, momentum=0.5, centered=True, clipvalue=0.5),
}


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(480, 24))
    return x, rng.integers(0, 4, size=480)


def _model(dtype: str, optimizer: str, seed: int = 7) -> Sequential:
    model = Sequential(seed=seed, dtype=dtype)
    model.add(Dense(256, input_dim=24, kernel_initializer="he_normal"))
    model.add(BatchNormalization(momentum=0.9))
    model.add(Activation("relu"))
    model.add(Dropout(0.3))
    model.add(
        Residual(
            [Dense(256, "tanh"), BatchNormalization(), Dropout(0.2), Dense(256)], activation="relu"
        )
    )
    model.add(Residual([Dense(64, "gelu"), Dropout(0.1)], activation="elu"))  # projection
    model.add(Dense(4, "softmax"))
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=OPTIMIZERS[optimizer](),
        metrics=["accuracy"],
    )
    return model


class BatchHook(Callback):
    """Any batch hook switches fit to one native call per batch."""

    def on_train_batch_end(self, batch, logs=None):
        self.last = logs["loss"]


def _train(dtype: str, optimizer: str, threads: int, callbacks: list | None = None, seed: int = 7):
    with native_threads(threads):
        x, y = _data()
        model = _model(dtype, optimizer, seed)
        history = model.fit(
            x, y, epochs=2, batch_size=160, verbose=0, validation_split=0.25, callbacks=callbacks
        )
        return model.get_weights(), history.history


def _digest(weights: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for w in weights:
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize(
    ("dtype", "optimizer"), [("float32", "adam"), ("float64", "sgd"), ("float32", "rmsprop")]
)
def test_bitwise_identical_across_runs_threads_and_paths(dtype: str, optimizer: str) -> None:
    reference, ref_history = _train(dtype, optimizer, threads=1)
    variants = {
        "second run": _train(dtype, optimizer, threads=1),
        "two threads": _train(dtype, optimizer, threads=2),
        "batch-callback path, two threads": _train(dtype, optimizer, 2, [BatchHook()]),
        "recording and halting": _train(
            dtype, optimizer, 1, [GradientFlow(every="batch"), TerminateOnNaN()]
        ),
    }
    for name, (weights, history) in variants.items():
        assert history == ref_history, name
        assert _digest(weights) == _digest(reference), name
    # The seed matters: another seed gives other weights.
    other, _ = _train(dtype, optimizer, threads=1, seed=8)
    assert _digest(other) != _digest(reference)


def test_bitwise_identical_in_a_fresh_process() -> None:
    # No state of one process (addresses, thread pools, kernel choice) leaks
    # into the numbers: a child with 2 threads gets this process's 1-thread bits.
    here = Path(__file__).resolve().parent
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import test_reliability_determinism as t;"
        "print('DIGEST', t._digest(t._train('float32', 'adam', threads=2)[0]))"
    )
    env = dict(os.environ)
    package_root = str(Path(vn.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    out = subprocess.run(
        [sys.executable, "-c", code, str(here)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    ).stdout
    digest = next(line.split()[1] for line in out.splitlines() if line.startswith("DIGEST"))
    assert digest == _digest(_train("float32", "adam", threads=1)[0])
