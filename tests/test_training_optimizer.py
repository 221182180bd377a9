"""The network's optimizer step: one pass over all trainable parameters, with
the step norms computed only on the batches whose statistics are recorded.

The model has more than 256 blocks of 4096 weights (the group a measured
update hands to the threads at a time), so both the unmeasured one-region pass
and the measured, grouped pass run over several tensors of very different
sizes.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import vgp_native as vn
from conftest import native_threads
from vgp_native.callbacks import GradientFlow
from vgp_native.layers import BatchNormalization, Dense
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD, Adam, RMSprop

OPTIMIZERS = {
    "adam": lambda: Adam(learning_rate=1e-3),
    "sgd": lambda: SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
    "rmsprop": lambda: RMSprop(learning_rate=1e-3, momentum=0.5, centered=True),
}


def _model(optimizer: str) -> Sequential:
    model = Sequential(seed=3)
    model.add(Dense(1100, input_dim=1000))  # 1.1M weights: 269 blocks
    model.add(BatchNormalization())
    model.add(Dense(3, activation="relu"))
    model.add(Dense(1))
    model.compile(loss="mse", optimizer=OPTIMIZERS[optimizer]())
    return model


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.normal(size=(64, 1000)).astype(np.float32), rng.normal(size=(64, 1))


def _fit(optimizer: str, threads: int, callbacks: list | None = None) -> list[np.ndarray]:
    with native_threads(threads):
        x, y = _data()
        model = _model(optimizer)
        model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0, callbacks=callbacks)
        return model.get_weights()


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_recording_and_threads_leave_the_weights_bitwise_equal(optimizer: str) -> None:
    reference = _fit(optimizer, threads=1)
    variants = {
        "two threads": _fit(optimizer, threads=2),
        "recorded, one thread": _fit(optimizer, 1, [GradientFlow(every="batch")]),
        "recorded, two threads": _fit(optimizer, 2, [GradientFlow(every="batch")]),
    }
    for name, weights in variants.items():
        for got, want in zip(weights, reference, strict=True):
            np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("threads", [1, 2])
def test_recorded_step_norm_is_the_weight_change(threads: int, restore_threads: None) -> None:
    vn.set_num_threads(threads)
    x, y = _data()
    model = _model("adam")
    before = model.get_weights()
    flow = GradientFlow(every="batch")
    model.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[flow])
    after = model.get_weights()
    kernels = [0, 6, 8]  # the three Dense kernels in Keras weight order
    want = [
        np.linalg.norm(after[k].astype(np.float64) - before[k].astype(np.float64)) for k in kernels
    ]
    got = flow.history.field("update_norm")[-1]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.all(got > 0)


def test_trainable_values_gradients_and_state_are_each_one_block() -> None:
    # The layout that lets an unrecorded update run as one pass: the trainable
    # tensors' values follow one another in memory, in Keras order, and so do
    # their gradients; the moving statistics (not trainable) lie elsewhere.
    x, y = _data()
    model = _model("adam")
    model.fit(x[:8], y[:8], epochs=1, verbose=0)
    net = model.engine.net
    trainable = [(v, g) for v, g in zip(net.params(), net.grads(), strict=True) if g is not None]
    assert len(trainable) == 8 and len(net.params()) == 10
    for (v0, g0), (v1, g1) in itertools.pairwise(trainable):
        assert v1.ctypes.data == v0.ctypes.data + v0.nbytes
        assert g1.ctypes.data == g0.ctypes.data + g0.nbytes
