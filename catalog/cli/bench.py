"""`catalog bench`: run the benchmark suite and print figures beside same-run baselines."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from catalog.cli.help import choices


class Size(StrEnum):
    T = "T"
    S = "S"
    M = "M"
    L = "L"


class Backend(StrEnum):
    sqlite = "sqlite"
    neo4j = "neo4j"


def bench(
    size: Annotated[
        Size,
        typer.Option(
            metavar=choices(Size),
            help="Landscape size: T (150 datasets, a smoke run whose figures mean nothing), S (1k datasets, "
            "about 80 s for both backends), M (10k) or L (100k datasets and 300k lineage edges; "
            "needs ~6 GB of memory and about 5 minutes on two cores).",
        ),
    ] = Size.S,
    backend: Annotated[
        list[Backend] | None,
        typer.Option(metavar=choices(Backend), show_default="both", help="Backend to run; repeat the option for both."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", show_default="bench/results/SIZE.json", help="Where the JSON goes.")
    ] = None,
) -> None:
    """Benchmark the catalog beside same-run baselines.

    The landscape is a generated government one. The Neo4j runs start their own embedded server. Prints a
    table and writes the figures as JSON.

    HTTP load comes from wrk when it is on PATH, else from an httpx client (its own CPU then bounds the figures).
    """
    from bench.suite import run

    backends = tuple(b.value for b in backend) if backend else ("sqlite", "neo4j")
    run(size.value, backends, out)
