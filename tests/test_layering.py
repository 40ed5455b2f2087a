"""The package's layering, read from the source (``ast``, no third-party tool): imports point
down only, so no module imports, at any depth, a module that imports it back."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "lloyd"

#: Files still over the 600-line limit, to be split by concern (the lead empties this list).
TOO_LONG_FOR_NOW: set[str] = set()
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The lloyd module ``name`` refers to: itself, or its longest known prefix (a name
    imported from a module, e.g. ``lloyd.cluster.KMeans``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The lloyd modules ``module`` imports anywhere in its file, inside functions too.

    ``from lloyd.x import y`` is an edge to ``lloyd.x`` (or to ``lloyd.x.y`` when that is a
    module); a package ``__init__``'s lazy ``__getattr__`` map is a table of strings, not an
    import, and ``if TYPE_CHECKING:`` imports never run: neither makes an edge.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    # ``if TYPE_CHECKING:`` imports never run: they are for type checkers only.
    type_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                 for stmt in block.body for n in ast.walk(stmt)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            prefix = node.module or ""
            if node.level:  # relative: from the package, up level - 1 packages
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            # a submodule imported by name, else a name from the module ``prefix``
            names = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules
                     else prefix for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                found.add(target)
    return found


@functools.cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(m, p, modules) for m, p in modules.items()}


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path start → … → start in the import graph, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph[node]):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_the_graph_sees_imports_inside_functions():
    graph = _graph()
    assert "lloyd._engine" in graph["lloyd.cluster"]  # at module level
    assert "lloyd._kernels.lloyd" in graph["lloyd._engine"]  # inside a function
    assert "lloyd.cluster" in graph["lloyd.minibatch"]
    assert "lloyd.cluster" not in graph["lloyd"]  # the lazy map is strings, not imports


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_module_imports_one_that_imports_it_back(module):
    cycle = _cycle_from(module, _graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("module", ["lloyd._engine", "lloyd._runs", "lloyd.seeding",
                                    "lloyd._validation", "lloyd._threads", "lloyd._rows"])
def test_the_engine_stands_below_the_estimators(module):
    """The engine, seeding and validation never reach up to the estimators or the faces."""
    graph = _graph()
    reached, todo = set(), [module]
    while todo:
        for nxt in graph[todo.pop()] - reached:
            reached.add(nxt)
            todo.append(nxt)
    above = {"lloyd.cluster", "lloyd.minibatch", "lloyd.distributed", "lloyd.image",
             "lloyd.tables", "lloyd.plot", "lloyd.cli", "lloyd.demo"}
    assert not reached & above


def test_no_file_is_over_600_lines():
    long = {p.relative_to(PACKAGE).as_posix(): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert set(long) <= TOO_LONG_FOR_NOW, (
        f"over {MAX_LINES} lines: { {k: v for k, v in long.items() if k not in TOO_LONG_FOR_NOW} }"
    )
