"""Write throughput with 1, 2 and 3 replicas of `catalog serve` on one Neo4j, measured in one run.

Every write appends to the one audit chain: the sequence counter is taken first in each transaction and held
until commit, so commits are serialized however many servers send them. This measures what that costs: the
demo landscape on an embedded Neo4j, then for each replica count, that many `catalog serve` processes on it,
each driven at once by its own load generator with `checkAccess` (each one a recorded decision and its audit
event) for the same time. The baseline, in the same run: audit events appended straight through the store from
1 and 3 threads (no HTTP, no policy): the most the chain head lets through. Prints a table and writes JSON
(`bench/results/replicas.json`, or `--out FILE`).

    python -m bench.replicas [--duration 10] [--connections 4] [--out FILE]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console

from bench.backends import open_backend, store_url
from bench.http_api import HttpLoad, serve_catalog, timed_load_options
from bench.load import HttpRequest, LoadResult, wrk_available
from bench.measure import Figure, figure, publish
from catalog.api.auth import issue_token
from catalog.audit.append import SEQUENCE, append_event
from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.domain import utcnow
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.base import GraphStore

REPLICA_COUNTS = (1, 2, 3)
CHECK = (
    "mutation C($d: ID!, $m: AccessMethod!) { checkAccess(input: {datasetId: $d, purpose: \"RESEARCH\", "
    "accessMethod: $m}) { id outcome } }"
)
# An analyst asking about datasets the demo shares with their agency, and some it does not: permits and denies.
ASKED = [("health.admissions-deid", "SECURE_ENCLAVE"), ("health.admissions-deid", "DOWNLOAD"),
         ("stats.population-estimates", "API"), ("stats.population-estimates", "DOWNLOAD")]


def rotation() -> list[HttpRequest]:
    return [HttpRequest("POST", "/graphql", {"query": CHECK, "variables": {"d": d, "m": m}}) for d, m in ASKED]


def combined(count: int, results: list[LoadResult], events: int, bare: Figure) -> Figure:
    """One figure for `count` replicas driven at once: their throughputs added, their latencies side by side,
    beside the bare append's."""
    return Figure(
        name=f"checkAccess writes, {count} replica{'s' if count > 1 else ''}",
        backend="neo4j",
        p50_ms=statistics.mean(r.p50_ms for r in results),
        p95_ms=max(r.p95_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        per_s=sum(r.per_s for r in results),
        samples=sum(r.requests for r in results),
        baseline=bare.name,
        baseline_p50_ms=bare.p50_ms,
        notes={
            "replicas": count,
            "per_replica_per_s": [round(r.per_s, 1) for r in results],
            "connections_per_replica": results[0].notes.get("connections"),
            "load_generator": results[0].tool,
            "audit_events_appended": events,
        },
    )


def bare_appends(store: GraphStore, threads: int, duration_s: float) -> Figure:
    """Audit events appended through the store alone by `threads` threads for `duration_s`: the chain's ceiling."""

    def append() -> list[float]:
        samples, deadline = [], time.monotonic() + duration_s
        while time.monotonic() < deadline:
            started = time.perf_counter()
            store.write(lambda tx: append_event(tx, principal=SYSTEM, action="bench_append", target_ids=[],
                                                change={}, at=utcnow()))
            samples.append(time.perf_counter() - started)
        return samples

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        samples = [s for batch in pool.map(lambda _: append(), range(threads)) for s in batch]
    return figure(f"bare audit append, {threads} thread{'s' if threads > 1 else ''}", "neo4j", samples,
                  time.perf_counter() - started, notes={"threads": threads})


def measure(duration_s: float, connections: int, console: Console) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp, open_backend("neo4j", Path(tmp)) as store:
        settings = load_settings(store=store_url(store), policy_reload_interval_s=0)
        services = Services(store, settings)
        console.print(f"demo: {load_demo(services)}")
        token = issue_token(services.reads.person(SYSTEM, "uma.uni"), settings.auth, 3600)
        figures += [bare_appends(store, threads, duration_s) for threads in (1, 3)]
        load = HttpLoad(duration_s=duration_s, requests=int(200 * duration_s), connections=connections)
        for count in REPLICA_COUNTS:
            with ExitStack() as servers:
                urls = []
                for n in range(count):
                    folder = Path(tmp) / f"{count}-replicas-{n}"
                    folder.mkdir()
                    urls.append(servers.enter_context(serve_catalog(store_url(store), folder)).url)
                before = store.read(lambda tx: tx.current_sequence(SEQUENCE)) or 0
                with ThreadPoolExecutor(count) as pool:
                    results = list(pool.map(lambda url: load.drive(url, rotation(), token), urls))
                after = store.read(lambda tx: tx.current_sequence(SEQUENCE)) or 0
            figures.append(combined(count, results, after - before, figures[0]))
            console.print(f"{count} replica(s): {figures[-1].per_s:,.0f} writes/s")
    return figures


def main() -> None:
    parser = timed_load_options(__doc__, "replicas", 10.0, "seconds each replica count is driven",
                                "keep-alive connections per replica")
    args = parser.parse_args()
    console = Console()
    figures = measure(args.duration, args.connections, console)
    publish(figures, "Write throughput by replica count (one Neo4j, one audit chain)", args.out, "replicas", {
        "store": "embedded Neo4j 5.26 Community, one instance",
        "server": "catalog serve, one uvicorn worker per replica",
        "load": f"wrk per replica, {args.connections} connections, {args.duration:.0f} s"
        if wrk_available() else f"httpx per replica, {args.connections} connections",
    }, console)


if __name__ == "__main__":
    main()
