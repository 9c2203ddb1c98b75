"""`--help` for every command reads as a command-line user expects: no Python types, no `<bool>`, every option
explained with its default, no stray space before punctuation, and `serve` names everything it serves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.testing import CliRunner

from catalog.api.app import create_app
from catalog.cli import cli
from catalog.cli.help import help_record
from catalog.config import load_settings
from catalog.services import Services
from catalog.store.sqlite import SqliteStore

PYTHON_TYPE = re.compile(r"<\w[^>]*>|\{\w+\}|\b(?:str|int|float|bool|NoneType|list|dict|tuple)\b(?:\[|>)|\bPath\b")
SPACE_BEFORE_PUNCTUATION = re.compile(r"\w\s+[.,;:!?](?=\s|$)")
TRUNCATED_SUMMARY = re.compile(r"^  \S+\s+.*\w\.\.\.$", re.MULTILINE)


def command_paths() -> Iterator[tuple[str, ...]]:
    """Every command and group of the CLI, as the words that reach it, found by walking the click tree."""

    def walk(command: typer.core._click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        if isinstance(command, TyperGroup):
            for name, child in command.commands.items():
                yield from walk(child, (*path, name))

    yield from walk(typer.main.get_command(cli), ())


PATHS = list(command_paths())


def render_help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="catalog")
    assert result.exit_code == 0, result.output
    return result.output


def test_the_walk_reaches_nested_commands() -> None:
    assert ("audit", "public-key") in PATHS
    assert ("ingest", "openlineage") in PATHS
    assert len(PATHS) > 20


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "catalog")
def test_help_reads_cleanly(path: tuple[str, ...]) -> None:
    text = render_help(path)
    flowing = " ".join(text.split())  # help wraps at spaces: judge the words, not the line breaks

    assert not PYTHON_TYPE.findall(text), f"Python types or braces in `catalog {' '.join(path)} --help`:\n{text}"
    assert not SPACE_BEFORE_PUNCTUATION.findall(flowing), f"space before punctuation:\n{text}"
    assert not TRUNCATED_SUMMARY.findall(text.partition("Commands:")[2]), f"a command's summary is cut off:\n{text}"


def parameters() -> Iterator[tuple[str, TyperArgument | TyperOption, typer.core._click.Context]]:
    root = typer.main.get_command(cli)
    for path in PATHS:
        ctx = root.make_context("catalog", [], resilient_parsing=True)
        command = root
        for name in path:
            assert isinstance(command, TyperGroup)
            command = command.commands[name]
            ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        for param in command.get_params(ctx):
            assert isinstance(param, TyperArgument | TyperOption)
            yield " ".join(("catalog", *path)), param, ctx


def test_every_parameter_is_explained_with_its_default_or_as_required() -> None:
    unexplained = []
    for command, param, ctx in parameters():
        record = help_record(param, ctx)
        assert record is not None
        names, text = record
        takes_a_value = not (isinstance(param, TyperOption) and param.is_flag)
        if not param.help or (takes_a_value and not param.required and "[default: " not in text):
            unexplained.append(f"{command} {names}: {text!r}")

    assert unexplained == []


def test_flags_read_as_git_and_kubectl_users_expect() -> None:
    demo, bench, ckan = render_help(("demo",)), render_help(("bench",)), render_help(("ingest", "ckan"))

    assert "--reset / --no-reset  " in demo
    assert "--backend [sqlite|neo4j]...  " in bench
    assert "--out FILE  " in bench
    assert "Usage: catalog ingest ckan [OPTIONS] SOURCE\n" in ckan
    assert "\n  SOURCE  " in ckan


@pytest.mark.parametrize("path", [("audit", "export"), ("audit", "public-key"), ("export", "dcat")])
def test_an_output_option_says_where_output_goes_without_it(path: tuple[str, ...]) -> None:
    assert "[default: standard output]" in " ".join(render_help(path).split())


def test_serve_help_names_every_path_the_app_serves(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "catalog.db")
    store.init_schema()
    app = create_app(Services(store, load_settings()))
    served = {"/" + route.path.split("/")[1] for route in app.routes}  # `/datasets/{id}/lineage` -> `/datasets`
    store.close()
    text = render_help(("serve",))

    missing = sorted(path for path in served if not re.search(re.escape(path) + r"(?!\w)", text))
    assert missing == [], f"`catalog serve --help` does not mention {missing}:\n{text}"
