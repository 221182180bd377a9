"""Ioffe & Szegedy (2015): batch normalization, Fig. 1 and the seed network.

Fig. 1 of the paper trains a 3 x 100 sigmoid MLP on MNIST (weights from a
small Gaussian, 60 examples per step) with and without batch normalization.
Here the data are the 8x8 digits of ``sklearn.datasets.load_digits`` (1797
images, pixels scaled to [0, 1], 70/30 split), the weights N(0, 0.1^2),
plain SGD with learning rate 0.5, batches of 60, and 120 epochs (2520 steps;
quick run 60 epochs) instead of 50 000 steps. The batch-normalized network
is Dense (no activation) -> BatchNormalization -> sigmoid per hidden layer.

Recorded by a callback at initialization and after every epoch: the 15th,
50th and 85th percentiles over the test images of the input of each sigmoid
of the last hidden layer (with batch normalization: its output normalized
with the test set's batch statistics, as in training). Drift of a unit: the
largest range (max - min over the run) of its three percentiles; the claim
compares the median drift over the 100 units.

The seed network (8 hidden sigmoid Dense layers of width 10 and a sigmoid
output, make_moons(250, noise 0.05), Adam, 100 epochs, batch 32) is trained
as it is and with BatchNormalization inserted before every hidden sigmoid.
scikit-learn is needed for the digits (``pip install scikit-learn``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ..callbacks import Callback
from ..datasets import make_moons, train_test_split
from ..initializers import RandomNormal
from ..layers import Activation, BatchNormalization, Dense
from ..models import Sequential
from ..optimizers import SGD
from ._figure import PALETTE, panels

NAME = "ioffe2015"
PAPER = (
    "Sergey Ioffe and Christian Szegedy (2015), Batch Normalization: Accelerating Deep "
    "Network Training by Reducing Internal Covariate Shift, ICML 2015 (PMLR 37:448-456)"
)
SUMMARY = (
    "Fig. 1 rerun on the 8x8 scikit-learn digits instead of MNIST (3 x 100 sigmoid MLP, "
    "N(0, 0.1^2) weights, SGD 0.5, batch 60, 2520 steps instead of 50 000; quick 1260), "
    "with and without batch normalization, and the seed's 9-layer sigmoid network on "
    "moons with and without it."
)

PERCENTILES = (15.0, 50.0, 85.0)
HIDDEN, WIDTH, BATCH = 3, 100, 60
#: Binary cross-entropy of predicting 1/2 (the moons are balanced).
CHANCE = math.log(2.0)


def load_digits_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8x8 digits scaled to [0, 1], split 70/30 (scikit-learn is imported here only)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            "the ioffe2015 reproduction uses scikit-learn's 8x8 digits data set: "
            "pip install scikit-learn"
        ) from err
    x, y = load_digits(return_X_y=True)
    return train_test_split(x / 16.0, y, test_size=0.3, random_state=seed)


def digits_net(batchnorm: bool, seed: int) -> tuple[Sequential, list[tuple[Dense, Any]]]:
    """The Fig. 1 network and its hidden (Dense, BatchNormalization or None) pairs."""
    model = Sequential(seed=seed)
    blocks: list[tuple[Dense, Any]] = []
    for i in range(HIDDEN):
        dense = Dense(
            WIDTH,
            activation=None if batchnorm else "sigmoid",
            kernel_initializer=RandomNormal(0.0, 0.1),
            input_dim=64 if i == 0 else None,
        )
        model.add(dense)
        bn = BatchNormalization() if batchnorm else None
        if bn is not None:
            model.add(bn)
            model.add(Activation("sigmoid"))
        blocks.append((dense, bn))
    model.add(Dense(10, activation="softmax", kernel_initializer=RandomNormal(0.0, 0.1)))
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=SGD(learning_rate=0.5),
        metrics=["accuracy"],
    )
    return model, blocks


def sigmoid_inputs(blocks: list[tuple[Dense, Any]], x: np.ndarray) -> np.ndarray:
    """Inputs ``(n, WIDTH)`` of the last hidden layer's sigmoids at the current weights.

    Batch normalization uses the batch statistics of ``x``, as in training.
    """
    h = x
    z = x
    for dense, bn in blocks:
        z = ops.dense_forward(h, *dense.get_weights())
        if bn is not None:
            gamma, beta, mean, var = bn.get_weights()
            z = ops.batchnorm_forward_train(z, gamma, beta, mean, var, epsilon=bn.epsilon)[0]
        h = ops.activation_forward(z, "sigmoid")
    return np.asarray(z, dtype=np.float64)


class SigmoidPercentiles(Callback):
    """Records the 15/50/85th percentiles of each last-hidden sigmoid's input per epoch."""

    def __init__(self, blocks: list[tuple[Dense, Any]], x: np.ndarray) -> None:
        super().__init__()
        self.blocks, self.x = blocks, x
        self.records: list[np.ndarray] = []

    def _record(self) -> None:
        z = sigmoid_inputs(self.blocks, self.x)
        self.records.append(np.percentile(z, PERCENTILES, axis=0))

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self._record()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._record()


def drift(records: np.ndarray) -> np.ndarray:
    """Per unit: the largest range over the run of its percentiles, from ``(records, 3, units)``."""
    return (records.max(axis=0) - records.min(axis=0)).max(axis=0)


def seed_net(batchnorm: bool, seed: int) -> Sequential:
    """The seed document's network (8 hidden sigmoid layers of 10), optionally batch-normalized."""
    model = Sequential(seed=seed)
    for i in range(8):
        kw = {"input_dim": 2} if i == 0 else {}
        if batchnorm:
            model.add(Dense(10, **kw))
            model.add(BatchNormalization())
            model.add(Activation("sigmoid"))
        else:
            model.add(Dense(10, activation="sigmoid", **kw))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def measure(quick: bool, seed: int) -> dict[str, Any]:
    """Train both digits networks and both seed networks; return every measured number."""
    x_train, x_test, y_train, y_test = load_digits_data(seed)
    epochs = 60 if quick else 120
    out: dict[str, Any] = {"steps_per_epoch": -(-x_train.shape[0] // BATCH), "epochs": epochs}
    for key, bn in (("plain", False), ("bn", True)):
        model, blocks = digits_net(bn, seed)
        rec = SigmoidPercentiles(blocks, x_test)
        hist = model.fit(
            x_train,
            y_train,
            batch_size=BATCH,
            epochs=epochs,
            verbose=0,
            validation_data=(x_test, y_test),
            callbacks=[rec],
        )
        records = np.array(rec.records)
        out[key] = {
            "val_accuracy": np.array(hist.history["val_accuracy"]),
            "percentiles": records,
            "drift": float(np.median(drift(records))),
        }
    xm, ym = make_moons(n_samples=250, noise=0.05, random_state=42)
    xm_tr, xm_te, ym_tr, ym_te = train_test_split(xm, ym, test_size=0.2, random_state=42)
    for key, bn in (("seed", False), ("seed_bn", True)):
        model = seed_net(bn, seed)
        hist = model.fit(xm_tr, ym_tr, epochs=100, batch_size=32, verbose=0)
        out[key] = {
            "loss": np.array(hist.history["loss"]),
            "train_accuracy": float(model.evaluate(xm_tr, ym_tr, verbose=0)[1]),
            "test_accuracy": float(model.evaluate(xm_te, ym_te, verbose=0)[1]),
        }
    return out


def claims(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim table from the measurements of ``measure``."""
    plain, bn = m["plain"]["val_accuracy"], m["bn"]["val_accuracy"]
    ahead = float(np.mean(bn > plain))
    steps = m["epochs"] * m["steps_per_epoch"]
    d_plain, d_bn = m["plain"]["drift"], m["bn"]["drift"]
    seed, seed_bn = m["seed"], m["seed_bn"]
    return [
        {
            "claim": "With batch normalization the 3 x 100 sigmoid network reaches a higher "
            "test accuracy at the same step count.",
            "paper_value": "Fig. 1(a): the BN network's test accuracy is higher throughout "
            "training (MNIST, 50k steps)",
            "measured": f"after {steps} steps {bn[-1]:.3f} (BN) vs {plain[-1]:.3f}; BN ahead "
            f"after {ahead:.0%} of the {plain.size} epochs",
            "holds": bool(bn[-1] > plain[-1] and ahead >= 0.8),
        },
        {
            "claim": "The 15th/50th/85th percentiles of a last-hidden-layer sigmoid's input "
            "stay steady with batch normalization and drift without it.",
            "paper_value": "Fig. 1(b) without BN drifts, Fig. 1(c) with BN steady",
            "measured": f"median drift over the units {d_bn:.2f} (BN) vs {d_plain:.2f} "
            "(largest percentile range over training, in units of the sigmoid's input)",
            "holds": bool(d_bn < 0.5 * d_plain),
        },
        {
            "claim": "The seed network, stuck at chance, trains once batch normalization is "
            "inserted (training loss below half the chance level ln 2, accuracy >= 0.9).",
            "paper_value": "Sec. 4.2.2: a sigmoid Inception never beat 1/1000 (chance) "
            "without BN; BN-x5-Sigmoid reached 69.8 %",
            "measured": f"train/test accuracy {seed['train_accuracy']:.2f}/"
            f"{seed['test_accuracy']:.2f} without BN, {seed_bn['train_accuracy']:.2f}/"
            f"{seed_bn['test_accuracy']:.2f} with BN (final loss {seed['loss'][-1]:.3f} vs "
            f"{seed_bn['loss'][-1]:.3f})",
            "holds": bool(
                seed["train_accuracy"] <= 0.6
                and seed["loss"][-1] >= 0.95 * CHANCE
                and seed_bn["train_accuracy"] >= 0.9
                and seed_bn["loss"][-1] <= 0.5 * CHANCE
            ),
        },
    ]


def figures(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """Fig. 1 (a)-(c) and the seed network's loss with and without batch normalization."""
    spe = m["steps_per_epoch"]
    fig, (acc, p_plain, p_bn) = panels(3, width=3.7, height=3.4)
    steps = np.arange(1, m["epochs"] + 1) * spe
    acc.plot(steps, m["plain"]["val_accuracy"], color=PALETTE[1], label="without BN")
    acc.plot(steps, m["bn"]["val_accuracy"], color=PALETTE[0], label="with BN")
    acc.set(xlabel="training steps", ylabel="test accuracy", ylim=(0, 1.02))
    acc.set_title("(a) test accuracy (8x8 digits)", fontsize=10)
    acc.legend(fontsize=8, loc="lower right")
    rec_steps = np.arange(m["epochs"] + 1) * spe
    lines = (PALETTE[2], PALETTE[6], PALETTE[3])
    for ax, key, title in ((p_plain, "plain", "(b) without BN"), (p_bn, "bn", "(c) with BN")):
        for k, (p, colour) in enumerate(zip(PERCENTILES, lines, strict=True)):
            ax.plot(rec_steps, m[key]["percentiles"][:, k, 0], color=colour, label=f"{p:.0f}th")
        ax.set(xlabel="training steps", ylabel="sigmoid input (unit 0 of layer 3)")
        ax.set_title(f"{title}: percentiles over test images", fontsize=10)
        ax.legend(fontsize=8, loc="best")
    low = min(p_plain.get_ylim()[0], p_bn.get_ylim()[0])
    high = max(p_plain.get_ylim()[1], p_bn.get_ylim()[1])
    p_plain.set_ylim(low, high)
    p_bn.set_ylim(low, high)
    seed, (ax,) = panels(1, width=5.0, height=3.4)
    ax.plot(m["seed"]["loss"], color=PALETTE[1], label="seed network (8 sigmoid layers)")
    ax.plot(m["seed_bn"]["loss"], color=PALETTE[0], label="with batch normalization")
    ax.axhline(CHANCE, color="0.5", ls="--", lw=1, label="chance, ln 2")
    ax.set(xlabel="epoch", ylabel="training loss", ylim=(0, None))
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("Seed network on moons", fontsize=10)
    return [("figure1", fig), ("seed_network", seed)]


def run(quick: bool, seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The claims and figures (see the module docstring for the sizes)."""
    m = measure(quick, seed)
    return claims(m), figures(m)
