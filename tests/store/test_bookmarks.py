"""Store conformance: causal scopes and bookmarks. A store that has them (Neo4j) hands one out for every write and
makes a read wait for it; a store that has none (one SQLite file, where every read sees every committed write)
says so with `supports_bookmarks = False` and ignores them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from catalog.errors import InvalidInput
from catalog.store.base import GraphStore, causal
from catalog.store.neo4j import Neo4jStore
from catalog.store.schema import Label
from catalog.store.sqlite import SqliteStore

HEADER = "X-Catalog-Bookmark"


def add_agency(store: GraphStore, id: str) -> None:
    store.write(lambda tx: tx.create_node(Label.AGENCY, id, {"name": id}))


@contextmanager
def another_connection(store: GraphStore) -> Iterator[GraphStore]:
    """The same store as another replica sees it: its own connection (and, on Neo4j, its own driver)."""
    other: GraphStore = Neo4jStore(store.uri) if isinstance(store, Neo4jStore) else SqliteStore(store.path)  # type: ignore[attr-defined]
    try:
        yield other
    finally:
        other.close()


def test_each_write_in_a_causal_scope_leaves_its_bookmark_there(store: GraphStore) -> None:
    with causal() as scope:
        add_agency(store, "health")
        first = scope.latest
        store.read(lambda tx: tx.get_node(Label.AGENCY, "health"))
        after_read = scope.latest
        add_agency(store, "stats")
        second = scope.latest

    if store.supports_bookmarks:
        assert first and second and first != second
        assert after_read == first  # a read makes no bookmark
    else:
        assert (first, after_read, second) == (None, None, None)


def test_a_read_elsewhere_with_the_bookmark_of_a_write_sees_it(store: GraphStore) -> None:
    with causal() as scope:
        add_agency(store, "health")
        add_agency(store, "stats")  # the later write's bookmark covers the earlier one too
    with another_connection(store) as replica:
        by_argument = replica.read(lambda tx: tx.get_nodes(Label.AGENCY, ["health", "stats"]), bookmark=scope.latest)
        with causal(scope.latest):
            by_scope = replica.read(lambda tx: tx.get_node(Label.AGENCY, "stats"))

    assert sorted(by_argument) == ["health", "stats"]
    assert by_scope is not None


@pytest.mark.parametrize("bookmark", ["not a bookmark", "FB:AAAA"])
def test_a_bookmark_the_store_cannot_read_is_invalid_input_naming_it(store: GraphStore, bookmark: str) -> None:
    """The first is refused by its form; the second has the form and is refused by the server itself, which shows
    the bookmark reaches the database."""
    add_agency(store, "health")

    if not store.supports_bookmarks:
        store.check_bookmark(bookmark, HEADER)
        assert store.read(lambda tx: tx.get_node(Label.AGENCY, "health"), bookmark=bookmark) is not None
        return
    with pytest.raises(InvalidInput) as by_argument:
        store.read(lambda tx: tx.get_node(Label.AGENCY, "health"), bookmark=bookmark)
    with pytest.raises(InvalidInput) as by_scope, causal(bookmark, name=HEADER):
        add_agency(store, "stats")

    assert by_argument.value.field == "bookmark"
    assert by_scope.value.field == HEADER
    assert store.read(lambda tx: tx.get_node(Label.AGENCY, "stats")) is None  # the write never ran
    if bookmark == "not a bookmark":
        with pytest.raises(InvalidInput):
            store.check_bookmark(bookmark, HEADER)
