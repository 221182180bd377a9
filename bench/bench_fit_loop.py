"""Python cost of ``fit`` around its native epochs, on the seed network.

``fit`` runs the epochs natively, many per call when nothing in Python acts
between them (``Network.train_epochs``, which then draws each epoch's row
order itself, right before the epoch); around that Python checks the data,
builds the callbacks, draws the dropout seeds (when a layer drops units),
hands the learning rate over and records the ``History``. On the tiny case of
``bench/training.py`` (2-[10 sigmoid x8]-1, 200 samples, batch 32, float32,
Adam) an epoch lasts about 27 us, so that Python work shows. Timed side by
side, interleaved, medians:

- ``native``: one ``train_epochs`` call over ``epochs`` epochs drawing each
  epoch's order from a generator, as ``fit`` calls it (with dropout seeds
  drawn before the timing); ``native, orders given``: the same with the
  orders drawn before the timing; ``native, unshuffled``: without orders;
- ``fit``: ``model.fit(x, y, epochs, batch_size=BATCH, verbose=0)``; ``fit,
  unshuffled``: the same with ``shuffle=False``;
- ``fit, 0 epochs``: what a ``fit`` costs besides its epochs (checking and
  converting the data, building the callbacks);
- ``orders``: drawing the ``epochs`` row orders alone (``_core.permutations``,
  numpy's Fisher-Yates shuffle run natively on the generator's bit generator).

The overhead per epoch is ``(fit - native) / epochs``, the fixed costs spread
over the epochs; the orders are drawn inside ``native``. With ``--dropout
RATE`` a ``Dropout`` layer follows the first hidden layer: ``fit`` then also
draws one seed per batch (``seeds``: the drawing alone). The native call gets a
new order and new seeds every epoch, as in ``fit``: repeating the same ones
lets the CPU learn the gather and the masks' branches, which makes an epoch of
this network about 0.3 us faster with one fixed order and 5 us faster with
fixed dropout seeds.

Usage::

    python bench/bench_fit_loop.py [--epochs 100] [--samples 15] [--threads 1]
                                   [--dropout RATE] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vgp_native as vn
from _cpu import describe_cpu
from _timing import time_blocks
from training import _data, vgp_model
from vgp_native import _core
from vgp_native._engine.order import DropoutSeeds
from vgp_native.layers import Dense, Dropout
from vgp_native.models import Sequential

BATCH = 32


def tiny_model(dropout: float) -> Sequential:
    """``bench/training.py``'s tiny network, with a Dropout layer when ``dropout`` > 0."""
    if dropout == 0:
        return vgp_model("tiny")
    model = Sequential(seed=0)
    model.add(Dense(10, "sigmoid", input_dim=2))
    model.add(Dropout(dropout))
    for _ in range(7):
        model.add(Dense(10, "sigmoid"))
    model.add(Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def measure(epochs: int, samples: int, dropout: float) -> dict[str, float]:
    """Median seconds per call of each mode (see the module docstring)."""
    x, y = _data("tiny")
    model = tiny_model(dropout)
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)  # builds the network
    net = model.engine.net
    steps = -(-len(x) // BATCH)
    drawn = np.random.default_rng(0)
    orders_drawn = np.stack([drawn.permutation(len(x)) for _ in range(epochs)])
    seeds_drawn = (
        drawn.integers(0, 2**63, size=(epochs, steps), dtype=np.uint64) if dropout else None
    )
    sums = np.empty((epochs, 3))
    rng = np.random.default_rng(1)

    bits = rng.bit_generator

    def native(orders: str) -> None:
        if orders == "drawn":
            with bits.lock:
                net.train_epochs(x, y, None, BATCH, seeds_drawn, sums, bits.capsule)
        else:
            given = orders_drawn if orders == "given" else None
            net.train_epochs(x, y, given, BATCH, seeds_drawn, sums)

    def orders() -> None:
        with bits.lock:
            _core.permutations(bits.capsule, len(x), epochs)

    def seed_draws() -> None:
        drawn = DropoutSeeds(rng, steps, epochs)
        drawn.take(drawn.ready())
        drawn.close()

    modes = {
        "native": lambda: native("drawn"),
        "native, orders given": lambda: native("given"),
        "native, unshuffled": lambda: native("none"),
        "fit": lambda: model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0),
        "fit, unshuffled": lambda: model.fit(
            x, y, epochs=epochs, batch_size=BATCH, verbose=0, shuffle=False
        ),
        "fit, 0 epochs": lambda: model.fit(x, y, epochs=0, batch_size=BATCH, verbose=0),
        "orders": orders,
    }
    if dropout:
        modes["seeds"] = seed_draws
    times = time_blocks(list(modes.values()), samples, target_s=0.02, blocks=samples)
    return {name: median for name, (median, _) in zip(modes, times, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    vn.set_num_threads(args.threads)
    print(describe_cpu())
    extra = f", Dropout({args.dropout})" if args.dropout else ""
    print(f"tiny case{extra}, {args.epochs} epochs per call, {args.threads} thread(s), medians")
    t = measure(args.epochs, args.samples, args.dropout)
    us = {name: seconds * 1e6 for name, seconds in t.items()}
    for name, value in us.items():
        print(f"  {name:20s} {value:9.1f} us")
    per_epoch = {
        "overhead": (us["fit"] - us["native"]) / args.epochs,
        "overhead, unshuffled": (us["fit, unshuffled"] - us["native, unshuffled"]) / args.epochs,
        "of which fixed": us["fit, 0 epochs"] / args.epochs,
        "orders (in native)": us["orders"] / args.epochs,
    }
    if "seeds" in us:
        per_epoch["of which seeds"] = us["seeds"] / args.epochs
    print("per epoch:")
    for name, value in per_epoch.items():
        print(f"  {name:20s} {value:9.2f} us")
    if args.json:
        Path(args.json).write_text(json.dumps({"us": us, "per_epoch_us": per_epoch}, indent=2))


if __name__ == "__main__":
    main()
