"""The package's shape, checked from its source: no import cycles, few loose modules, no docstring that
points outside the repository.

The import graph is built from the AST of every module of ``livedigits``, counting every import: at the
top, inside functions, under ``if TYPE_CHECKING``, relative ones resolved. An import of a package counts
as an import of its ``__init__``; ``from package import name`` counts as an import of the submodule
``package.name`` where that is a module, else of the package. A cycle anywhere (a function-level import
included) means two modules cannot be understood, tested or moved apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "livedigits"

#: The modules allowed loose at the top of the package (see the layout in docs/layout.md); new code
#: goes in a package.
MAX_LOOSE_MODULES = 6


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


MODULES = _module_names()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute name ``from ... import`` names, relative levels resolved against ``module``."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _owner(name: str) -> str | None:
    """The module of ours that importing ``name`` loads last (its longest known prefix)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, node)
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
            else:
                continue
            for name in names:
                owner = _owner(name)
                if owner is not None and owner != module:
                    targets.add(owner)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the module count (~130)
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_graph_sees_imports_inside_functions_and_relative_ones():
    # The check is only as good as its graph: a known lazy import (the package's own __getattr__ is
    # importlib, so take a real one) and the package's edges must be present.
    graph = import_graph()
    assert "livedigits.api" in graph and graph["livedigits.api"], "api imports nothing?"
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    found = cycles(import_graph())
    assert found == [], "import cycles (imports inside functions count): " + "; ".join(" <-> ".join(c) for c in found)


def test_types_is_a_leaf():
    graph = import_graph()
    assert graph["livedigits.types"] == set(), f"livedigits.types imports {sorted(graph['livedigits.types'])}"


def test_the_api_never_loads_the_cli():
    graph = import_graph()
    for start in ("livedigits.api", "livedigits"):
        loaded = reachable(graph, start) | {start}
        cli = sorted(m for m in loaded if m == "livedigits.cli" or m.startswith("livedigits.cli."))
        assert cli == [], f"{start} loads {cli}"


@pytest.mark.parametrize("module", ["livedigits.vision.segment", "livedigits.vision.view", "livedigits.vision.anchors",
                                    "livedigits.vision.signs"])
def test_the_segmentation_does_not_load_the_reading(module):
    # The reading builds on the segmentation, never the other way round: the anchor test that both the
    # classifier's reuse and the carried cut decisions use lives in vision (vision/anchors.py), and a sign
    # found on the page is a frame-level record (livedigits.types.Sign) like a digit's Detection.
    loaded = reachable(import_graph(), module)
    reading = sorted(m for m in loaded if m == "livedigits.reading" or m.startswith("livedigits.reading."))
    assert reading == [], f"{module} loads {reading}"


def test_few_modules_loose_at_the_top():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, f"{len(loose)} loose modules in livedigits/: {loose}"


_OUTSIDE = re.compile(r"(?<![\w.])\.\./|/work/|\bshared/realdev\b")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_docstring_points_outside_the_repository(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node) or ""
            hit = _OUTSIDE.search(doc)
            assert hit is None, f"{module}: docstring of {getattr(node, 'name', 'the module')} points outside the repository: {doc[max(0, hit.start() - 40): hit.end() + 40]!r}"


def test_the_type_stub_names_what_the_package_exports():
    # __init__.pyi is what type checkers see of the lazily imported names: the same list as _EXPORTS.
    import livedigits

    stub = ast.parse((PACKAGE / "__init__.pyi").read_text(encoding="utf-8"))
    imported = {alias.asname or alias.name for node in ast.walk(stub) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    assert imported == set(livedigits._EXPORTS)
