"""The package's shape: imports point one way, nothing reads another object's private
attributes, only the engine touches the native network, files stay small.

Every module of ``python/vgp_native`` is parsed (not imported); its imports,
function-level ones and those under ``if TYPE_CHECKING:`` included, are edges
from the module to the modules they name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import vgp_native

PACKAGE = Path(vgp_native.__file__).resolve().parent
NAME = "vgp_native"
#: Heavy optional or lazily loaded dependencies a function may import on first use.
LAZY_ALLOWED = ("matplotlib", "distributed", "dask", "sklearn", "torch", "IPython")
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
KNOWN = set(MODULES) | {f"{NAME}._core"}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement names (its ``from`` module, or each imported submodule)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    return [
        f"{source}.{alias.name}" if f"{source}.{alias.name}" in KNOWN else source
        for alias in node.names
    ]


def _imports(module: str) -> list[tuple[ast.AST, str]]:
    return [
        (node, target)
        for node in ast.walk(TREES[module])
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for target in _targets(module, node)
    ]


GRAPH = {
    module: {t for _, t in _imports(module) if t in MODULES and t != module} for module in MODULES
}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (a list of modules, first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_there_are_modules_and_edges_to_check() -> None:
    assert len(MODULES) > 50 and sum(len(e) for e in GRAPH.values()) > 100
    assert f"{NAME}._engine.fit" in GRAPH[f"{NAME}.models"]


def test_no_import_cycle() -> None:
    assert _cycle(GRAPH) is None, " -> ".join(_cycle(GRAPH) or [])


# The layers of DESIGN.md: cli, experiments, reproduce -> flow -> _engine -> layers -> _core;
# models -> _engine, callbacks.base; callbacks.gradient_flow -> flow. A package here
# must not import any of the packages listed against it.
FORBIDDEN = {
    "_engine": ("flow", "callbacks", "models", "cli", "experiments", "plots", "report_html"),
    "layers": ("_engine", "flow", "callbacks", "models", "cli", "experiments", "saving"),
    "ops": ("_engine", "flow", "callbacks", "models", "layers", "cli", "experiments"),
    "flow": ("callbacks", "models", "cli", "experiments", "saving"),
    "callbacks.base": ("flow", "_engine", "models"),
    "activations": ("layers", "_engine", "flow", "models", "ops"),
    "regularizers": ("layers", "_engine", "flow", "models"),
    # The estimators stand on the public API (models, layers, callbacks, ...).
    "sklearn": ("_engine", "cli", "experiments", "reproduce"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    prefix = f"{NAME}.{package}"
    wrong = [
        (module, target)
        for module, targets in GRAPH.items()
        if module == prefix or module.startswith(prefix + ".")
        for target in targets
        for banned in FORBIDDEN[package]
        if target == f"{NAME}.{banned}" or target.startswith(f"{NAME}.{banned}.")
    ]
    assert wrong == []


def test_only_the_estimators_import_the_optional_sklearn_package() -> None:
    # scikit-learn is optional: importing vgp_native (or any module but
    # vgp_native.sklearn) must not need it.
    importers = {
        module
        for module, targets in GRAPH.items()
        if any(t == f"{NAME}.sklearn" or t.startswith(f"{NAME}.sklearn.") for t in targets)
    }
    assert importers and all(m.startswith(f"{NAME}.sklearn") for m in importers)
    at_import = {
        module
        for module, tree in TREES.items()
        for node in _module_level(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for target in _targets(module, node)
        if target.split(".")[0] == "sklearn"
    }
    assert at_import and all(m.startswith(f"{NAME}.sklearn") for m in at_import)


def _module_level(node: ast.AST) -> list[ast.AST]:
    """The nodes that run when the module is imported (not inside a function body)."""
    out = []
    for child in ast.iter_child_nodes(node):
        out.append(child)
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            out.extend(_module_level(child))
    return out


def _function_level_imports() -> list[tuple[str, str]]:
    out = []
    for module, tree in TREES.items():
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        out.extend((module, t) for t in _targets(module, node))
    return out


def test_function_level_imports_are_only_heavy_optional_dependencies() -> None:
    lazy = _function_level_imports()
    assert any(t.startswith("matplotlib") for _, t in lazy)  # the check sees them
    wrong = [(m, t) for m, t in lazy if t.split(".")[0] not in LAZY_ALLOWED]
    assert wrong == []


def test_no_module_getattr_and_no_type_checking_imports() -> None:
    getattrs = [
        module
        for module, tree in TREES.items()
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
    ]
    type_checking = [
        module
        for module, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
    ]
    assert getattrs == [] and type_checking == []


def _private_reads(tree: ast.AST) -> list[str]:
    """``obj._name`` where ``obj`` is not ``self`` or ``cls`` (dunders aside)."""
    return [
        f"{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]


def test_the_private_attribute_scan_sees_one() -> None:
    tree = ast.parse("def f(model, self):\n    return model._net, self._net, model.__dict__\n")
    assert _private_reads(tree) == ["2: model._net"]


def test_no_private_attribute_of_another_object_is_read() -> None:
    found = {module: _private_reads(tree) for module, tree in TREES.items()}
    assert {module: reads for module, reads in found.items() if reads} == {}


def test_no_private_name_is_imported_from_another_module() -> None:
    wrong = [
        (module, alias.name)
        for module, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias, target in zip(node.names, _targets(module, node), strict=True)
        if alias.name.startswith("_")
        and not alias.name.startswith("__")
        # a private module itself (``from . import _core``) is fine, a name in one is not
        and not target.endswith(f".{alias.name}")
    ]
    assert wrong == []


def test_only_the_engine_touches_the_native_network() -> None:
    touching = {
        module
        for module, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("Network32", "Network64")
    }
    assert touching == {f"{NAME}._engine.native"}


def test_python_files_stay_under_400_lines() -> None:
    lengths = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    assert {m: n for m, n in lengths.items() if n > MAX_LINES} == {}
