"""Impact analysis at depth 10 from a hub dataset: GraphQL end to end against the bare store query.

On a generated landscape (bench/landscape.py: S, M or L), for each backend:
- the bare query: the very Cypher (Neo4j) or SQL (SQLite) the store's `impact` runs, sent straight through the
  driver (the baseline);
- `impact(datasetId, depth: 10)` through GraphQL over real HTTP: `catalog`'s app served by uvicorn in this
  process, an auditor's token, httpx with keep-alive. This includes auth, the service's visibility checks,
  graphene and JSON.

Both are timed in the same run, alternating, after a warm-up. Targets (issue 6), for L on Neo4j:
p50 <= 50 ms through GraphQL, and GraphQL <= 1.5x the bare query.

    python -m bench.lineage_impact --size M --backend sqlite --backend neo4j
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench.landscape import Landscape, generate, load
from bench.measure import Figure, figure, print_table, timed, write_json
from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.config import load_settings
from catalog.domain import Person, Role
from catalog.services import Services
from catalog.store.base import GraphStore

DEPTH = 10
# What an auditor asks: everything reached, by depth, and every agreement with its recipient.
QUERY = """query Impact($id: ID!, $depth: Int!) {
  impact(datasetId: $id, depth: $depth) {
    datasetCount levels { depth datasetIds } agreements { id status recipientAgencyId } recipientAgencyIds
  }
}"""
# The same with one object per dataset: graphql-core's per-field cost shows (about 10 us a field here).
OBJECTS_QUERY = QUERY.replace("levels { depth datasetIds }", "datasets { id depth }")
AUDITOR = Person(id="bench.auditor", name="Bench Auditor", agency_id="agency-000", roles=[Role.AUDITOR])


@contextmanager
def open_backend(name: str, folder: Path) -> Iterator[GraphStore]:
    if name == "sqlite":
        from catalog.store.sqlite import SqliteStore

        sqlite = SqliteStore(folder / "bench.db")
        sqlite.init_schema()
        try:
            yield sqlite
        finally:
            sqlite.close()
        return
    from catalog.neo4j_embedded import EmbeddedNeo4j
    from catalog.store.neo4j import Neo4jStore

    server = EmbeddedNeo4j(folder / "neo4j", java_opts=["-Xms1g", "-Xmx4g", "-XX:+UseG1GC"])
    server.start()
    neo4j = Neo4jStore(server.uri)
    try:
        neo4j.init_schema()
        yield neo4j
    finally:
        neo4j.close()
        server.stop()


def bare_query(store: GraphStore, hub: str, depth: int = DEPTH) -> Callable[[], Any]:
    """The store's own impact query text, run straight through the driver (no service, no GraphQL)."""
    if store.backend == "neo4j":
        from catalog.store.neo4j import Neo4jStore, _impact_query

        assert isinstance(store, Neo4jStore)
        cypher = _impact_query(depth)
        session = store._driver.session(database=store._database)

        def run_cypher() -> Any:
            return session.execute_read(lambda tx: list(tx.run(cypher, start=hub)))

        return run_cypher
    from catalog.store.sqlite import SqliteStore

    assert isinstance(store, SqliteStore)
    # The SQL the backend sends, captured once from a real call: the baseline cannot drift from the store.
    captured: list[tuple[str, Any]] = []
    conn = store._connection()
    conn.set_trace_callback(lambda sql: captured.append((sql, None)))
    store.read(lambda tx: tx.impact(hub, depth))
    conn.set_trace_callback(None)
    statement = next(sql for sql, _ in captured if "WITH RECURSIVE" in sql)

    def run_sql() -> Any:
        return conn.execute(statement).fetchall()

    return run_sql


@contextmanager
def serving(services: Services) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # lifespan off: the app would close the store on shutdown, and the caller still owns (and reuses) it.
    config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def measure(backend: str, land: Landscape, size: str, iterations: int) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp, open_backend(backend, Path(tmp)) as store:
        started = time.perf_counter()
        load(store, land)
        load_s = time.perf_counter() - started
        return measure_on(store, land, size, iterations, load_s=load_s)


def measure_on(
    store: GraphStore, land: Landscape, size: str, iterations: int, *, depth: int = DEPTH, load_s: float | None = None
) -> list[Figure]:
    """The measurements on a store that already holds `land`."""
    backend = store.backend
    settings = load_settings(store="sqlite:///unused.db", policy_reload_interval_s=0)
    services = Services(store, settings)
    hub = land.hubs[0]
    reached = services.store.read(lambda tx: tx.impact(hub, depth))
    bare = bare_query(store, hub, depth)
    token = issue_token(AUDITOR, settings.auth, 3600)
    with serving(services) as url, httpx.Client(base_url=url, timeout=60) as client:
        headers = {"Authorization": f"Bearer {token}"}

        def graphql(query: str) -> Callable[[], None]:
            def run() -> None:
                variables = {"id": hub, "depth": depth}
                body = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()
                assert "errors" not in body, body["errors"]
                assert body["data"]["impact"]["datasetCount"] == len(reached.datasets) - 1

            return run

        samples = interleaved({"bare": bare, "levels": graphql(QUERY), "objects": graphql(OBJECTS_QUERY)}, iterations)
    notes = {
        "size": size,
        "load_s": round(load_s, 1) if load_s is not None else None,
        "hub": hub,
        "reached_datasets": len(reached.datasets) - 1,
        "agreements": len(reached.agreements),
        "landscape": land.summary(),
    }
    base_name = "bare Cypher" if backend == "neo4j" else "bare SQL"
    base = figure(f"{base_name}, impact depth {depth}", backend, *samples["bare"], notes=notes)
    figures = [base]
    for key, label, target in (
        ("levels", "GraphQL impact (levels)", "p50 <= 50 ms (Neo4j, L); <= 1.5x bare"),
        ("objects", "GraphQL impact (dataset objects)", None),
    ):
        figures.append(
            figure(
                f"{label}, depth {depth}",
                backend,
                *samples[key],
                baseline=base_name,
                baseline_p50_ms=base.p50_ms,
                target=target,
                notes=notes,
            )
        )
    return figures


def interleaved(
    runs: dict[str, Callable[[], Any]], iterations: int, rounds: int = 5
) -> dict[str, tuple[list[float], float]]:
    """Time each run in alternating rounds, so all see the same machine state (caches, other load)."""
    results: dict[str, tuple[list[float], float]] = {name: ([], 0.0) for name in runs}
    for round_ in range(rounds):
        for name, run in runs.items():
            samples, wall = timed(run, iterations=max(1, iterations // rounds), warmup=5 if round_ == 0 else 1)
            kept, total = results[name]
            results[name] = (kept + samples, total + wall)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M", choices=["S", "M", "L"])
    parser.add_argument("--backend", action="append", choices=["sqlite", "neo4j"])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    started = time.perf_counter()
    land = generate(args.size, args.seed)
    print(f"landscape {args.size} (seed {args.seed}) in {time.perf_counter() - started:.1f} s: {land.summary()}")
    figures: list[Figure] = []
    for backend in args.backend or ["sqlite", "neo4j"]:
        figures += measure(backend, land, args.size, args.iterations)
        print(json.dumps(figures[-1].notes))
    print_table(figures, f"Impact analysis from a hub dataset, depth {DEPTH}, size {args.size}")
    if args.json:
        write_json(figures, args.json, args.size)


if __name__ == "__main__":
    main()
