"""The import graph, built from the code (function-level imports included, `if TYPE_CHECKING:` ones not: they never
run): no cycles, and layers point one way.

api and web -> services -> (policy, store); the store never imports policy or services; nothing in catalog imports
bench, tests or the dev tooling (catalog_devtools); connectors import catalog, not the other way. api/app.py mounts
the pages, so api may import web.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("catalog", "catalog_devtools", "connectors", "bench")

# catalog never imports connectors: `catalog ingest` finds them through entry points (catalog/ingestion.py), and
# the DCAT-AP export lives in catalog/publish/. The test holds the set to empty, so a new import fails.
CATALOG_TO_CONNECTORS: set[tuple[str, str]] = set()
# `catalog bench` runs the benchmarks of a checkout (bench/ is not installed with the package).
CATALOG_TO_BENCH = {("catalog.cli.bench", "bench"), ("catalog.cli.bench", "bench.suite")}

# (importer prefix, imported prefixes it must not import)
LAYERS = [
    ("catalog.store", ("catalog.policy", "catalog.services", "catalog.api", "catalog.web", "catalog.cli")),
    ("catalog.policy", ("catalog.services", "catalog.api", "catalog.web", "catalog.cli")),
    ("catalog.services", ("catalog.api", "catalog.web", "catalog.cli", "catalog.publish")),
    ("catalog.publish", ("catalog.api", "catalog.web", "catalog.cli")),
    ("catalog.api", ("catalog.cli",)),
    ("catalog.web", ("catalog.cli",)),
    ("catalog", ("tests", "catalog_devtools")),
    ("connectors", ("bench", "tests", "catalog.cli")),
]


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Our modules that `name` imports: `from package import module` counts as the module, not the package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target
                yield from entered(name, target, known)


def entered(importer: str, target: str, known: dict[str, Path]) -> Iterator[str]:
    """The packages whose `__init__` runs first when `importer` imports `target`: the target's enclosing packages
    that do not enclose the importer too (those are already being imported)."""
    parts = target.split(".")
    for depth in range(1, len(parts)):
        package = ".".join(parts[:depth])
        if package in known and not under(importer, package):
            yield package


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imported(name, path, known)) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(graph()) == []


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_importing_a_module_of_another_package_runs_that_packages_init_first() -> None:
    known = {name: Path() for name in ("catalog", "catalog.services", "catalog.services.context", "catalog.audit")}

    assert list(entered("catalog.audit.trail", "catalog.services.context", known)) == ["catalog.services"]
    assert list(entered("catalog.services.decisions", "catalog.services.context", known)) == []


def test_layers_point_one_way() -> None:
    edges = graph()
    against = sorted(
        (importer, target)
        for importer, targets in edges.items()
        for target in targets
        for layer, forbidden in LAYERS
        if under(importer, layer) and any(under(target, f) for f in forbidden)
    )
    def from_catalog_to(package: str) -> set[tuple[str, str]]:
        return {(i, t) for i, targets in edges.items() for t in targets if under(i, "catalog") and under(t, package)}

    assert against == []
    assert from_catalog_to("connectors") == CATALOG_TO_CONNECTORS
    assert from_catalog_to("bench") == CATALOG_TO_BENCH
