"""The import layers of docs/DESIGN.md, read from the code itself with `ast`.

Every import counts, also those inside functions (a lazy import is still a dependency), and
`if TYPE_CHECKING:` ones too (they are how a type crosses a layer, and a type is a dependency).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "llmops_gate"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, as absolute names (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            # `from llmops_gate import validators` imports the submodule `validators`.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def modules() -> dict[str, set[str]]:
    """module name -> the llmops_gate modules and third-party top-level names it imports."""
    out: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        out[module_name(path)] = set(imports(path))
    return out


MODULES = modules()


def importers_of(target: str, *, outside: tuple[str, ...] = ()) -> list[str]:
    """Modules (not under any of `outside`) that import `target` or something inside it."""
    return sorted(m for m, deps in MODULES.items()
                  if not m.startswith(outside)
                  and any(d == target or d.startswith(target + ".") for d in deps))


def under(prefix: str) -> dict[str, set[str]]:
    return {m: d for m, d in MODULES.items() if m == prefix or m.startswith(prefix + ".")}


def test_the_walk_sees_the_package() -> None:
    # Guard against a walk that finds nothing and so passes every rule below.
    assert "llmops_gate.commands" in MODULES and "llmops_gate.engine" in MODULES
    assert "llmops_gate.validators.policy.engine" in MODULES
    assert "click" in MODULES["llmops_gate.commands"]
    assert "llmops_gate.validators" in MODULES["llmops_gate.engine"]


def test_only_commands_know_the_command_line() -> None:
    own = ("llmops_gate.commands", "llmops_gate.__main__")
    assert importers_of("llmops_gate.commands", outside=own) == []
    assert importers_of("click", outside=own) == []


def test_validators_import_neither_gitops_nor_report() -> None:
    bad = {m: sorted(d for d in deps if d.startswith(("llmops_gate.gitops", "llmops_gate.report")))
           for m, deps in under("llmops_gate.validators").items()}
    assert {m: d for m, d in bad.items() if d} == {}


def test_report_imports_no_validator() -> None:
    bad = {m: sorted(d for d in deps if d.startswith("llmops_gate.validators"))
           for m, deps in under("llmops_gate.report").items()}
    assert {m: d for m, d in bad.items() if d} == {}


def node_of(module: str) -> str | None:
    """The top-level subpackage or module of llmops_gate a module belongs to."""
    parts = module.split(".")
    if parts[0] != "llmops_gate" or len(parts) < 2:
        return None
    name = parts[1]
    if (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file():
        return name
    return None  # `from llmops_gate import __version__` and the like


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, deps in MODULES.items():
        source = node_of(module)
        if source is None:
            continue  # llmops_gate/__init__.py: the version only
        edges = graph.setdefault(source, set())
        for dep in deps:
            target = node_of(dep)
            if target is not None and target != source:
                edges.add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_between_packages() -> None:
    graph = package_graph()
    assert {"commands", "validators", "repo", "yamlio", "model"} <= set(graph)
    assert cycles(graph) == []


def test_lint_and_parse_do_not_import_each_other() -> None:
    lint = MODULES["llmops_gate.validators.lint"]
    parse = MODULES["llmops_gate.validators.parse"]
    assert not any(d.startswith("llmops_gate.validators.parse") for d in lint)
    assert not any(d.startswith("llmops_gate.validators.lint") for d in parse)
