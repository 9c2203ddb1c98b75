"""The code we want: ruff and mypy clean, and schema.graphql in step with the live schema."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from pydantic import BaseModel

from catalog.api.errors import CODE_MEANINGS, error_codes
from catalog.api.sdl import schema_sdl
from catalog.config import Settings
from tests.conftest import REPO


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False)


def test_schema_file_matches_the_live_schema() -> None:
    assert (REPO / "schema.graphql").read_text() == schema_sdl(), "schema.graphql drifted: run `catalog schema export`"


def test_ruff_is_clean() -> None:
    names = ("catalog", "catalog_devtools", "tests", "connectors", "bench")
    folders = [name for name in names if (REPO / name).is_dir()]
    result = run("ruff", "check", *folders)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = run("mypy", "catalog", "catalog_devtools", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def setting_names(model: type[BaseModel], prefix: str = "CATALOG_") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names += setting_names(field.annotation, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()

    missing = [name for name in setting_names(Settings) if f"`{name}`" not in readme]

    assert missing == [], f"settings missing from the README's configuration table: {missing}"


ERROR_CODES_START = "<!-- extensions.code: generated from catalog/errors.py and catalog/api/errors.py -->\n"
ERROR_CODES_END = "<!-- end of extensions.code -->"


def error_code_list() -> str:
    """The README's list of error codes, generated from the error tree and what each code means to a client."""
    missing = [code for code in error_codes() if code not in CODE_MEANINGS]
    assert missing == [], f"give these codes a meaning in catalog/api/errors.py CODE_MEANINGS: {missing}"
    items = (f"- `{code}`: {CODE_MEANINGS[code]}." for code in sorted(error_codes()))
    return "".join(
        textwrap.fill(item, width=120, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False) + "\n"
        for item in items
    )


def test_the_readme_lists_exactly_the_error_codes_of_the_error_tree() -> None:
    readme = (REPO / "README.md").read_text()
    listed = readme.partition(ERROR_CODES_START)[2].partition(ERROR_CODES_END)[0]

    assert sorted(CODE_MEANINGS) == sorted(error_codes()), "CODE_MEANINGS and the error tree disagree"
    assert listed == error_code_list(), f"put this between the README's error-code markers:\n{error_code_list()}"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    command = "python3 -m venv .venv && .venv/bin/python -m pip install -q -e '.[test]' && .venv/bin/python -m pytest"

    assert f"```sh\n{command}\n```" in readme
    assert f"\n{command}\n" in (REPO / ".ci" / "run").read_text()


def test_only_the_decisions_module_asks_the_engine() -> None:
    """One home for deciding: outside the policy package, only services/decisions.py imports the engine, besides
    the API's policy introspection (the `policy` query) and the CLI's `policy check|test` commands."""
    import ast

    allowed = {"catalog/services/decisions.py", "catalog/api/decision_types.py", "catalog/cli/policy.py"}
    importers = set()
    for path in (REPO / "catalog").rglob("*.py"):
        relative = str(path.relative_to(REPO))
        if relative.startswith("catalog/policy/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "catalog.policy.engine":
                importers.add(relative)
    assert importers <= allowed, sorted(importers - allowed)
    assert "catalog/services/decisions.py" in importers


def test_ci_runs_exactly_the_readmes_two_commands_second() -> None:
    """The README gives a new user two commands; .ci/run runs the second (the suite) and nothing else."""
    import re

    quickstart = (REPO / "README.md").read_text().split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quickstart)
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line.startswith("python3 -m venv")]

    assert len(commands) == 2 and "catalog serve" in commands[0] and commands[1].endswith("-m pytest")
    assert ci == [commands[1]]
