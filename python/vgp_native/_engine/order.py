"""``EpochOrders``: the shuffled row order of each epoch, drawn many epochs at a time.

``fit`` shuffles the rows before every epoch with ``Generator.permutation(n)``.
On a small data set one such call costs as much as a tenth of the epoch it
orders, so the orders are drawn ahead in blocks with ``Generator.permuted`` over
the rows of a ``(k, n)`` block of ``arange(n)``: numpy shuffles each row with
the same Fisher-Yates loop, drawing from the bit generator in the same order,
so row ``i`` of the block is exactly the permutation that the ``i``-th call
would have returned (``tests/test_training_order.py`` checks it). Drawing ahead
moves the generator further than the epochs that ran; ``close`` puts it back
where drawing one order per epoch would have left it, so a ``fit`` stopped
early and the next ``fit`` shuffle exactly as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["EpochOrders"]

#: Row indices held per block: 512 KiB of int64, at least one epoch's worth.
BLOCK_ELEMENTS = 1 << 16


class EpochOrders:
    """Hands out ``rng.permutation(n)`` for each epoch from blocks drawn ahead.

    Args:
        rng: the model's generator of the batch order.
        n: rows per epoch.
        epochs: epochs at most that will ask for an order (bounds the first block).
    """

    def __init__(self, rng: np.random.Generator, n: int, epochs: int) -> None:
        self._rng = rng
        self._n = n
        self._left = max(int(epochs), 0)  # orders announced and not yet drawn
        self._per_block = max(1, BLOCK_ELEMENTS // max(n, 1))
        self._block: np.ndarray | None = None
        self._drawn = 0  # rows of the current block
        self._used = 0  # of which handed out
        self._state: dict[str, Any] | None = None  # the generator before the block

    def next(self) -> np.ndarray:
        """The next epoch's order (a contiguous ``int64`` row of the block)."""
        if self._used == self._drawn:
            self._draw()
        order = self._block[self._used]
        self._used += 1
        return order

    def _draw(self) -> None:
        k = max(1, min(self._per_block, self._left))
        self._left -= k
        self._state = self._rng.bit_generator.state
        self._block = self._rng.permuted(np.tile(np.arange(self._n), (k, 1)), axis=1)
        self._drawn, self._used = k, 0

    def close(self) -> None:
        """Leave the generator where drawing only the orders handed out would have."""
        if self._used == self._drawn:
            return
        self._rng.bit_generator.state = self._state
        if self._used:
            self._rng.permuted(np.tile(np.arange(self._n), (self._used, 1)), axis=1)
        self._block = None
        self._drawn = self._used = 0
