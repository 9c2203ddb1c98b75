"""`catalog export register`: the public register of sharing agreements in one jurisdiction's column set.

It lists what an anonymous reader may see, as GET /register.csv and /register.json do (see
`catalog.services.register`), read in-process from CATALOG_STORE.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from catalog.cli.help import choices
from catalog.cli.services import open_services
from catalog.services.register import SCHEMES


class RegisterScheme(StrEnum):
    uk_dea = "uk-dea"
    ie_dsga = "ie-dsga"
    au_dat = "au-dat"


class RegisterOutput(StrEnum):
    csv = "csv"
    json = "json"


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
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", show_default="standard output", help="Where the register goes.")
    ] = None,
    output: Annotated[
        RegisterOutput, typer.Option("--as", metavar=choices(RegisterOutput), help="CSV with a header row, or JSON.")
    ] = RegisterOutput.csv,
) -> None:
    """Write the public register of sharing agreements: only what anonymous readers may see."""

    services = open_services()
    try:
        table = services.register.table(format.value)
    finally:
        services.store.close()
    body = table.render(output.value)
    if out is None:
        sys.stdout.write(body)
        sys.stdout.flush()
        return
    out.write_text(body, encoding="utf-8")
    typer.echo(f"catalog: wrote the {format.value} register ({len(table.rows)} agreements) to {out}", err=True)
