"""Every package says what it exports (`__all__` in its `__init__`), and the declaration is kept honest: each name
it lists exists, and whatever another module imports from a package (rather than from one of its modules) is
listed. A package whose modules are its surface lists nothing, and then nobody imports names from it directly."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from tests.test_imports import PACKAGES, REPO


def packages() -> dict[str, Path]:
    return {
        ".".join(init.parent.relative_to(REPO).parts): init.parent
        for root in PACKAGES
        for init in sorted((REPO / root).rglob("__init__.py"))
    }


def is_module(folder: Path, name: str) -> bool:
    return (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file()


def test_every_package_declares_its_surface_and_each_name_it_lists_exists() -> None:
    found = packages()
    assert {"catalog", "catalog.store", "connectors", "bench"} <= set(found)
    faults = {}
    for name, folder in found.items():
        module = importlib.import_module(name)
        listed = getattr(module, "__all__", None)
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            faults[name] = "no __all__ list of names in its __init__"
        elif len(set(listed)) != len(listed):
            faults[name] = f"__all__ repeats a name: {listed}"
        elif missing := [n for n in listed if not hasattr(module, n) and not is_module(folder, n)]:
            faults[name] = f"__all__ lists what it does not define: {missing}"
    assert faults == {}


def test_what_is_imported_from_a_package_is_in_its_surface() -> None:
    found = packages()
    undeclared = set()
    for root in (*PACKAGES, "tests"):
        for path in (REPO / root).rglob("*.py"):
            importer = ".".join(path.relative_to(REPO).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom) or node.level or node.module not in found:
                    continue
                if importer.startswith(f"{node.module}."):
                    continue  # a package's own modules may reach into its __init__
                listed = importlib.import_module(node.module).__all__
                undeclared |= {
                    (node.module, alias.name, importer)
                    for alias in node.names
                    if alias.name not in listed and not is_module(found[node.module], alias.name)
                }
    assert undeclared == set(), "add these names to the package's __all__, or import them from their module"
