"""Module ``__dir__`` functions, so that ``dir()`` and tab completion show a module's API:
its ``__all__`` (and, for the package, its public subpackages once imported), not the
names it imports for itself (``Any``, ``np``, ``annotations``) or its private modules."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from types import ModuleType

__all__ = ["public_dir"]


def public_dir(
    module: str, exported: Sequence[str], submodules: bool = False
) -> Callable[[], list[str]]:
    """A ``__dir__`` for the module named ``module``: ``exported`` (its ``__all__``), plus,
    with ``submodules``, its public submodules that have been imported."""

    def names() -> list[str]:
        shown = set(exported)
        if submodules:
            for name, value in vars(sys.modules[module]).items():
                if (
                    not name.startswith("_")
                    and isinstance(value, ModuleType)
                    and value.__name__ == f"{module}.{name}"
                ):
                    shown.add(name)
        return sorted(shown)

    return names
