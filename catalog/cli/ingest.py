"""`catalog ingest <connector> SOURCE` and `catalog export dcat`: connectors from the command line.

`ingest` has one command per registered connector. Each writes into the configured store (as SYSTEM, or
`--as PERSON`) or into a running catalog (`--server URL --token T`), shows a progress bar on stderr, prints the
report at the end, and exits 1 when any item failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from catalog.cli.help import CatalogTyper, choices
from catalog.cli.services import open_services
from catalog.errors import InvalidInput
from connectors.base import ConnectorContext, run
from connectors.registry import REGISTRY, ConnectorSpec, connector_class
from connectors.sinks import GraphQLSink, ServiceSink, Sink

ingest_cli = CatalogTyper(help="Harvest metadata into the catalog: one command per connector.")
export_cli = CatalogTyper(help="Publish the catalog in open standards.")

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


def open_sink(server: str | None, token: str | None, person: str | None, stack: ExitStack) -> Sink:
    """The sink the options name; `stack` closes it (and the store) when the run is over."""
    if server:
        from catalog.client import CatalogClient

        if person:
            raise InvalidInput("--as", "is for in-process runs; with --server the token says who writes")
        if not token:
            raise InvalidInput("--token", "is required with --server")
        remote = GraphQLSink(CatalogClient(server, token=token), server)
        stack.callback(remote.close)
        return remote
    if token:
        raise InvalidInput("--token", "is only used with --server")
    from catalog.principal import SYSTEM

    services = open_services()
    stack.callback(services.store.close)
    principal = SYSTEM
    if person:
        principal = services.people.principal(person)  # as the catalog records them; refused if deactivated
    return ServiceSink(services, principal)


def ingest(
    spec: ConnectorSpec, source: str, server: str | None, token: str | None, person: str | None, values: dict[str, Any]
) -> int:
    """Run one connector to the end and print its report. Returns the exit code: 1 when anything failed."""
    cls = connector_class(spec.name)
    with ExitStack() as stack:
        sink = open_sink(server, token, person, stack)
        connector = cls.create({**values, spec.source_field: source}, ConnectorContext(sink))
        with _progress_bar() as bar:
            task = bar.add_task(f"{spec.name} {source}", total=None)
            report = run(connector, lambda c, _: bar.update(task, completed=c.progressed, total=c.expected))
    for line in report.lines():
        typer.echo(line)
    return 1 if report.failures or report.aborted else 0


def _command(spec: ConnectorSpec) -> Callable[..., None]:
    # SOURCE's help differs per connector, so it is given as a default value: annotations are only strings here.
    def command(
        source: str = typer.Argument(..., metavar="SOURCE", help=spec.source_help, show_default=False),
        server: Server = None,
        token: Token = None,
        person: Person = None,
        option: Options = None,
        config: ConfigFile = None,
    ) -> None:
        code = ingest(spec, source, server, token, person, parse_options(config, option or []))
        if code:
            raise typer.Exit(code)

    command.__doc__ = spec.summary
    return command


for _spec in REGISTRY.values():
    ingest_cli.command(_spec.name)(_command(_spec))


class DcatFormat(StrEnum):
    ttl = "ttl"
    jsonld = "jsonld"


@export_cli.command("dcat", short_help="The catalog as DCAT-AP 3, as anonymous readers see it.")
def export_dcat(
    format: Annotated[
        DcatFormat, typer.Option(metavar=choices(DcatFormat), help="Turtle or JSON-LD.")
    ] = DcatFormat.ttl,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", show_default="standard output", help="Where the catalogue goes.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            show_default="http://CATALOG_HOST:CATALOG_PORT",
            help="The catalog's public address, for the IRIs in the catalogue.",
        ),
    ] = None,
) -> None:
    """Write the catalog as DCAT-AP 3: only what anonymous readers may see."""
    from connectors.dcat_ap import CatalogDescription, catalog_graph, serialize

    services = open_services()
    settings = services.ctx.settings
    try:
        graph = catalog_graph(services, CatalogDescription(base_url or f"http://{settings.host}:{settings.port}"))
    finally:
        services.store.close()
    body = serialize(graph, format.value)
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    out.write_bytes(body)
    typer.echo(f"catalog: wrote the DCAT-AP catalogue ({len(body)} bytes) to {out}", err=True)
