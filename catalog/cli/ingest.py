"""`catalog ingest <connector> SOURCE`: connectors from the command line.

`ingest` has one command per installed connector, found through the `catalog.connectors` entry points
(catalog/ingestion.py), so the catalog never imports the connectors. Each writes into the configured store (as
SYSTEM, or `--as PERSON`) or into a running catalog (`--server URL --token T`), shows a progress bar on stderr,
prints the report at the end, and exits 1 when any item failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from catalog.cli.help import CatalogTyper
from catalog.cli.services import open_services
from catalog.errors import InvalidInput
from catalog.ingestion import ConnectorPlugin, Destination, InProcess, Remote, installed
from catalog.principal import SYSTEM, Principal

ingest_cli = CatalogTyper(help="Harvest metadata into the catalog: one command per connector.")

Server = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        show_default="none: write in-process into CATALOG_STORE",
        help="Write into the catalog running at this URL, through its API.",
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        metavar="TOKEN",
        show_default="none; required with --server",
        help="Bearer token for --server (catalog token issue).",
    ),
]
Person = Annotated[
    str | None,
    typer.Option(
        "--as", metavar="PERSON", show_default="the system", help="In-process: write as this registered person."
    ),
]
Options = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        "-o",
        metavar="KEY=VALUE",
        show_default="the connector's own",
        help="A config setting (VALUE read as JSON when it parses). Repeatable.",
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", metavar="FILE", show_default="none", help="A YAML file of config settings; -o wins."),
]


def parse_options(config_file: Path | None, options: list[str]) -> dict[str, Any]:
    """Settings from a YAML file, then -o KEY=VALUE pairs over them. InvalidInput names the bad one."""
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = yaml.safe_load(config_file.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInput("--config", f"cannot be read as YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise InvalidInput("--config", "must hold a mapping of settings")
        values.update(loaded or {})
    for option in options:
        key, sep, raw = option.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("--option", f"expected KEY=VALUE, got {option!r}")
        try:
            values[key.strip()] = json.loads(raw)
        except ValueError:
            values[key.strip()] = raw
    return values


def _progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def destination(server: str | None, token: str | None, person: str | None, agency: str | None) -> Destination:
    """Where the options say to write. In-process, the services are opened here; the caller closes their store."""
    if server:
        if person:
            raise InvalidInput("--as", "is for in-process runs; with --server the token says who writes")
        if agency:
            raise InvalidInput("--agency", "is for in-process runs; the token says who writes")
        if not token:
            raise InvalidInput("--token", "is required with --server")
        return Remote(server, token)
    if token:
        raise InvalidInput("--token", "is only used with --server")
    if person and agency:
        raise InvalidInput("--agency", "is for runs as the system; --as PERSON writes as that person's agency")
    services = open_services()
    principal = Principal(id=SYSTEM.id, agency_id=agency, roles=SYSTEM.roles)
    if person:
        try:
            principal = services.people.principal(person, option="--as")  # as recorded; refused if deactivated
        except BaseException:
            services.store.close()
            raise
    return InProcess(services, principal)


def ingest(
    plugin: ConnectorPlugin,
    source: str,
    server: str | None,
    token: str | None,
    person: str | None,
    values: dict[str, Any],
    agency: str | None = None,
) -> int:
    """Run one connector to the end and print its report. Returns the exit code: 1 when anything failed."""
    target = destination(server, token, person, agency)
    try:
        prepared = plugin.prepare({**values, plugin.source_field: source}, target)  # a bad option: before any bar
        with _progress_bar() as bar:
            task = bar.add_task(f"{plugin.name} {source}", total=None)
            report = prepared.run(lambda done, expected: bar.update(task, completed=done, total=expected))
    finally:
        if isinstance(target, InProcess):
            target.services.store.close()
    for line in report.lines():
        typer.echo(line)
    return 1 if report.failures or report.aborted else 0


def _command(plugin: ConnectorPlugin) -> Callable[..., None]:
    # SOURCE's help differs per connector, so it is given as a default value: annotations are only strings here.
    source_argument = typer.Argument(..., metavar=plugin.source_metavar, help=plugin.source_help, show_default=False)

    def command(
        source: str = source_argument,
        server: Server = None,
        token: Token = None,
        person: Person = None,
        option: Options = None,
        config: ConfigFile = None,
    ) -> None:
        code = ingest(plugin, source, server, token, person, parse_options(config, option or []))
        if code:
            raise typer.Exit(code)

    def command_for_an_agency(
        source: str = source_argument,
        server: Server = None,
        token: Token = None,
        person: Person = None,
        agency: str | None = typer.Option(None, metavar="AGENCY", show_default="none", help=plugin.agency_help),
        option: Options = None,
        config: ConfigFile = None,
    ) -> None:
        code = ingest(plugin, source, server, token, person, parse_options(config, option or []), agency)
        if code:
            raise typer.Exit(code)

    chosen = command_for_an_agency if plugin.agency_help else command
    chosen.__doc__ = plugin.summary
    return chosen


for _name, _plugin in installed().items():
    ingest_cli.command(_name)(_command(_plugin))
