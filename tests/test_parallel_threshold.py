"""Tiny work runs single-threaded: a kernel loop enters a parallel region only
when its estimated single-core work reaches the threshold (64 us), so the step
of a small network never pays a fork and join (nor spins at a barrier while the
other core is busy)."""

from __future__ import annotations

import numpy as np
import pytest

import vgp_native as vn
from vgp_native import _core, ops
from vgp_native.callbacks import GradientFlow
from vgp_native.layers import Activation, BatchNormalization, Dense
from vgp_native.models import Sequential
from vgp_native.optimizers import SGD

pytestmark = pytest.mark.skipif(not vn.openmp_enabled(), reason="built without OpenMP")


def _regions(fn) -> int:
    before = _core.parallel_regions()
    fn()
    return _core.parallel_regions() - before


def _seed_network() -> Sequential:
    model = Sequential(seed=0)
    model.add(Dense(10, "sigmoid", input_dim=2))
    for _ in range(7):
        model.add(Dense(10, "sigmoid"))
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def _deep_bn_relu(depth: int = 56, width: int = 32) -> Sequential:
    # 56 Dense layers of width 32 with batch norm and SGD with momentum: about
    # 62 000 parameters, a 20 us update that used to be split between threads.
    model = Sequential(seed=0)
    model.add(Dense(width, input_dim=2))
    for _ in range(depth - 2):
        model.add(BatchNormalization())
        model.add(Activation("relu"))
        model.add(Dense(width))
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=SGD(0.01, momentum=0.9))
    return model


@pytest.mark.parametrize("build", [_seed_network, _deep_bn_relu], ids=["seed", "deep56x32"])
def test_small_network_step_enters_no_parallel_region(build, restore_threads) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float64)
    model = build()
    vn.set_num_threads(2)
    flow = GradientFlow(every="batch")
    assert _regions(lambda: model.fit(x, y, epochs=2, batch_size=32, verbose=0)) == 0
    assert _regions(lambda: model.fit(x, y, epochs=1, verbose=0, callbacks=[flow])) == 0


def test_large_buffer_is_split_only_with_threads(restore_threads) -> None:
    # relu forward of 2**21 floats: 2 streams of 4 bytes at 64 B/ns, 262 us.
    x = np.random.default_rng(1).standard_normal(1 << 21).astype(np.float32).reshape(-1, 256)
    vn.set_num_threads(1)
    assert _regions(lambda: ops.activation_forward(x, "relu")) == 0
    vn.set_num_threads(2)
    assert _regions(lambda: ops.activation_forward(x, "relu")) == 1


def test_threshold_scales_with_the_cost_of_an_element(restore_threads) -> None:
    # 2**16 floats: relu (2 streams) estimates 8 us and stays serial; GELU's erf
    # and exp in double (42 streams) 172 us, and is split.
    x = np.random.default_rng(2).standard_normal(1 << 16).astype(np.float32).reshape(-1, 256)
    vn.set_num_threads(2)
    assert _regions(lambda: ops.activation_forward(x, "relu")) == 0
    assert _regions(lambda: ops.activation_forward(x, "gelu")) == 1


def test_threshold_setting_round_trips_and_validates(restore_threads) -> None:
    before = _core.get_parallel_min_ns()
    assert before == 64_000.0
    x = np.ones((16, 512), np.float32)  # two blocks, about 1 us of work
    vn.set_num_threads(2)
    try:
        _core.set_parallel_min_ns(0.0)
        assert _core.get_parallel_min_ns() == 0.0
        assert _regions(lambda: ops.activation_forward(x, "relu")) == 1
        with pytest.raises(ValueError, match="set_parallel_min_ns: expected ns >= 0"):
            _core.set_parallel_min_ns(-1.0)
    finally:
        _core.set_parallel_min_ns(before)
    assert _regions(lambda: ops.activation_forward(x, "relu")) == 0
