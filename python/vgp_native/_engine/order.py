"""The per-epoch random draws of ``fit``, made many epochs at a time.

Before every epoch ``fit`` shuffles the rows with ``Generator.permutation(n)``
and, when a layer drops units, draws one seed per batch with
``Generator.integers(0, 2**63, size=steps, dtype=np.uint64)``. On a small data
set one such call costs as much as a tenth of the epoch it serves, so both are
drawn ahead in blocks of many epochs, each from its own generator:

- the orders natively (``_core.permutations``): numpy's Fisher-Yates loop and
  bounded draws, called on the generator's bit generator in the same order,
  so row ``i`` of the block is exactly the permutation that the ``i``-th
  ``permutation`` call would have returned (a fifth faster than
  ``Generator.permuted`` over the rows of a block, which copies each swapped
  element with three ``memcpy`` calls; the bit generator's draws take the rest);
- the seeds with one ``integers`` call of shape ``(k, steps)``: above 32 bits
  numpy draws each bounded integer on its own (no bits kept over from one
  value to the next), so the block holds the same values in the same order.

``tests/test_training_order.py`` checks both. Drawing ahead moves a generator
further than the epochs that ran; ``close`` puts it back where drawing once per
epoch would have left it, so a ``fit`` stopped early and the next ``fit`` draw
exactly as before.

When many epochs run in one native call (``fit_epochs``), that loop draws each
epoch's order itself, right before the epoch, by the same Fisher-Yates loop on
the same bit generator (``EpochOrders.bit_generator``): for those orders nothing
is drawn ahead, allocated, checked or given back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _core

__all__ = ["BLOCK_ELEMENTS", "DropoutSeeds", "EpochDraws", "EpochOrders"]

#: Values held per block: 512 KiB of 64-bit values, at least one epoch's worth.
BLOCK_ELEMENTS = 1 << 16


class EpochDraws:
    """Hands out each epoch's draw from blocks of many epochs drawn ahead.

    Args:
        rng: the generator drawn from (used by nothing else during ``fit``).
        draw: ``draw(k)``, the next ``k`` epochs' draws as the rows of a
            C-contiguous ``(k, per_epoch)`` array, leaving ``rng`` where ``k``
            draws of one epoch each would.
        per_epoch: values drawn per epoch.
        epochs: epochs at most that will ask for a draw (bounds the first block).
    """

    def __init__(
        self,
        rng: np.random.Generator,
        draw: Callable[[int], np.ndarray],
        per_epoch: int,
        epochs: int,
    ) -> None:
        self._rng = rng
        self._draw = draw
        self._left = max(int(epochs), 0)  # epochs announced and not yet drawn
        self._per_block = max(1, BLOCK_ELEMENTS // max(per_epoch, 1))
        self._block: np.ndarray | None = None
        self._drawn = 0  # rows of the current block
        self._used = 0  # of which handed out
        self._state: dict[str, Any] | None = None  # the generator before the block
        self._drawing = False  # a block is being drawn (Ctrl-C may end it midway)

    def next(self) -> np.ndarray:
        """The next epoch's draw (a contiguous row of the block)."""
        return self.take(1)[0]

    def ready(self) -> int:
        """Epochs whose draws ``take`` can hand out at once (drawing a block if none is left)."""
        if self._used == self._drawn:
            # In an order that leaves ``close`` a consistent state wherever a
            # KeyboardInterrupt lands: while drawing, nothing of the new block
            # counts as handed out, and the generator goes back to before it.
            k = max(1, min(self._per_block, self._left))
            self._state = self._rng.bit_generator.state
            self._drawn = self._used = 0
            self._drawing = True
            self._block = self._draw(k)
            self._drawn = k
            self._drawing = False
            self._left -= k
        return self._drawn - self._used

    def take(self, k: int) -> np.ndarray:
        """The next ``k`` epochs' draws, ``1 <= k <= ready()``: contiguous rows of the block."""
        available = self.ready()
        if not 1 <= k <= available:
            raise ValueError(f"k must be in [1, {available}], received {k}")
        rows = self._block[self._used : self._used + k]
        self._used += k
        return rows

    def give_back(self, k: int) -> None:
        """Return the last ``k`` epochs ``take`` handed out, unused: they are handed out again."""
        if not 0 <= k <= self._used:
            raise ValueError(f"k must be in [0, {self._used}], received {k}")
        self._used -= k

    def close(self) -> None:
        """Leave the generator where drawing only the epochs handed out would have."""
        if self._used == self._drawn and not self._drawing:
            return
        self._rng.bit_generator.state = self._state
        if self._used:
            self._draw(self._used)
        self._block = None
        self._drawn = self._used = 0
        self._drawing = False


class EpochOrders(EpochDraws):
    """``rng.permutation(n)`` for each epoch: its shuffled row order (``int64``).

    Args:
        rng: the model's generator of the batch order.
        n: rows per epoch.
        epochs: epochs at most that will ask for an order.
    """

    def __init__(self, rng: np.random.Generator, n: int, epochs: int) -> None:
        bits = rng.bit_generator

        def draw(k: int) -> np.ndarray:
            with bits.lock:
                return _core.permutations(bits.capsule, n, k)

        super().__init__(rng, draw, n, epochs)

    @property
    def bit_generator(self) -> Any:
        """The generator's bit generator, for a native loop that draws each order
        itself (``train_epochs(..., bitgen=bit_generator.capsule)`` under its
        ``lock``), the same values in the same sequence; only while no order
        drawn ahead is left to hand out."""
        if self._used != self._drawn:
            raise RuntimeError("orders drawn ahead are still to be handed out")
        return self._rng.bit_generator


class DropoutSeeds(EpochDraws):
    """``rng.integers(0, 2**63, size=steps, dtype=np.uint64)`` for each epoch: a seed per batch.

    Args:
        rng: the model's generator of the dropout masks.
        steps: batches per epoch.
        epochs: epochs at most that will ask for seeds.
    """

    def __init__(self, rng: np.random.Generator, steps: int, epochs: int) -> None:
        def draw(k: int) -> np.ndarray:
            return rng.integers(0, 2**63, size=(k, steps), dtype=np.uint64)

        super().__init__(rng, draw, steps, epochs)
