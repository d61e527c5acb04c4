"""The package's import graph, read from the sources with ``ast``: no cycle, imports made inside
functions included (a lazy import is still a dependency; imports for annotations only are not), no
production backend depends on the test backend ``emu``, and the client and the request conversion stay
off the engine, the scheduler and the backends."""

from __future__ import annotations

import ast
from pathlib import Path

_PKG = Path(__file__).resolve().parents[1] / "verifier"


def _module_name(path: Path) -> str:
    parts = path.relative_to(_PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node, except those under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return out


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in _PKG.rglob("*.py") if "v1" not in p.relative_to(_PKG).parts}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in _runtime_nodes(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from verifier import x` is an edge to verifier.x: the root package's __init__ (the public
                # API, which imports everything) runs for any import and is not counted as a layer.
                own = [] if node.module == "verifier" else [node.module]
                targets = own + [f"{node.module}.{a.name}" for a in node.names]
            for t in targets:
                if t in modules and t != name:
                    graph[name].add(t)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            # A package's __init__ re-exporting its submodules is not a cycle with them.
            if m.startswith(n + ".") or n.startswith(m + "."):
                continue
            if state.get(n) == 1:
                return stack[stack.index(n) :] + [n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_package_has_no_import_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_no_production_backend_imports_the_test_backend() -> None:
    graph = _graph()
    for m in (
        "verifier.backends.cpu",
        "verifier.backends.cuda.backend",
        "verifier.backends._host",
        "verifier.engine",
    ):
        assert "verifier.backends.emu" not in graph[m], m


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        for n in graph[m]:
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def test_layers_the_client_and_the_conversion_stay_off_the_engine_and_the_scheduler() -> None:
    """The client (a caller's library) reaches neither the engine nor the scheduler nor any backend, not
    even through convert; convert does not reach the scheduler."""
    graph = _graph()
    client = _reachable(graph, "verifier.client")
    assert not client & {"verifier.engine", "verifier.scheduler"}, sorted(client)
    assert not {m for m in client if m.startswith("verifier.backends")}, sorted(client)
    assert "verifier.scheduler" not in _reachable(graph, "verifier.convert")


def test_serving_does_not_import_the_benchmark_package() -> None:
    graph = _graph()
    for m in ("verifier.server", "verifier.service", "verifier.engine"):
        assert not {n for n in _reachable(graph, m) if n.startswith("verifier.bench")}, m
