"""The root `catalog` command and its small groups (db, demo, token, schema, policy); the others have modules."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from catalog.cli.audit import audit_cli
from catalog.cli.bench import bench
from catalog.cli.export import export_cli, export_register
from catalog.cli.help import CatalogTyper
from catalog.cli.ingest import ingest_cli
from catalog.cli.output import write_output
from catalog.cli.policy import policy_cli
from catalog.cli.serve import serve
from catalog.cli.services import open_services
from catalog.errors import CatalogError, ConfigError, InvalidInput

cli = CatalogTyper(
    help="A metadata catalog for public-sector data with policy-as-code access control.",
    pretty_exceptions_enable=False,
)
db_cli = CatalogTyper(help="Prepare and inspect the store.")
token_cli = CatalogTyper(help="Bearer tokens for the API (dev mode, HS256).")
schema_cli = CatalogTyper(help="The GraphQL schema file (schema.graphql).")
cli.command("serve")(serve)
cli.add_typer(db_cli, name="db")
cli.add_typer(token_cli, name="token")
cli.add_typer(schema_cli, name="schema")
cli.add_typer(policy_cli, name="policy")
cli.add_typer(ingest_cli, name="ingest")
cli.add_typer(export_cli, name="export")
export_cli.command("register", short_help="The public register of sharing agreements.")(export_register)
cli.add_typer(audit_cli, name="audit")


@db_cli.command("init")
def db_init() -> None:
    """Create the store's tables, constraints and indexes. Safe to run again."""
    services = open_services()
    services.store.close()
    typer.echo(f"catalog: {services.store.backend} store ready")


@cli.command()
def demo(
    reset: Annotated[bool, typer.Option(help="Delete everything in the store first.")] = False,
) -> None:
    """Load the demo landscape and its history. Five agencies with their people, datasets, lineage and
    agreements, and share requests, verdicts and access decisions made through the same services as the API."""
    from catalog.demo import load_demo

    services = open_services()
    try:
        if reset:
            services.store.clear()
        summary = load_demo(services)
    finally:
        services.store.close()
    if summary == "already loaded":
        typer.echo("catalog: the demo is already loaded; use --reset to load it afresh")
    else:
        typer.echo(f"catalog: demo loaded ({summary}); person 'admin' is a PLATFORM_ADMIN")


def _silence_driver_logs() -> None:
    """Keep driver log records off stderr until `serve` configures logging: the one-line error says it all.

    Without a handler, Python's last-resort handler would print the Neo4j driver's own
    "Unable to retrieve routing information" above our message. Records still propagate to the
    root logger, so once `serve` has configured logging they reach the server log.
    """
    logging.getLogger("neo4j").addHandler(logging.NullHandler())


@token_cli.command("issue")
def token_issue(
    person: Annotated[
        str,
        typer.Option(
            metavar="ID", help="Id of a registered, active person; the catalog's record says their agency and roles."
        ),
    ],
    ttl: Annotated[
        int | None,
        typer.Option(metavar="SECONDS", show_default="CATALOG_AUTH__TOKEN_TTL_S, 3600", help="Lifetime of the token."),
    ] = None,
) -> None:
    """Print a signed token for a registered person. HS256, signed with CATALOG_AUTH__JWT_SECRET."""
    from catalog.api.auth import issue_token
    from catalog.principal import SYSTEM

    if ttl is not None and ttl <= 0:
        raise InvalidInput("--ttl", "must be > 0 seconds")
    services = open_services()
    try:
        services.people.principal(person, option="--person")  # a token for them would be refused
        found = services.reads.person(SYSTEM, person)
    finally:
        services.store.close()
    typer.echo(issue_token(found, services.ctx.settings.auth, ttl))


@schema_cli.command("export")
def schema_export(
    path: Annotated[Path, typer.Option(metavar="FILE", help="Where the SDL goes.")] = Path("schema.graphql"),
    check: Annotated[bool, typer.Option(help="Only compare: exit 1 if the file differs from the live schema.")] = False,
) -> None:
    """Write the live GraphQL schema as SDL. With --check, only compare the file with it."""
    from catalog.api.sdl import schema_sdl

    sdl = schema_sdl()
    if check:
        current = path.read_text() if path.is_file() else ""
        if current != sdl:
            typer.echo(f"catalog: {path} differs from the live schema; run `catalog schema export`", err=True)
            raise typer.Exit(1)
        typer.echo(f"catalog: {path} matches the live schema")
        return
    write_output(path, sdl, "--path")
    typer.echo(f"catalog: wrote {path}")


cli.command("bench")(bench)


def main() -> None:
    """Entry point: run the CLI, turning catalog errors into one clear line and a non-zero exit."""
    _silence_driver_logs()
    try:
        cli()
    except ConfigError as exc:
        typer.echo(f"catalog: configuration error: {exc.message}", err=True)
        sys.exit(2)
    except CatalogError as exc:
        typer.echo(f"catalog: {exc.code.lower()}: {exc.message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
