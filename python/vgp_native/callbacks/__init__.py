"""Callbacks with Keras hook names: training loop events delivered to user code.

Hooks: ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)``,
``on_train_batch_begin/end(batch, logs)``, ``on_test_begin/end(logs)``,
``on_predict_begin/end(logs)``; ``logs`` is a plain dict of floats.

- ``Callback`` (:mod:`.base`): the base class, with every hook ``fit`` uses declared.
- ``History``, ``EarlyStopping``, ``TerminateOnNaN`` (:mod:`.builtin`).
- ``GradientFlow`` (:mod:`.gradient_flow`): records per-layer gradient-flow
  statistics; ``.report()`` gives a ``vgp_native.flow.GradientFlowReport``.
"""

from __future__ import annotations

from .._public import public_dir
from .base import Callback, CallbackList, check_callbacks
from .builtin import EarlyStopping, History, TerminateOnNaN
from .gradient_flow import GradientFlow

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "GradientFlow",
    "History",
    "TerminateOnNaN",
    "check_callbacks",
]
__dir__ = public_dir(__name__, __all__)
