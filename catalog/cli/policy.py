"""`catalog policy check|test|explain|diff`: the policy as code, checked, tested and tried out from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from catalog.cli.help import CatalogTyper
from catalog.cli.services import open_services
from catalog.config import load_settings

policy_cli = CatalogTyper(help="Check, test and try out the policy in CATALOG_POLICY_DIR.")

PolicyDir = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        metavar="DIR",
        show_default="CATALOG_POLICY_DIR, else the policies/ folder of this checkout",
        help="Policy folder: model.conf, rules/*.yaml and tests/*.yaml.",
    ),
]


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
        principal = services.people.principal(person, option="--as")  # as recorded; refused if deactivated
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
