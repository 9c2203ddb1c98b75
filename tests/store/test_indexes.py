"""Which properties each backend indexes: every queryable one a comparison can use, and no list property (`LISTS`).

A list is only asked whether it contains a value, which no property index answers, and every index slows each
write of its label: a decision is written on every checkAccess. A store made by an earlier version, which indexed
its lists, loses those indexes when its schema is brought up to date.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from catalog.store.base import GraphStore
from catalog.store.neo4j import Neo4jStore
from catalog.store.schema import LISTS, QUERYABLE, indexed
from catalog.store.sqlite import SqliteStore

_SQLITE_INDEX = re.compile(r"json_extract\(props, '\$\.(\w+)'\), id\) WHERE label = '(\w+)'")


def _run(store: GraphStore, statement: str) -> list[Any]:
    """A schema statement or query run on the backend itself, beside the store's own connections."""
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as conn:
            return conn.execute(statement).fetchall()
    assert isinstance(store, Neo4jStore)
    with store._driver.session(database=store._database) as session:
        return [tuple(record.values()) for record in session.run(statement)]


def _indexes(store: GraphStore) -> set[tuple[str, str]]:
    """(label, property) of every property index the store holds."""
    if isinstance(store, SqliteStore):
        sql = _run(store, "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        return {(m[2], m[1]) for (text,) in sql if (m := _SQLITE_INDEX.search(text))}
    rows = _run(store, "SHOW RANGE INDEXES YIELD labelsOrTypes, properties RETURN labelsOrTypes, properties")
    return {(labels[0], props[0]) for labels, props in rows if labels and len(props) == 1}


def _an_earlier_version_indexed_the_lists(store: GraphStore) -> None:
    for label, props in LISTS.items():
        for prop in props:
            if isinstance(store, SqliteStore):
                _run(
                    store,
                    f"CREATE INDEX nodes_by_{label.value}_{prop} ON nodes(json_extract(props, '$.{prop}'), id) "
                    f"WHERE label = '{label.value}'",
                )
            else:
                _run(store, f"CREATE INDEX catalog_{label.value.lower()}_{prop} FOR (n:{label.value}) ON (n.{prop})")


def test_every_queryable_property_but_the_lists_is_indexed_and_earlier_list_indexes_are_dropped(
    store: GraphStore,
) -> None:
    wanted = {(label.value, prop) for label in QUERYABLE for prop in indexed(label)}
    lists = {(label.value, prop) for label, props in LISTS.items() for prop in props}
    assert lists and lists <= {(label.value, prop) for label, props in QUERYABLE.items() for prop in props}
    assert _indexes(store) >= wanted and not _indexes(store) & lists

    _an_earlier_version_indexed_the_lists(store)
    assert _indexes(store) >= lists  # as an earlier version left them
    store.init_schema()
    assert _indexes(store) >= wanted and not _indexes(store) & lists
