"""The only code that touches the native ``Network``: build, plan, data, fit.

- ``plan``: from a layer list to the native specs and the gradient-flow rows.
- ``native``: ``build_network`` (the one constructor) and the native calls.
- ``data``: checking and converting what ``fit``/``evaluate``/``predict`` get.
- ``state``: ``Engine``, a model's native side, the explicit state ``fit`` runs on.
- ``feed``: how gradient-flow records reach the callbacks that asked for them.
- ``fit``: the epoch loop.
- ``access``: what ``models`` and ``flow`` ask of a model's native side.
"""

from __future__ import annotations

from .access import check_compiled, native_network, prepare_inputs, prepare_targets
from .fit import run_fit
from .native import build_network, evaluate, input_gradient, probe_pass
from .plan import FlowRow, NetworkPlan, all_layers, plan_network
from .state import Engine

__all__ = [
    "Engine",
    "FlowRow",
    "NetworkPlan",
    "all_layers",
    "build_network",
    "check_compiled",
    "evaluate",
    "input_gradient",
    "native_network",
    "plan_network",
    "prepare_inputs",
    "prepare_targets",
    "probe_pass",
    "run_fit",
]
