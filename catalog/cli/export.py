"""`catalog export dcat|register`: the catalog in open standards, as anonymous readers see it.

`dcat` writes the DCAT-AP 3 catalogue (catalog/publish/dcat_ap.py), as GET /dcat/catalog.ttl and .jsonld serve
it. `register` writes the public register of sharing agreements in one jurisdiction's column set, as GET
/register.csv and /register.json do (see `catalog.services.register`). Both read in-process from CATALOG_STORE.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from catalog.cli.help import CatalogTyper, choices
from catalog.cli.output import output_option, write_output
from catalog.cli.services import open_services
from catalog.services.register import OUTPUTS, SCHEMES, Output

export_cli = CatalogTyper(help="Publish the catalog in open standards.")


class RegisterScheme(StrEnum):
    uk_dea = "uk-dea"
    ie_dsga = "ie-dsga"
    au_dat = "au-dat"


assert {scheme.value for scheme in RegisterScheme} == set(SCHEMES), "the CLI's schemes must be the register's"


def export_register(
    format: Annotated[
        RegisterScheme,
        typer.Option(
            metavar=choices(RegisterScheme),
            help="The scheme whose columns the register takes: the UK Digital Economy Act 2017 register, "
            "Ireland's Data Sharing and Governance Act 2019 or Australia's Data Availability and Transparency "
            "Act 2022.",
        ),
    ],
    out: Annotated[Path | None, output_option("Where the register goes.")] = None,
    output: Annotated[
        Output, typer.Option("--as", metavar=choices(OUTPUTS), help="CSV with a header row, or JSON.")
    ] = "csv",
) -> None:
    """Write the public register of sharing agreements: only what anonymous readers may see."""

    services = open_services()
    try:
        table = services.register.table(format.value)
    finally:
        services.store.close()
    body = table.render(output)
    if out is None:
        sys.stdout.write(body)
        sys.stdout.flush()
        return
    write_output(out, body)
    typer.echo(f"catalog: wrote the {format.value} register ({len(table.rows)} agreements) to {out}", err=True)


class DcatFormat(StrEnum):
    ttl = "ttl"
    jsonld = "jsonld"


@export_cli.command("dcat", short_help="The catalog as DCAT-AP 3, as anonymous readers see it.")
def export_dcat(
    format: Annotated[
        DcatFormat, typer.Option(metavar=choices(DcatFormat), help="Turtle or JSON-LD.")
    ] = DcatFormat.ttl,
    out: Annotated[Path | None, output_option("Where the catalogue goes.")] = None,
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
    from catalog.publish.dcat_ap import CatalogDescription, catalog_graph, serialize

    services = open_services()
    settings = services.ctx.settings
    try:
        graph = catalog_graph(services, CatalogDescription(base_url or settings.own_url()))
    finally:
        services.store.close()
    body = serialize(graph, format.value)
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    write_output(out, body)
    typer.echo(f"catalog: wrote the DCAT-AP catalogue ({len(body)} bytes) to {out}", err=True)
