"""`catalog ...`: the command line. Errors print one line naming the setting or input, never a traceback."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from catalog.cli_audit import audit_cli
from catalog.cli_bench import bench
from catalog.cli_export import export_register
from catalog.cli_help import CatalogTyper
from catalog.cli_ingest import export_cli, ingest_cli
from catalog.cli_lineage import ingest_openlineage
from catalog.cli_serve import serve
from catalog.config import Settings, load_settings
from catalog.errors import CatalogError, ConfigError, InvalidInput
from catalog.services import Services
from catalog.store import open_store

cli = CatalogTyper(
    help="A metadata catalog for public-sector data with policy-as-code access control.",
    pretty_exceptions_enable=False,
)
db_cli = CatalogTyper(help="Prepare and inspect the store.")
token_cli = CatalogTyper(help="Bearer tokens for the API (dev mode, HS256).")
schema_cli = CatalogTyper(help="The GraphQL schema file (schema.graphql).")
policy_cli = CatalogTyper(help="Check, test and try out the policy in CATALOG_POLICY_DIR.")
cli.command("serve")(serve)
cli.add_typer(db_cli, name="db")
cli.add_typer(token_cli, name="token")
cli.add_typer(schema_cli, name="schema")
cli.add_typer(policy_cli, name="policy")
cli.add_typer(ingest_cli, name="ingest")
ingest_cli.command("openlineage")(ingest_openlineage)
cli.add_typer(export_cli, name="export")
export_cli.command("register", short_help="The public register of sharing agreements.")(export_register)
cli.add_typer(audit_cli, name="audit")
PolicyDir = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        metavar="DIR",
        show_default="CATALOG_POLICY_DIR, else the policies/ folder of this checkout",
        help="Policy folder: model.conf, rules/*.yaml and tests/*.yaml.",
    ),
]


def open_services(settings: Settings | None = None) -> Services:
    """Settings from the environment, the store they name, its schema ensured, and the services over it."""
    settings = settings or load_settings()
    store = open_store(settings)
    try:
        store.init_schema()
        return Services(store, settings)
    except CatalogError:
        store.close()
        raise


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
        services.people.principal(person)  # a token for someone the catalog does not know would be refused
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
        current = path.read_text() if path.exists() else ""
        if current != sdl:
            typer.echo(f"catalog: {path} differs from the live schema; run `catalog schema export`", err=True)
            raise typer.Exit(1)
        typer.echo(f"catalog: {path} matches the live schema")
        return
    path.write_text(sdl)
    typer.echo(f"catalog: wrote {path}")


@policy_cli.command("check")
def policy_check(policy_dir: PolicyDir = None) -> None:
    """Validate the policy files. Checks model.conf, every rule (ids, actions, attributes, expressions) and
    vocabulary.yaml (every configured purpose, classification and legal basis mapped to its DPV IRI)."""
    from catalog.policy.engine import PolicyEngine
    from catalog.policy.rules import unworded
    from catalog.policy.vocabulary import load_vocabulary

    settings = load_settings()
    folder = policy_dir or settings.policy_dir
    engine = PolicyEngine(folder)
    load_vocabulary(folder, settings.purposes, settings.classifications)
    for warning in unworded(engine.policy.rules):
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"policy OK: version {engine.version}, {len(engine.policy.rules)} rules")


@policy_cli.command("test")
def policy_test(policy_dir: PolicyDir = None) -> None:
    """Run the policy's own test cases. They are tests/*.yaml in the policy folder."""
    from catalog.policy.engine import PolicyEngine
    from catalog.policy.testing import run_policy_tests

    folder = policy_dir or load_settings().policy_dir
    results = run_policy_tests(PolicyEngine(folder), folder / "tests")
    failed = [r for r in results if not r.passed]
    for result in failed:
        typer.echo(f"FAIL {result.file}: {result.name}", err=True)
        for problem in result.problems:
            typer.echo(f"     {problem}", err=True)
    typer.echo(f"policy tests: {len(results) - len(failed)} passed, {len(failed)} failed")
    if failed or not results:
        raise typer.Exit(1)


@policy_cli.command("explain")
def policy_explain(
    person: Annotated[str, typer.Option("--as", metavar="PERSON", help="Id of the person asking.")],
    dataset: Annotated[str, typer.Option(metavar="ID", help="Dataset id.")],
    purpose: Annotated[
        str | None, typer.Option(metavar="PURPOSE", show_default="none stated", help="Stated purpose, e.g. RESEARCH.")
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(metavar="METHOD", show_default="none stated", help="Access method, e.g. SECURE_ENCLAVE."),
    ] = None,
    fields: Annotated[
        str | None, typer.Option(metavar="NAMES", show_default="none named", help="Comma-separated field names.")
    ] = None,
    action: Annotated[
        str, typer.Option(metavar="[access|read_metadata]", help="What the person asks to do.")
    ] = "access",
) -> None:
    """Decide a hypothetical request and say why. It reads the store's data and records nothing."""

    services = open_services()
    try:
        principal = services.people.principal(person)  # as the catalog records them; refused if deactivated
        payload = {
            "dataset_id": dataset,
            "action": action,
            "purpose": purpose,
            "access_method": method,
            "fields": [f.strip() for f in fields.split(",") if f.strip()] if fields else [],
        }
        decision = services.access.explain(principal, payload)
    finally:
        services.store.close()
    typer.echo(
        f"{decision.outcome.value}{' (' + decision.deny_kind.value + ')' if decision.deny_kind else ''}"
        f" under policy {decision.policy_version}"
    )
    typer.echo(decision.reason)
    if decision.remedies:
        typer.echo("What would have to change (any one of these):")
        for remedy in decision.remedies:
            typer.echo(f"  - {remedy.text}")
    typer.echo("The Five Safes:")
    for safe in decision.safes:
        typer.echo(f"  {safe.safe:<14} {safe.status.value}")
        for line in safe.evidence:
            typer.echo(f"      {line}")


@policy_cli.command("diff")
def policy_diff(
    old: Annotated[str, typer.Argument(help="A policy version a decision was made under (as decisions name it).")],
    new: Annotated[
        str, typer.Argument(help="Another version, or `current` for the policy files now.")
    ] = "current",
) -> None:
    """Show what changed between two policy versions. Rules added, removed and changed, from the store."""
    from catalog.policy.diff import diff_policies

    services = open_services()
    try:
        before = services.decisions.policy_at(None if old == "current" else old)
        after = services.decisions.policy_at(None if new == "current" else new)
    finally:
        services.store.close()
    changes = diff_policies(before, after)
    typer.echo(f"policy {before.version} -> {after.version}: {len(changes)} change(s)")
    for line in changes:
        typer.echo(line)


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
