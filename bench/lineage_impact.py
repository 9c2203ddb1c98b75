"""`lineage` and `impact` at depths 3 and 10: GraphQL over HTTP against the bare store query.

On a generated landscape (bench/landscape.py: S, M or L), for each backend and depth:
- the bare query: the very Cypher (Neo4j) or SQL (SQLite) the store runs for that traversal, sent straight
  through the driver in this process (the baseline);
- the same traversal through GraphQL over real HTTP: `catalog serve` in its own process, an auditor's token, one
  connection, so each request runs alone. This includes auth, the service's visibility checks, graphene and JSON.

`impact` starts from a hub dataset (1,000 children on M and L); `lineage` (both directions) from the head of a
40-step derivation chain. Targets (issue 6), for `impact` at depth 10 on L on Neo4j: p50 <= 50 ms through
GraphQL, and GraphQL <= 1.5x the bare query.

    python -m bench.lineage_impact --size M --backend sqlite --backend neo4j
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.backends import BACKENDS, loaded, store_url, token_for
from bench.http_api import HttpLoad, serve_catalog
from bench.landscape import Landscape, generate
from bench.load import HttpRequest
from bench.measure import Figure, figure, print_table, timed, write_json
from catalog.config import load_settings
from catalog.domain import Person, Role
from catalog.store.base import GraphStore, GraphTx

DEPTHS = (3, 10)
# What an auditor asks: everything reached, by depth, and every agreement with its recipient.
IMPACT_QUERY = """query Impact($id: ID!, $depth: Int!) {
  impact(datasetId: $id, depth: $depth) {
    datasetCount levels { depth datasetIds } agreements { id status recipientAgencyId } recipientAgencyIds
  }
}"""
LINEAGE_QUERY = """query Lineage($id: ID!, $depth: Int!) {
  lineage(datasetId: $id, direction: BOTH, depth: $depth) {
    root nodes { id kind depth redacted } edges { type source target }
  }
}"""
AUDITOR = Person(id="bench.auditor", name="Bench Auditor", agency_id="agency-000", roles=[Role.AUDITOR])
IMPACT_TARGET = "p50 <= 50 ms (impact, depth 10, Neo4j, L); <= 1.5x bare"


@dataclass(frozen=True)
class Traversal:
    """One traversal measured both ways: how the store runs it, and how a client asks for it."""

    kind: str  # "impact" or "lineage"
    start: str
    depth: int

    @property
    def query(self) -> str:
        return IMPACT_QUERY if self.kind == "impact" else LINEAGE_QUERY

    def run_in(self, tx: GraphTx) -> Any:
        if self.kind == "impact":
            return tx.impact(self.start, self.depth)
        return tx.lineage(self.start, "BOTH", self.depth)

    def neo4j_query(self) -> tuple[str, dict[str, Any]]:
        from catalog.store.neo4j.lineage import _impact_query, _lineage_query

        if self.kind == "impact":
            return _impact_query(self.depth), {"start": self.start}
        return _lineage_query("BOTH", self.depth), {"start": self.start, "depth": self.depth}

    def reached(self, store: GraphStore) -> int:
        """How many nodes the GraphQL answer must hold: datasets reached (impact), or datasets and processes."""
        found = store.read(self.run_in)
        if self.kind == "impact":
            return len(found.datasets) - 1
        return len(found.datasets) + len(found.processes)

    def counted(self, answer: dict[str, Any]) -> int:
        data = answer["data"][self.kind]
        return int(data["datasetCount"]) if self.kind == "impact" else len(data["nodes"])


def traversals(land: Landscape) -> list[Traversal]:
    return [Traversal(kind, start, depth) for kind, start in (("lineage", land.chain_heads[0]),
                                                               ("impact", land.hubs[0])) for depth in DEPTHS]


def bare_query(store: GraphStore, traversal: Traversal) -> Callable[[], Any]:
    """The store's own query text for `traversal`, run straight through the driver (no service, no GraphQL)."""
    if store.backend == "neo4j":
        from catalog.store.neo4j import Neo4jStore

        assert isinstance(store, Neo4jStore)
        cypher, params = traversal.neo4j_query()
        session = store._driver.session(database=store._database)

        def run_cypher() -> Any:
            return session.execute_read(lambda tx: list(tx.run(cypher, **params)))

        return run_cypher
    from catalog.store.sqlite import SqliteStore

    assert isinstance(store, SqliteStore)
    # The statements the backend sends, captured from a real call: the baseline cannot drift from the store.
    captured: list[str] = []
    conn = store._connection()
    conn.set_trace_callback(captured.append)
    try:
        store.read(traversal.run_in)
    finally:
        conn.set_trace_callback(None)
    statements = [sql for sql in captured if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert statements, f"no query captured for {traversal}"

    def run_sql() -> Any:
        return [conn.execute(sql).fetchall() for sql in statements]

    return run_sql


def measure_traversals(store: GraphStore, url: str, land: Landscape, iterations: int, load: HttpLoad) -> list[Figure]:
    """Every traversal at every depth: the bare query `iterations` times in this process, then GraphQL driven by
    `load` (one connection, so each request runs alone) against the server at `url`."""
    settings = load_settings(store=store_url(store), policy_reload_interval_s=0)
    token = token_for(store, AUDITOR, settings)
    headers = {"Authorization": f"Bearer {token}"}
    backend, base_name = store.backend, "bare Cypher" if store.backend == "neo4j" else "bare SQL"
    figures = []
    for traversal in traversals(land):
        expected = traversal.reached(store)
        request = HttpRequest("POST", "/graphql", {"query": traversal.query,
                                                   "variables": {"id": traversal.start, "depth": traversal.depth}})
        answer = httpx.post(f"{url}/graphql", json=request.body, headers=headers, timeout=120).json()
        assert "errors" not in answer and traversal.counted(answer) == expected, answer.get("errors", answer)
        base_samples, base_wall = timed(bare_query(store, traversal), iterations=iterations)
        notes = {"start": traversal.start, "reached": expected, "landscape": land.summary()}
        base = figure(f"{base_name}, {traversal.kind} depth {traversal.depth}", backend, base_samples, base_wall,
                      notes=notes)
        ours = load.drive(url, [request], token, connections=1)
        figures += [base, ours.figure(f"GraphQL {traversal.kind}, depth {traversal.depth}", backend,
                                      baseline=base_name, baseline_p50_ms=base.p50_ms,
                                      target=IMPACT_TARGET if traversal.kind == "impact" else None, notes=notes)]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M", choices=["S", "M", "L"])
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument("--iterations", type=int, default=200, help="Bare-query runs per figure.")
    parser.add_argument("--seconds", type=float, default=10.0, help="How long each GraphQL figure is driven.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    started = time.perf_counter()
    land = generate(args.size, args.seed)
    print(f"landscape {args.size} (seed {args.seed}) in {time.perf_counter() - started:.1f} s: {land.summary()}")
    figures: list[Figure] = []
    for backend in args.backend or BACKENDS:
        with tempfile.TemporaryDirectory() as tmp, loaded(backend, land, args.size, Path(tmp)) as (store, _), \
                serve_catalog(store_url(store), Path(tmp)) as served:
            load = HttpLoad(duration_s=args.seconds, requests=args.iterations, connections=1)
            figures += measure_traversals(store, served.url, land, args.iterations, load)
    print_table(figures, f"lineage and impact, size {args.size}")
    if args.json:
        write_json(figures, args.json, args.size)


if __name__ == "__main__":
    main()
