"""Training one configuration and measuring it; ``compare`` several side by side.

A run builds the configured network, records its gradient flow with a
``GradientFlow`` callback (a probe at initialization, then one record per
epoch) and returns, besides the configuration and the seed:

==============  ==================================================================
final_loss      training loss of the last epoch (Keras' ``history["loss"][-1]``)
accuracy        accuracy on the training set after training (inference mode)
val_accuracy    accuracy on the test set after training (inference mode)
grad_ratio      first over last layer's kernel-gradient norm at initialization
signal_ratio    backpropagated signal ``||dL/dh||`` at the first hidden layer over
                the last hidden layer's, at initialization
weight_change   ``||W1 - W1_init|| / ||W1_init||``: how far the first kernel moved
                (the seed's ``old_weights`` against ``new_weights``)
verdict         the gradient-flow report's headline verdict: the more severe of
                the two below
initial_verdict the network as initialized (the probe before the first update)
training_verdict
                the most severe condition that persisted through training (at
                least half of the last 10 epochs)
epochs          epochs trained
seconds         wall time of the training
==============  ==================================================================

Every field but ``seconds`` depends only on the configuration, the seed, the
epochs and the data: not on the process, machine or thread count it ran on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._core import set_num_threads
from ..callbacks import GradientFlow
from ..flow.history import FlowHistory
from ..models import Sequential
from .config import CONFIG_KEYS, build_model, check_config, config_label
from .data import Dataset, load_dataset, split_arrays

__all__ = [
    "FLOAT_FIELDS",
    "RESULT_FIELDS",
    "VERDICT_FIELDS",
    "Run",
    "compare",
    "run_config",
    "run_task",
]

#: Measured fields of a result, after the configuration's keys.
RESULT_FIELDS: tuple[str, ...] = (
    "epochs",
    "final_loss",
    "accuracy",
    "val_accuracy",
    "grad_ratio",
    "signal_ratio",
    "weight_change",
    "verdict",
    "initial_verdict",
    "training_verdict",
    "seconds",
)
#: The result fields holding verdicts.
VERDICT_FIELDS: tuple[str, ...] = ("verdict", "initial_verdict", "training_verdict")
#: Fields of a result (configuration or measured) holding floats: NaN and infinities possible.
FLOAT_FIELDS: frozenset[str] = frozenset(RESULT_FIELDS) - {"epochs", *VERDICT_FIELDS} | {
    "learning_rate",
    "dropout",
}


@dataclass
class Run:
    """One trained configuration, with everything needed to report and plot it.

    Attributes:
        label: a short description (``"8 x sigmoid, glorot_uniform"``).
        config: the complete configuration.
        result: the result dict (configuration keys, then ``RESULT_FIELDS``).
        model: the trained model.
        history: the Keras-style ``History`` of ``fit``.
        flow: the recorded ``FlowHistory``.
        report: the run's ``GradientFlowReport``.
        data: the data set it trained on.
        initial_kernel: the first layer's kernel before training.
    """

    label: str
    config: dict[str, Any]
    result: dict[str, Any]
    model: Sequential
    history: Any
    flow: FlowHistory
    report: Any = field(repr=False)
    data: Dataset = field(repr=False)
    initial_kernel: np.ndarray = field(repr=False)


def _ratio(num: float, den: float) -> float:
    if not (math.isfinite(num) and math.isfinite(den)):
        return math.nan
    if den == 0.0:
        return math.inf if num > 0 else math.nan
    return num / den


def _relative_change(before: np.ndarray, after: np.ndarray) -> float:
    """``||after - before|| / ||before||``, in float64: a diverged float32 kernel (entries
    near 1e30) overflows a float32 sum of squares, and an infinite one is an infinite change."""
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        change = float(np.linalg.norm(after - before))
    if math.isinf(change) or not np.all(np.isfinite(after)):
        return math.nan if np.isnan(after).any() else math.inf
    return _ratio(change, float(np.linalg.norm(before)))


def _measure(
    cfg: dict[str, Any], data: Dataset, epochs: int, track_weights: bool
) -> tuple[dict[str, Any], Sequential, Any, GradientFlow, Any, np.ndarray]:
    """Train ``cfg`` on ``data``: (result, model, history, callback, report, first kernel)."""
    model = build_model(cfg, input_dim=data.n_features, n_classes=data.n_classes)
    kernel0 = model.get_weights()[0]
    flow = GradientFlow(track_weights=track_weights)
    t0 = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        epochs=epochs,
        batch_size=cfg["batch_size"],
        verbose=0,
        validation_data=(data.x_test, data.y_test),
        callbacks=[flow],
    )
    seconds = time.perf_counter() - t0
    train = model.evaluate(data.x_train, data.y_train, verbose=0)
    test = model.evaluate(data.x_test, data.y_test, verbose=0)
    grads = flow.history.field("grad_norm")[0]
    signal = flow.history.field("signal_norm")[0]
    report = flow.report()
    result = {key: cfg[key] for key in CONFIG_KEYS}
    result.update(
        epochs=epochs,
        final_loss=float(history.history["loss"][-1]),
        accuracy=float(train[1]),
        val_accuracy=float(test[1]),
        grad_ratio=_ratio(float(grads[0]), float(grads[-1])),
        signal_ratio=_ratio(float(signal[0]), float(signal[-2])) if len(signal) > 1 else 1.0,
        weight_change=_relative_change(kernel0, model.get_weights()[0]),
        verdict=str(report.verdict),
        initial_verdict=str(report.initial_verdict),
        training_verdict=str(report.training_verdict),
        seconds=seconds,
    )
    return result, model, history, flow, report, kernel0


def check_epochs(epochs: Any) -> int:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, received {epochs!r}")
    return int(epochs)


def run_config(
    config: Mapping[str, Any] | None = None,
    data: Dataset | None = None,
    epochs: int = 100,
    track_weights: bool = False,
    label: str | None = None,
) -> Run:
    """Train one configuration and measure it.

    Args:
        config: a configuration (keys left out take the seed's settings).
        data: the data; by default ``load_dataset(config["dataset"])``.
        epochs: epochs to train.
        track_weights: record sampled kernel entries every epoch (for plots of
            weights against epochs).
        label: the run's label; by default ``config_label(config)``.
    """
    cfg = check_config(dict(config or {}))
    epochs = check_epochs(epochs)
    if data is None:
        data = load_dataset(cfg["dataset"])
    result, model, history, flow, report, kernel0 = _measure(cfg, data, epochs, track_weights)
    return Run(
        label=label or config_label(cfg),
        config=cfg,
        result=result,
        model=model,
        history=history,
        flow=flow.history,
        report=report,
        data=data,
        initial_kernel=kernel0,
    )


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Train one sweep task and return its result dict (the unit sent to workers).

    ``task`` holds ``config`` (complete), ``data`` (a ``Dataset``), ``epochs`` and
    ``threads`` (native threads to use, or None to leave the setting alone).
    """
    if task.get("threads") is not None:
        set_num_threads(int(task["threads"]))
    result, *_ = _measure(task["config"], task["data"], task["epochs"], False)
    return result


def compare(
    configs: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    X: Any = None,
    y: Any = None,
    *,
    validation_data: tuple[Any, Any] | None = None,
    epochs: int = 100,
    seed: int | None = None,
    track_weights: bool = False,
    progress: Callable[[int, int, Run], None] | None = None,
) -> list[Run]:
    """Train several configurations on the same data, one after the other.

    Args:
        configs: a list of configuration dicts, or a dict ``label -> config``.
        X, y: the data; when given, split 80/20 (``random_state=42``) unless
            ``validation_data`` is given too. By default each configuration's
            ``dataset`` is loaded.
        validation_data: ``(X_test, y_test)`` to use with ``X, y`` instead of a split.
        epochs: epochs per configuration.
        seed: when given, overrides every configuration's seed.
        track_weights: record sampled kernel entries every epoch.
        progress: called as ``progress(i, n, run)`` after each run (``i`` from 1).

    Returns:
        One ``Run`` per configuration, in order; ``run.result`` is the result dict.
    """
    if isinstance(configs, Mapping):
        labels: list[str | None] = list(configs)
        items = list(configs.values())
    elif isinstance(configs, Sequence) and not isinstance(configs, str):
        labels = [None] * len(configs)
        items = list(configs)
    else:
        raise TypeError(f"configs must be a list or a dict of configurations, received {configs!r}")
    if not items:
        raise ValueError("configs must hold at least one configuration")
    shared: Dataset | None = None
    if X is not None:
        if y is None:
            raise ValueError("y is required when X is given")
        shared = split_arrays("arrays", X, y, validation_data)
    elif validation_data is not None:
        raise ValueError("validation_data needs X and y")
    runs: list[Run] = []
    cache: dict[str, Dataset] = {}
    for i, (label, item) in enumerate(zip(labels, items, strict=True)):
        overrides = {} if seed is None else {"seed": seed}
        cfg = check_config(dict(item), **overrides)
        if shared is not None:
            cfg["dataset"] = "arrays"
            data = shared
        else:
            if cfg["dataset"] not in cache:
                cache[cfg["dataset"]] = load_dataset(cfg["dataset"])
            data = cache[cfg["dataset"]]
        run = run_config(cfg, data, epochs, track_weights=track_weights, label=label)
        runs.append(run)
        if progress is not None:
            progress(i + 1, len(items), run)
    return runs
