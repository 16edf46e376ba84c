"""The package graph has one direction: each package imports only packages of lower layers.

The test reads every module of `watcher` (and `actions/`, installed as `watcher.actions`) with
`ast`, so an import inside a function or under `TYPE_CHECKING` counts like any other: a lazy
import that only hides a cycle is still a cycle. It fails on a package cycle (naming it) and
on an import that goes up or sideways (naming the file and line). A new package must be given
a layer here, which is the moment to decide where it belongs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top; a package may import packages of lower layers only (its own modules freely).
LAYERS: list[set[str]] = [
    # The language: pure pieces with no knowledge of PBS, Globus or the store.
    {"events", "envvars", "failpoints", "paths", "memory", "private", "sandbox", "lang",
     "metrics"},
    {"store"},
    # The outside world's clients: PBS commands, Globus SDK, SMTP.
    {"pbs", "globus", "mail"},
    # Each event kind's knowledge (a job's view uses PBS durations), then the templates.
    {"kinds"},
    {"templating"},
    # Plugins that observe, and the workflow records; the simulators (they speak PBS).
    {"sources", "workflows", "sim"},
    {"config", "triggers", "actions"},
    # Rules are built from triggers and actions.
    {"rules"},
    {"state", "ledger"},
    {"engine"},
    # Composition: the running service wires every stage together.
    {"service"},
    {"replay", "demo"},
    # What the faces show (rows shared by the CLI's --json and the HTTP API), then the faces:
    # the HTTP face is started by `watcher run --listen`.
    {"views"},
    {"http"},
    {"cli"},
    {"__main__"},
]
LAYER = {package: level for level, packages in enumerate(LAYERS) for package in packages}


@dataclass(frozen=True)
class Import:
    """One import statement of one module, reduced to the packages on either side."""

    importer: str
    imported: str
    where: str


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / "watcher").rglob("*.py")):
        yield "watcher." + ".".join(path.relative_to(ROOT / "watcher").with_suffix("").parts), path
    for path in sorted((ROOT / "actions").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT / "actions").with_suffix("").parts)
        yield "watcher.actions." + name, path


def _package(module: str) -> str | None:
    """`watcher.rules.model` -> `rules`; None for anything outside watcher."""
    parts = module.split(".")
    if parts[0] != "watcher" or len(parts) < 2 or parts[1] == "__init__":
        return None
    return parts[1]


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if not node.level:
            return [node.module or ""]
        base = module.split(".")[: None if is_package else -1]
        base = base[: len(base) - node.level + 1]
        return [".".join([*base, *([node.module] if node.module else [])])]
    return []


def package_imports() -> list[Import]:
    """Every import from one watcher package into another."""
    found = []
    for module, path in _modules():
        is_package = path.name == "__init__.py"
        module = module.removesuffix(".__init__")
        importer = _package(module)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for target in _targets(node, module, is_package):
                imported = _package(target)
                if importer and imported and imported != importer:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.append(Import(importer, imported, where))
    return found


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle in the package graph as a path (first == last), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        for nxt in sorted(edges.get(node, ())):
            if cycle := visit(nxt, [*path, node]):
                return cycle
        done.add(node)
        return None

    for start in sorted(edges):
        if cycle := visit(start, []):
            return cycle
    return None


def forbidden(imports: list[Import]) -> list[str]:
    """Imports that go up or sideways, as readable lines."""
    return [f"{i.where}: {i.importer} (layer {LAYER[i.importer]}) imports {i.imported} "
            f"(layer {LAYER[i.imported]})" for i in imports
            if LAYER[i.imported] >= LAYER[i.importer]]


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return package_imports()


def test_every_package_has_a_layer():
    packages = {_package(module.removesuffix(".__init__")) for module, _ in _modules()}
    assert sorted(p for p in packages - {None} if p not in LAYER) == []


def test_the_package_graph_has_no_cycle(imports):
    edges: dict[str, set[str]] = {}
    for i in imports:
        edges.setdefault(i.importer, set()).add(i.imported)
    assert find_cycle(edges) is None


def test_every_import_goes_down(imports):
    assert forbidden(imports) == []


def test_nothing_imports_the_top_level_actions_package():
    """`actions/` is installed as `watcher.actions`; a top-level `actions` is someone else's."""
    offenders = []
    for directory in ("watcher", "actions", "tests", "benchmarks"):
        for path in (ROOT / directory).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom)
                         and not node.level else [])
                if any(n == "actions" or n.startswith("actions.") for n in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_checks_catch_a_cycle_and_an_upward_import():
    """The test can fail: an action importing the engine is caught twice over."""
    up = Import("actions", "engine", "actions/email.py:1")
    assert forbidden([up]) == [f"actions/email.py:1: actions (layer {LAYER['actions']}) imports "
                               f"engine (layer {LAYER['engine']})"]
    assert find_cycle({"actions": {"engine"}, "engine": {"rules"}, "rules": {"actions"}}) == [
        "actions", "engine", "rules", "actions"]
