"""The stores benchmarks run on: an empty SQLite file, or an embedded Neo4j sized for the landscape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.landscape import Landscape, load
from catalog.api.auth import issue_token
from catalog.config import Settings
from catalog.domain import Person
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.neo4j import Neo4jStore
from catalog.store.sqlite import SqliteStore

BACKENDS = ("sqlite", "neo4j")

# Heap and Neo4j memory per landscape size; the page cache holds the whole L store so reads never go to disk.
NEO4J_MEMORY: dict[str, tuple[str, ...]] = {
    "T": ("-Xms256m", "-Xmx1g", "-Dcatalog.pagecache.mb=128", "-Dcatalog.tx.mb=128"),
    "S": ("-Xms512m", "-Xmx2g", "-Dcatalog.pagecache.mb=512", "-Dcatalog.tx.mb=256"),
    "M": ("-Xms1g", "-Xmx2g", "-Dcatalog.pagecache.mb=512", "-Dcatalog.tx.mb=512"),
    "L": ("-Xms2g", "-Xmx4g", "-Dcatalog.pagecache.mb=2048", "-Dcatalog.tx.mb=1024"),
}


def token_for(store: GraphStore, person: Person, settings: Settings) -> str:
    """A bearer token for `person`, registered first if need be: a token only names a person the catalog knows."""
    services = Services(store, settings)
    if not services.reads.persons_by_ids(SYSTEM, [person.id]):
        services.registration.register_person(SYSTEM, person.model_dump())
    return issue_token(person, settings.auth, 3600)


def neo4j_java_opts(size: str) -> list[str]:
    """The embedded Neo4j's JVM options for a landscape size: its defaults with heap and memory resized."""
    from catalog_devtools.neo4j_embedded import DEFAULT_JAVA_OPTS

    kept = [opt for opt in DEFAULT_JAVA_OPTS if not opt.startswith(("-Xms", "-Xmx"))]
    return [*kept, *NEO4J_MEMORY[size], "-XX:+UseG1GC"]


@contextmanager
def open_backend(name: str, folder: Path, size: str = "S") -> Iterator[GraphStore]:
    """An empty store with its schema; for Neo4j, an embedded server sized for a landscape of `size`."""
    if name == "sqlite":
        sqlite = SqliteStore(folder / "bench.db")
        sqlite.init_schema()
        try:
            yield sqlite
        finally:
            sqlite.close()
        return
    assert name == "neo4j", name
    from catalog_devtools.neo4j_embedded import EmbeddedNeo4j

    server = EmbeddedNeo4j(folder / "neo4j", java_opts=neo4j_java_opts(size))
    server.start()
    neo4j = Neo4jStore(server.uri)
    try:
        neo4j.init_schema()
        yield neo4j
    finally:
        neo4j.close()
        server.stop()


@contextmanager
def loaded(backend: str, land: Landscape, size: str, folder: Path, *, progress: bool = True
           ) -> Iterator[tuple[GraphStore, float]]:
    """A store of `backend` holding `land`, and how many seconds the bulk load took."""
    with open_backend(backend, folder, size) as store:
        started = time.perf_counter()
        load(store, land, progress=progress)
        yield store, time.perf_counter() - started


def store_url(store: GraphStore) -> str:
    """The CATALOG_STORE value that opens `store` from another process."""
    if isinstance(store, SqliteStore):
        return f"sqlite:///{Path(store.path).resolve()}"
    assert isinstance(store, Neo4jStore)
    return store.uri
