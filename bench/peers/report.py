"""The side-by-side view: per row, each engine's p50 and ours over each peer's, as a rich table or Markdown."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bench.measure import Figure
from bench.peers.suite import CEDAR, ENGINES, OPA, OPA_HTTP, OURS

COLUMNS = (
    "row", *(f"{engine} p50 ms" for engine in ENGINES), "ours/cedar", "ours/opa", "ours/opa http",
)


def side_by_side(figures: list[Figure]) -> list[list[str]]:
    """One line per row name, in the order measured."""
    p50: dict[str, dict[str, float | None]] = {}
    for f in figures:
        p50.setdefault(f.name, {})[f.backend] = f.p50_ms
    lines = []
    for name, engines in p50.items():
        ours = engines.get(OURS)
        ratios = [_ratio(ours, engines.get(peer)) for peer in (CEDAR, OPA, OPA_HTTP)]
        lines.append([name, *(_ms(engines.get(engine)) for engine in ENGINES), *ratios])
    return lines


def print_side_by_side(figures: list[Figure], title: str) -> None:
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "row" else "right")
    for line in side_by_side(figures):
        table.add_row(*line)
    Console(width=max(Console().width, 160)).print(table)


def markdown(figures: list[Figure]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(line) + " |" for line in side_by_side(figures)]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _ratio(ours: float | None, peer: float | None) -> str:
    return "" if ours is None or not peer else f"{ours / peer:.2f}"
