"""The README's architecture map is the code's: every package, its docstring and its modules, nothing left out."""

from __future__ import annotations

from tests.architecture import REPO, current, packages, render, summary


def test_the_readme_map_is_generated_from_the_code() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")

    assert current(readme) == render(), "the map drifted: run `python -m tests.architecture` and commit README.md"


def test_every_package_says_what_it_holds() -> None:
    names = {p.relative_to(REPO).as_posix(): summary(p / "__init__.py") for p in packages()}

    assert [name for name, about in names.items() if not about] == []
    assert {"catalog", "catalog/web", "catalog/api", "connectors", "bench"} <= set(names)
