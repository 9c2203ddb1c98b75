"""A fresh store per test, on every backend: the conformance suite is written once and runs on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.store.base import GraphStore


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    if request.param == "sqlite":
        from catalog.store.sqlite import SqliteStore

        backend: GraphStore = SqliteStore(tmp_path / "catalog.db")
    else:
        from catalog.store.neo4j import Neo4jStore

        uri = request.getfixturevalue("neo4j_uri")
        backend = Neo4jStore(uri, user="neo4j", password="")
    backend.init_schema()
    backend.clear()
    yield backend
    backend.close()
