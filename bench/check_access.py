"""Full checkAccess (graph reads, the decision, and recording it with its audit event) on both backends.

Baseline, measured in the same run: the same graph reads alone in a read transaction, so the table shows what
deciding and recording cost on top of fetching the attributes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.measure import Figure, figure, timed
from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.base import GraphStore

REQUEST = {"dataset_id": "health.admissions-deid", "purpose": "RESEARCH", "access_method": "SECURE_ENCLAVE"}
TARGETS = {"sqlite": "p50 <= 2 ms", "neo4j": "p50 <= 5 ms"}


@contextmanager
def open_backend(backend: str, workdir: Path) -> Iterator[GraphStore]:
    if backend == "sqlite":
        from catalog.store.sqlite import SqliteStore

        store: GraphStore = SqliteStore(workdir / "bench.db")
        try:
            yield store
        finally:
            store.close()
        return
    from catalog.neo4j_embedded import EmbeddedNeo4j
    from catalog.store.neo4j import Neo4jStore

    with EmbeddedNeo4j(workdir / "neo4j") as server:
        store = Neo4jStore(server.uri)
        try:
            yield store
        finally:
            store.close()


def measure(store: GraphStore, backend: str, iterations: int) -> Figure:
    store.init_schema()
    store.clear()
    services = Services(store, load_settings())
    load_demo(services)
    person = services.reads.person(SYSTEM, "uma.uni")
    principal = Principal(person.id, person.agency_id, frozenset(person.roles))
    request = services.access._request(REQUEST)
    assert services.access.check(principal, REQUEST).outcome.value == "PERMIT"

    def reads_only() -> None:
        store.read(lambda tx: services.access.gather(tx, principal, request, services.ctx.clock()))

    base_samples, base_wall = timed(reads_only, iterations=iterations)
    base = figure("graph reads only", backend, base_samples, base_wall)
    samples, wall = timed(lambda: services.access.check(principal, REQUEST), iterations=iterations)
    return figure("checkAccess (decide + record)", backend, samples, wall, baseline="same graph reads only",
                  baseline_p50_ms=base.p50_ms, target=TARGETS[backend])


def run(backends: tuple[str, ...] = ("sqlite", "neo4j"), iterations: int = 500) -> list[Figure]:
    figures = []
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp, open_backend(backend, Path(tmp)) as store:
            figures.append(measure(store, backend, iterations))
    return figures


if __name__ == "__main__":
    from bench.measure import print_table

    print_table(run(), "checkAccess end to end in the service layer")
