"""python/vgp_native/_core.pyi lists exactly the extension's functions, constants and methods."""

from __future__ import annotations

import ast
from pathlib import Path

from vgp_native import _core

STUB = Path(__file__).resolve().parents[1] / "python" / "vgp_native" / "_core.pyi"


def test_stub_declares_every_function_of_the_extension() -> None:
    tree = ast.parse(STUB.read_text())
    declared = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    exported = {
        name
        for name in dir(_core)
        if not name.startswith("_")
        and callable(getattr(_core, name))
        and not name.startswith("Network")
    }
    assert declared == exported


def test_stub_declares_every_network_method() -> None:
    tree = ast.parse(STUB.read_text())
    base = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "_Network")
    declared = {n.name for n in base.body if isinstance(n, ast.FunctionDef)} - {"__init__"}
    for cls in (_core.Network32, _core.Network64):
        exported = {name for name in dir(cls) if not name.startswith("_")}
        assert declared == exported
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    assert {"Network32", "Network64"} <= classes


def test_stub_declares_every_constant_of_the_extension() -> None:
    tree = ast.parse(STUB.read_text())
    declared = {
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and not node.target.id.startswith("_")
    }
    exported = {
        name
        for name in dir(_core)
        if not name.startswith("_") and not callable(getattr(_core, name))
    }
    assert declared == exported
