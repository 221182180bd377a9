"""Callbacks with Keras hook names: training loop events delivered to user code.

Hooks: ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)``,
``on_train_batch_begin/end(batch, logs)``, ``on_test_begin/end(logs)``,
``on_predict_begin/end(logs)``; ``logs`` is a plain dict of floats.

A whole epoch normally runs as one native call. A callback that overrides a
batch hook switches ``fit`` to a per-batch path (one native call per batch)
that trains bit-for-bit identically, so batch hooks never change results.

Besides the Keras hooks, ``Callback`` declares what ``fit`` asks every callback
about the native pass: ``records_flow`` and ``record_every`` (which batches get
gradient-flow statistics), ``receive_flow_stats`` (where they are delivered)
and ``halts_on_nonfinite`` (whether a non-finite step ends training). The
built-in callbacks live in :mod:`.builtin`, the progress output in
:mod:`.progress` and ``GradientFlow`` in :mod:`.gradient_flow`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end")
# Per Callback subclass, whether it overrides a batch hook (asked at every fit).
_OVERRIDES_BATCH_HOOKS: dict[type, bool] = {}


class Callback:
    """Base class. Subclass and override the hooks you need.

    Attributes:
        model: the model being trained (set by ``fit``).
        params: ``{"epochs", "steps", "verbose", "batch_size", "samples"}``.
    """

    #: Whether ``fit`` records gradient-flow statistics for this callback: the
    #: native pass then measures the batches ``record_every`` asks for and ``fit``
    #: hands the records to ``receive_flow_stats``.
    records_flow: ClassVar[bool] = False
    #: Whether a step whose loss, gradients or updated weights are not finite is
    #: undone natively and ends training (checked after every batch).
    halts_on_nonfinite: ClassVar[bool] = False

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Called by ``fit`` with the model being trained (``self.model``)."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Called by ``fit`` with its settings (``epochs``, ``steps``, ``verbose``, ...)."""
        self.params = params

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        """Called once after the last epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Called at the start of each epoch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Called at the end of each epoch with the epoch's logs."""

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Called before each training batch (switches fit to the per-batch path)."""

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Called after each training batch with running epoch averages."""

    def on_test_begin(self, logs: dict[str, float] | None = None) -> None:
        """Called before evaluation."""

    def on_test_end(self, logs: dict[str, float] | None = None) -> None:
        """Called after evaluation."""

    def on_predict_begin(self, logs: dict[str, float] | None = None) -> None:
        """Called before prediction."""

    def on_predict_end(self, logs: dict[str, float] | None = None) -> None:
        """Called after prediction."""

    def record_every(self, steps: int) -> int:
        """Which batches the native pass records when ``records_flow``: every ``k``-th.

        Args:
            steps: batches per epoch.

        Returns:
            ``k`` >= 1; the first batch of every epoch is always among them
            (``1``: every batch, ``steps``: the first batch of each epoch alone,
            the default). ``fit`` records at the smallest ``k`` its callbacks ask for.
        """
        return max(int(steps), 1)

    def receive_flow_stats(
        self,
        epochs: np.ndarray,
        records: np.ndarray,
        losses: np.ndarray,
        batch_ids: np.ndarray,
        starts: np.ndarray | None,
    ) -> None:
        """Gradient-flow records of finished epochs, when ``records_flow`` (see ``_engine.feed``).

        Args:
            epochs: the finished epochs (0-based, increasing).
            records: ``(batches, rows, fields + bins)`` per-batch statistics.
            losses: ``(batches,)`` batch losses.
            batch_ids: ``(batches,)`` batch index of each record within its epoch.
            starts: where each epoch's records begin; None: where ``batch_ids`` is 0.
        """

    @property
    def implements_batch_hooks(self) -> bool:
        """Whether a subclass overrides a batch hook (``fit`` then takes the per-batch path)."""
        cls = type(self)
        found = _OVERRIDES_BATCH_HOOKS.get(cls)
        if found is None:
            found = any(getattr(cls, h) is not getattr(Callback, h) for h in _BATCH_HOOKS)
            _OVERRIDES_BATCH_HOOKS[cls] = found
        return found


class CallbackList:
    """Dispatches each event to a list of callbacks in order."""

    def __init__(self, callbacks: list[Callback], model: Any, params: dict[str, Any]) -> None:
        self.callbacks = callbacks
        for cb in callbacks:
            cb.set_model(model)
            cb.set_params(params)

    @property
    def implements_batch_hooks(self) -> bool:
        """Whether any of the callbacks overrides a batch hook."""
        return any(cb.implements_batch_hooks for cb in self.callbacks)

    def overriding(self, hook: str) -> tuple[Any, ...]:
        """The callbacks' bound ``hook`` methods, in order, without those left as Callback's no-op.

        ``fit`` takes them once and calls them every epoch: on a small network an
        epoch takes tens of microseconds, and most callbacks implement few hooks.
        """
        base = getattr(Callback, hook, None)
        return tuple(
            method
            for method in (getattr(cb, hook) for cb in self.callbacks)
            if base is None or getattr(method, "__func__", None) is not base
        )

    def __getattr__(self, hook: str) -> Any:
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        methods = self.overriding(hook)

        def call(*args: Any) -> None:
            for method in methods:
                method(*args)

        self.__dict__[hook] = call  # looked up once per hook
        return call


def check_callbacks(callbacks: Any) -> list[Callback]:
    """Validate the ``callbacks`` argument of fit/evaluate/predict."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(
            f"callbacks must be a list of Callback objects, received {type(callbacks).__name__}"
        )
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks[{i}] must be a Callback, received {type(cb).__name__}")
    return list(callbacks)
