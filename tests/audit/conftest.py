"""Fixtures for the audit trail: services over a fresh store on both backends, a realistic run of activity on it,
and raw access to the stored events that goes around the catalog (sqlite3 on the file, Cypher through the driver),
as someone tampering with the database would.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from catalog.config import Settings, load_settings
from catalog.demo import load_demo
from catalog.domain import Role
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.neo4j import Neo4jStore
from catalog.store.sqlite import SqliteStore

DEID = {"dataset_id": "health.admissions-deid", "purpose": "RESEARCH", "access_method": "SECURE_ENCLAVE"}
UMA = Principal(id="uma.uni", agency_id="uni", roles=frozenset({Role.ANALYST}))
RUI = Principal(id="rui.uni", agency_id="uni", roles=frozenset({Role.ANALYST}))
PURPOSES_REASON = "Aggregates are not fit for decisions about individual services"
PRIYA = Principal(id="priya.stats", agency_id="stats", roles=frozenset({Role.DATA_OWNER, Role.STEWARD}))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(audit={"signing_key_file": tmp_path / "keys" / "audit-signing-key.pem"})


@pytest.fixture
def services(store: GraphStore, settings: Settings) -> Services:
    return Services(store, settings)


def record_activity(services: Services) -> None:
    """The demo landscape, then a day's work on it: updates with reasons, decisions both ways, a new steward."""
    load_demo(services)
    registration = services.registration
    registration.update_dataset(PRIYA, "stats.hospital-activity", {"description": "Quarterly, by region."})
    registration.update_dataset(
        PRIYA,
        "stats.hospital-activity",
        {"permitted_purposes": ["POLICY_AND_PROGRAMS", "RESEARCH", "STATISTICS"]},
        reason=PURPOSES_REASON,
    )
    services.people.set_roles(SYSTEM, "ben.stats", ["ANALYST", "STEWARD"], "covers the hospital tables")
    registration.assign_steward(SYSTEM, "stats.hospital-activity", "ben.stats")
    services.access.check(UMA, DEID)
    services.access.check(RUI, DEID)
    services.access.check(UMA, {**DEID, "purpose": "STATISTICS"})


@pytest.fixture
def activity(services: Services) -> Services:
    """Services over a store holding the demo landscape and some activity after it."""
    record_activity(services)
    return services


class RawEvents(Protocol):
    """The stored audit events and sequence counter, reached around the catalog."""

    def ids(self) -> list[str]: ...
    def props(self, id: str) -> dict[str, Any]: ...
    def replace(self, id: str, props: dict[str, Any]) -> None: ...
    def delete(self, id: str) -> None: ...
    def insert(self, id: str, props: dict[str, Any]) -> None: ...
    def move(self, id: str, new_id: str) -> None: ...
    def set_counter(self, value: int) -> None: ...
    def delete_counter(self) -> None: ...


class SqliteEvents:
    """sqlite3 on the store's file: the nodes table holds each event's properties as JSON."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def ids(self) -> list[str]:
        rows = self.conn.execute("SELECT id FROM nodes WHERE label = 'AuditEvent' ORDER BY id")
        return [id for (id,) in rows]

    def props(self, id: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT props FROM nodes WHERE label = 'AuditEvent' AND id = ?", (id,)).fetchone()
        return dict(json.loads(row[0]))

    def replace(self, id: str, props: dict[str, Any]) -> None:
        stored = json.dumps({k: v for k, v in props.items() if v is not None})
        self.conn.execute("UPDATE nodes SET props = ? WHERE label = 'AuditEvent' AND id = ?", (stored, id))

    def delete(self, id: str) -> None:
        self.conn.execute("DELETE FROM nodes WHERE label = 'AuditEvent' AND id = ?", (id,))

    def insert(self, id: str, props: dict[str, Any]) -> None:
        stored = json.dumps({k: v for k, v in props.items() if v is not None})
        self.conn.execute("INSERT INTO nodes (label, id, props) VALUES ('AuditEvent', ?, ?)", (id, stored))

    def move(self, id: str, new_id: str) -> None:
        self.conn.execute("UPDATE nodes SET id = ? WHERE label = 'AuditEvent' AND id = ?", (new_id, id))

    def set_counter(self, value: int) -> None:
        self.conn.execute("UPDATE counters SET value = ? WHERE name = 'audit'", (value,))

    def delete_counter(self) -> None:
        self.conn.execute("DELETE FROM counters WHERE name = 'audit'")

    def close(self) -> None:
        self.conn.close()


class Neo4jEvents:
    """Cypher through the official driver: each event is an :AuditEvent node, the counter a :Counter node."""

    def __init__(self, uri: str) -> None:
        from neo4j import GraphDatabase

        self.driver = GraphDatabase.driver(uri, auth=None)

    def _run(self, query: str, **params: Any) -> list[Any]:
        records, _, _ = self.driver.execute_query(query, params)
        return records

    def ids(self) -> list[str]:
        return [r["id"] for r in self._run("MATCH (e:AuditEvent) RETURN e.id AS id ORDER BY id")]

    def props(self, id: str) -> dict[str, Any]:
        props = dict(self._run("MATCH (e:AuditEvent {id: $id}) RETURN properties(e) AS p", id=id)[0]["p"])
        props.pop("id")
        return props

    def replace(self, id: str, props: dict[str, Any]) -> None:
        self._run("MATCH (e:AuditEvent {id: $id}) SET e = $props", id=id, props={**props, "id": id})

    def delete(self, id: str) -> None:
        self._run("MATCH (e:AuditEvent {id: $id}) DETACH DELETE e", id=id)

    def insert(self, id: str, props: dict[str, Any]) -> None:
        self._run("CREATE (e:AuditEvent) SET e = $props", props={**props, "id": id})

    def move(self, id: str, new_id: str) -> None:
        self._run("MATCH (e:AuditEvent {id: $id}) SET e.id = $new_id", id=id, new_id=new_id)

    def set_counter(self, value: int) -> None:
        self._run("MATCH (c:Counter {name: 'audit'}) SET c.value = $value", value=value)

    def delete_counter(self) -> None:
        self._run("MATCH (c:Counter {name: 'audit'}) DELETE c")

    def close(self) -> None:
        self.driver.close()


@pytest.fixture
def raw(store: GraphStore) -> Iterator[RawEvents]:
    """Direct access to the stored events, bypassing the catalog, on the store's own backend."""
    events: SqliteEvents | Neo4jEvents
    if isinstance(store, SqliteStore):
        events = SqliteEvents(store.path)
    else:
        assert isinstance(store, Neo4jStore)
        events = Neo4jEvents(store.uri)
    yield events
    events.close()
