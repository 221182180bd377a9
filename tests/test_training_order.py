"""The epochs' row orders and dropout seeds drawn ahead in blocks (``_engine.order``)
are what one ``Generator.permutation`` / ``Generator.integers`` call per epoch gives,
and leave the generator where those calls would have."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from vgp_native import _core
from vgp_native._engine.order import BLOCK_ELEMENTS, DropoutSeeds, EpochOrders
from vgp_native.callbacks import Callback
from vgp_native.layers import Dense, Dropout
from vgp_native.models import Sequential


@pytest.mark.parametrize(
    ("n", "epochs", "used"),
    [(1, 3, 3), (7, 5, 5), (200, 100, 37), (200, 100, 0), (BLOCK_ELEMENTS // 3, 7, 5)],
)
def test_orders_are_the_per_epoch_permutations(n: int, epochs: int, used: int) -> None:
    drawn, reference = np.random.default_rng(11), np.random.default_rng(11)
    orders = EpochOrders(drawn, n, epochs)
    for _ in range(used):
        got = orders.next()
        assert got.dtype == np.int64 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, reference.permutation(n))
    orders.close()
    assert drawn.bit_generator.state == reference.bit_generator.state
    # The next draw (another fit) continues the same stream.
    np.testing.assert_array_equal(drawn.permutation(n), reference.permutation(n))


BIT_GENERATORS = [
    np.random.PCG64,
    np.random.PCG64DXSM,
    np.random.MT19937,
    np.random.Philox,
    np.random.SFC64,
]


@pytest.mark.parametrize("bit_generator", BIT_GENERATORS, ids=lambda b: b.__name__)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 200, 70_000])
def test_native_permutations_are_numpys(bit_generator, n: int) -> None:
    # numpy's Fisher-Yates and bounded draws, called on any bit generator:
    # the same orders, the generator left in the same place (its next values).
    drawn = np.random.Generator(bit_generator(12))
    reference = np.random.Generator(bit_generator(12))
    with drawn.bit_generator.lock:
        got = _core.permutations(drawn.bit_generator.capsule, n, 3)
    assert got.shape == (3, n) and got.dtype == np.int64 and got.flags.c_contiguous
    for row in got:
        np.testing.assert_array_equal(row, reference.permutation(n))
    np.testing.assert_array_equal(drawn.integers(0, 2**40, 8), reference.integers(0, 2**40, 8))
    assert drawn.random() == reference.random()


def test_native_permutations_reject_bad_arguments() -> None:
    bits = np.random.default_rng(0).bit_generator
    with pytest.raises(ValueError, match="n must be >= 0"):
        _core.permutations(bits.capsule, -1, 1)
    with pytest.raises(ValueError, match="k must be >= 0"):
        _core.permutations(bits.capsule, 3, -1)
    with pytest.raises(TypeError):
        _core.permutations(bits, 3, 1)  # the generator, not its capsule
    # A capsule of something else: refused by its name, never dereferenced.
    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype = ctypes.py_object
    new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    name = ctypes.create_string_buffer(b"not_a_bit_generator")
    other = new_capsule(ctypes.addressof(name), name, None)
    with pytest.raises(ValueError, match="numpy BitGenerator's capsule"):
        _core.permutations(other, 3, 1)
    assert _core.permutations(bits.capsule, 5, 0).shape == (0, 5)


def test_blocks_span_more_epochs_than_asked_for() -> None:
    # More orders than announced: a further block is drawn, the stream continues.
    drawn, reference = np.random.default_rng(3), np.random.default_rng(3)
    orders = EpochOrders(drawn, 5, 2)
    for _ in range(4):
        np.testing.assert_array_equal(orders.next(), reference.permutation(5))
    orders.close()
    assert drawn.bit_generator.state == reference.bit_generator.state


@pytest.mark.parametrize(
    ("steps", "epochs", "used"),
    [(1, 3, 3), (7, 100, 37), (7, 100, 0), (7, 2, 5), (BLOCK_ELEMENTS // 3, 7, 5)],
)
def test_seeds_are_the_per_epoch_draws(steps: int, epochs: int, used: int) -> None:
    drawn, reference = np.random.default_rng(5), np.random.default_rng(5)
    seeds = DropoutSeeds(drawn, steps, epochs)
    for _ in range(used):
        got = seeds.next()
        assert got.dtype == np.uint64 and got.flags.c_contiguous
        want = reference.integers(0, 2**63, size=steps, dtype=np.uint64)
        np.testing.assert_array_equal(got, want)
    seeds.close()
    assert drawn.bit_generator.state == reference.bit_generator.state
    want = reference.integers(0, 2**63, size=steps, dtype=np.uint64)
    np.testing.assert_array_equal(drawn.integers(0, 2**63, size=steps, dtype=np.uint64), want)


class StopAfter(Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.stop_training = True


def _model(dropout: bool = False) -> Sequential:
    model = Sequential(seed=4)
    model.add(Dense(8, "tanh", input_dim=3))
    if dropout:
        model.add(Dropout(0.3))
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam")
    return model


def test_fit_stopped_early_then_continued_shuffles_as_one_order_per_epoch() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    y = (x[:, 0] > 0).astype(np.float64)
    stopped, straight = _model(), _model()
    stopped.fit(x, y, epochs=30, batch_size=8, verbose=0, callbacks=[StopAfter(3)])
    straight.fit(x, y, epochs=4, batch_size=8, verbose=0)
    for model in (stopped, straight):
        model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    for a, b in zip(stopped.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_trains_as_one_order_and_one_seed_draw_per_epoch() -> None:
    # The same epochs run natively by hand, each drawing its order and its
    # dropout seeds just before it, give bit for bit the weights of a fit
    # stopped after 4 of 30 epochs and a second fit of 3.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(45, 3))
    y = (x[:, 0] > 0).astype(np.float64)
    fitted, by_hand = _model(dropout=True), _model(dropout=True)
    fitted.fit(x, y, epochs=30, batch_size=8, verbose=0, callbacks=[StopAfter(3)])
    fitted.fit(x, y, epochs=3, batch_size=8, verbose=0)
    by_hand.fit(x, y, epochs=0, batch_size=8, verbose=0)  # builds the network
    engine = by_hand.engine
    xa, ya = x.astype(np.float32), y.astype(np.float32).reshape(-1, 1)
    for _ in range(4 + 3):
        perm = engine.shuffle_rng.permutation(45)
        seeds = engine.dropout_rng.integers(0, 2**63, size=6, dtype=np.uint64)
        engine.net.train_epoch(xa, ya, perm, 8, seeds, 0, False)
    for a, b in zip(fitted.get_weights(), by_hand.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
