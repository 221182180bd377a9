"""The public API as a user meets it: ``dir()`` shows the package's names only, and every
public class, function, method and property has a docstring of its own."""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

import pytest

import vgp_native

#: The modules a user imports names from (DESIGN.md's public API), besides the package.
PUBLIC_MODULES = (
    "vgp_native",
    "vgp_native.activations",
    "vgp_native.callbacks",
    "vgp_native.cli",
    "vgp_native.datasets",
    "vgp_native.experiments",
    "vgp_native.flow",
    "vgp_native.initializers",
    "vgp_native.layers",
    "vgp_native.losses",
    "vgp_native.models",
    "vgp_native.ops",
    "vgp_native.optimizers",
    "vgp_native.plots",
    "vgp_native.regularizers",
    "vgp_native.reproduce",
    "vgp_native.saving",
    "vgp_native.sklearn",
)
#: Modules whose ``dir()`` is their ``__all__`` exactly.
CURATED = (
    "vgp_native.activations",
    "vgp_native.callbacks",
    "vgp_native.datasets",
    "vgp_native.experiments",
    "vgp_native.initializers",
    "vgp_native.layers",
    "vgp_native.models",
    "vgp_native.ops",
)


def _public_names(module: ModuleType) -> list[str]:
    """``__all__``, or the public names the module defines itself."""
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return list(exported)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


def _members(cls: type) -> list[tuple[str, Any]]:
    """The public methods and properties ``cls`` defines itself, as the functions that carry
    their docstrings."""
    out = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (classmethod, staticmethod)):
            out.append((name, value.__func__))
        elif isinstance(value, property):
            out.append((name, value.fget))
        elif inspect.isfunction(value):
            out.append((name, value))
    return out


def _undocumented(module: ModuleType) -> list[str]:
    missing = []
    if not (module.__doc__ or "").strip():
        missing.append(module.__name__)
    for name in _public_names(module):
        value = getattr(module, name)
        if inspect.ismodule(value) or not (inspect.isclass(value) or inspect.isroutine(value)):
            continue
        where = f"{module.__name__}.{name}"
        if not (value.__doc__ or "").strip():
            missing.append(where)
        if inspect.isclass(value):
            missing += [
                f"{where}.{member}"
                for member, fn in _members(value)
                if not (getattr(fn, "__doc__", None) or "").strip()
            ]
    return missing


def test_the_docstring_scan_sees_a_missing_one() -> None:
    class Base:
        """Documented."""

        def method(self) -> None:
            """Documented."""

    class Child(Base):
        """Documented."""

        def method(self) -> None:  # overrides without a docstring of its own
            pass

        @property
        def size(self) -> int:
            return 1

        def _private(self) -> None:
            pass

    fake = ModuleType("fake", "A module.")
    fake.__all__ = ["Child", "helper"]
    fake.Child = Child
    fake.helper = lambda: None
    assert _undocumented(fake) == ["fake.Child.method", "fake.Child.size", "fake.helper"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_has_its_own_docstring(name: str) -> None:
    if name == "vgp_native.sklearn":
        pytest.importorskip("sklearn")
    assert _undocumented(importlib.import_module(name)) == []


def test_dir_of_the_package_shows_its_names_only() -> None:
    shown = dir(vgp_native)
    for leak in ("annotations", "Any", "np", "public_dir", "_core", "_engine", "_validation"):
        assert leak not in shown
    assert set(vgp_native.__all__) <= set(shown)
    assert all(hasattr(vgp_native, name) for name in shown)
    assert [n for n in shown if n.startswith("_")] == ["__version__"]
    # Public subpackages appear once imported (``import vgp_native.reproduce``).
    importlib.import_module("vgp_native.reproduce")
    assert "reproduce" in dir(vgp_native)


@pytest.mark.parametrize("name", CURATED)
def test_dir_of_a_public_module_is_its_all(name: str) -> None:
    module = importlib.import_module(name)
    assert dir(module) == sorted(module.__all__)
    assert "annotations" in vars(module)  # the names are still there, only not shown
