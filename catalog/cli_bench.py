"""`catalog bench`: run the benchmark suite and print figures beside same-run baselines."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Size(StrEnum):
    S = "S"
    M = "M"
    L = "L"


class Backend(StrEnum):
    sqlite = "sqlite"
    neo4j = "neo4j"


def bench(
    size: Annotated[
        Size, typer.Option(help="Landscape size: S (1k datasets, about 2 minutes), M (10k) or L (100k).")
    ] = Size.S,
    backend: Annotated[
        list[Backend] | None, typer.Option(help="Backend(s) to run; repeat for both [default: both].")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where the JSON goes (default: bench/results/SIZE.json).")] = None,
) -> None:
    """Benchmark the catalog on a generated government data landscape (the Neo4j runs start their own server)."""
    from bench.suite import run

    backends = tuple(b.value for b in backend) if backend else ("sqlite", "neo4j")
    run(size.value, backends, out)
