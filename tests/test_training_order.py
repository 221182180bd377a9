"""The epochs' row orders drawn ahead in blocks (``_engine.order.EpochOrders``) are
the permutations one ``Generator.permutation`` call per epoch gives, and leave the
generator where those calls would have."""

from __future__ import annotations

import numpy as np
import pytest

from vgp_native._engine.order import BLOCK_ELEMENTS, EpochOrders
from vgp_native.callbacks import Callback
from vgp_native.layers import Dense
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


def test_blocks_span_more_epochs_than_asked_for() -> None:
    # More orders than announced: a further block is drawn, the stream continues.
    drawn, reference = np.random.default_rng(3), np.random.default_rng(3)
    orders = EpochOrders(drawn, 5, 2)
    for _ in range(4):
        np.testing.assert_array_equal(orders.next(), reference.permutation(5))
    orders.close()
    assert drawn.bit_generator.state == reference.bit_generator.state


class StopAfter(Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.stop_training = True


def _model() -> Sequential:
    model = Sequential(seed=4)
    model.add(Dense(8, "tanh", input_dim=3))
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
