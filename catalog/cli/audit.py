"""`catalog audit ...`: verify, checkpoint and export the tamper-evident audit trail.

verify exits 0 and prints the event count and head hash, or exits 1 naming the first broken sequence number.
With `--export FILE` it checks an export offline, without opening the store.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from catalog.audit.chain import ChainReport, read_lines, verify_chain
from catalog.audit.checkpoint import (
    Checkpoint,
    public_pem,
    read_checkpoint,
    signing_key,
    trusted_key,
    verify_signature,
    write_checkpoint,
)
from catalog.cli.help import CatalogTyper
from catalog.cli.output import output_option, write_output, writing
from catalog.config import Settings, load_settings
from catalog.errors import InvalidInput
from catalog.services.audit_trail import checkpoint_store, export_store, verify_store
from catalog.store import GraphStore, open_store

audit_cli = CatalogTyper(help="Verify, checkpoint and export the tamper-evident audit trail.")

CheckpointOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        metavar="FILE",
        show_default="none: the chain alone is checked",
        help="A signed checkpoint the log must still extend (proves it only grew).",
    ),
]
PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        metavar="FILE",
        show_default="the public half of CATALOG_AUDIT__SIGNING_KEY_FILE",
        help="PEM public key that checks the checkpoint's signature.",
    ),
]


@contextmanager
def _store(settings: Settings) -> Iterator[GraphStore]:
    store = open_store(settings)
    try:
        store.init_schema()
        yield store
    finally:
        store.close()


def _trusted_checkpoint(path: Path | None, public_key: Path | None, settings: Settings) -> Checkpoint | None:
    if path is None:
        if public_key is not None:
            raise InvalidInput("--public-key", "only means something with --checkpoint")
        return None
    checkpoint = read_checkpoint(path)
    verify_signature(checkpoint, trusted_key(public_key, settings.audit.signing_key_file))
    return checkpoint


def _report(report: ChainReport, checkpoint: Checkpoint | None) -> None:
    if report.broken is not None:
        typer.echo(
            f"catalog: audit trail broken at sequence {report.broken.sequence}: {report.broken.problem}", err=True
        )
        raise typer.Exit(1)
    typer.echo(f"audit trail intact: {report.count} events, head {report.head}")
    if checkpoint is not None:
        typer.echo(
            f"extends the checkpoint of {checkpoint.size} events signed at {checkpoint.at} "
            f"by key {checkpoint.key_id}: the log only grew since"
        )


@audit_cli.command("verify")
def verify(
    checkpoint: CheckpointOption = None,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            metavar="FILE",
            show_default="the store (CATALOG_STORE)",
            help="Verify this export file offline instead of the store.",
        ),
    ] = None,
    public_key: PublicKeyOption = None,
) -> None:
    """Recompute the hash chain. Exit 0 with the count and head hash, or 1 naming the first broken event."""
    settings = load_settings()
    trusted = _trusted_checkpoint(checkpoint, public_key, settings)
    expected = trusted.expected() if trusted else None
    if export is not None:
        report = verify_chain(read_lines(export), expected=expected)
    else:
        with _store(settings) as store:
            report = verify_store(store, expected)
    _report(report, trusted)


@audit_cli.command("checkpoint")
def checkpoint(
    out: Annotated[Path, typer.Option(metavar="FILE", help="Where the signed checkpoint (JSON) goes.")] = Path(
        "audit-checkpoint.json"
    ),
) -> None:
    """Verify the chain and sign its head. Signs size and head hash with the Ed25519 key (made on first use)."""
    settings = load_settings()
    key = signing_key(settings.audit.signing_key_file)
    with _store(settings) as store:
        signed = checkpoint_store(store, key)
    with writing(out):
        write_checkpoint(signed, out)
    typer.echo(f"checkpoint of {signed.size} events, head {signed.head}, signed by key {signed.key_id}: {out}")


@audit_cli.command("export")
def export(
    out: Annotated[Path | None, output_option("Where the JSON Lines go.")] = None,
) -> None:
    """Export every event as JSON Lines. Each carries its chain hashes; `verify --export` checks the file offline."""
    settings = load_settings()
    with _store(settings) as store:
        if out is None:
            count = export_store(store, sys.stdout)
        else:
            with writing(out), out.open("w", encoding="utf-8") as handle:
                count = export_store(store, handle)
    typer.echo(f"catalog: exported {count} audit events{f' to {out}' if out else ''}", err=True)


@audit_cli.command("public-key")
def public_key(
    out: Annotated[Path | None, output_option("Where the PEM goes.")] = None,
) -> None:
    """Print the checkpoint signing key's public half. Verifiers keep it; the key is created if needed."""
    pem = public_pem(signing_key(load_settings().audit.signing_key_file).public_key())
    if out is None:
        typer.echo(pem, nl=False)
        return
    write_output(out, pem)
    typer.echo(f"catalog: public key written to {out}", err=True)
