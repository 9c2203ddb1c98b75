"""Graph stores: one interface, two backends, chosen by the CATALOG_STORE setting."""

from __future__ import annotations

from pathlib import Path

from catalog.config import Settings
from catalog.errors import ConfigError
from catalog.store.base import Causality, GraphStore, GraphTx, Props, causal, current_causality
from catalog.store.deadline import Deadline, current_deadline, deadline
from catalog.store.schema import Label, Rel

__all__ = [
    "Causality",
    "Deadline",
    "GraphStore",
    "GraphTx",
    "Label",
    "Props",
    "Rel",
    "causal",
    "current_causality",
    "current_deadline",
    "deadline",
    "open_store",
    "sqlite_path",
]

NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL: three slashes then a relative path, four for an absolute one."""
    path = url.removeprefix("sqlite:///")
    if not path:
        raise ConfigError(f"CATALOG_STORE: expected sqlite:///PATH with a file path, got {url!r}")
    return Path(path).expanduser()


def open_store(settings: Settings) -> GraphStore:
    """Open the store CATALOG_STORE names. Raises ConfigError for a URL it does not understand."""
    url = settings.store.strip()
    if url.startswith("sqlite:///"):
        from catalog.store.sqlite import SqliteStore

        return SqliteStore(sqlite_path(url))
    if url.startswith(NEO4J_SCHEMES):
        from catalog.store.neo4j import Neo4jStore

        return Neo4jStore(
            url,
            user=settings.neo4j.user,
            password=settings.neo4j.password,
            database=settings.neo4j.database,
            connect_timeout_s=settings.neo4j.connect_timeout_s,
        )
    raise ConfigError(
        f"CATALOG_STORE: expected sqlite:///PATH or neo4j://HOST:PORT (also bolt://, neo4j+s://), got {url!r}"
    )
