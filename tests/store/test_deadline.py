"""Store conformance: a request's deadline. No transaction attempt, first or retry, starts after it; what has
started is bounded by it; and a write either says it wrote nothing or, when its commit was cut off, that its
outcome cannot be known."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from neo4j import Transaction
from neo4j.exceptions import IncompleteCommit, SessionExpired

from catalog.errors import DeadlineExceeded, OutcomeUnknown, Unavailable
from catalog.store.base import GraphStore, GraphTx
from catalog.store.deadline import deadline
from catalog.store.neo4j import Neo4jStore
from catalog.store.schema import Label
from catalog.store.sqlite import SqliteStore

SETTING = "CATALOG_API__REQUEST_TIMEOUT_S"


def agency(store: GraphStore, id: str) -> Any:
    return store.read(lambda tx: tx.get_node(Label.AGENCY, id))


def test_no_transaction_starts_after_the_deadline(store: GraphStore) -> None:
    started: list[str] = []

    def work(tx: GraphTx) -> None:
        started.append("work")
        tx.create_node(Label.AGENCY, "late", {"name": "Late"})

    with deadline(0.01, SETTING):
        time.sleep(0.02)
        with pytest.raises(DeadlineExceeded) as refused:
            store.write(work)
        with pytest.raises(DeadlineExceeded):
            store.read(lambda tx: started.append("read"))

    assert started == []
    assert refused.value.code == "UNAVAILABLE"
    assert SETTING in refused.value.message and "nothing was written" in refused.value.message
    assert agency(store, "late") is None


def test_a_deadline_met_after_a_commit_says_the_change_stands(store: GraphStore) -> None:
    with deadline(1.0, SETTING) as scope:
        store.write(lambda tx: tx.create_node(Label.AGENCY, "early", {"name": "Early"}))
        time.sleep(max(0.0, scope.remaining_s()) + 0.01)
        with pytest.raises(DeadlineExceeded) as refused:
            store.write(lambda tx: tx.create_node(Label.AGENCY, "late", {"name": "Late"}))

    assert "stands" in refused.value.message
    assert agency(store, "early") is not None and agency(store, "late") is None


def test_a_write_that_fails_says_nothing_was_written(store: GraphStore) -> None:
    def work(tx: GraphTx) -> None:
        tx.create_node(Label.AGENCY, "half", {"name": "Half"})
        raise Unavailable("a dependency went away", public="a dependency went away")

    with pytest.raises(Unavailable) as failed:
        store.write(work)

    assert failed.value.public_message.endswith("nothing was written")
    assert agency(store, "half") is None


@pytest.mark.neo4j
def test_a_neo4j_retry_never_starts_after_the_deadline(store: GraphStore) -> None:
    if not isinstance(store, Neo4jStore):
        pytest.skip("only Neo4j retries transactions")
    attempts: list[float] = []

    def work(tx: GraphTx) -> None:
        attempts.append(time.monotonic())
        raise SessionExpired("the connection went away")  # retryable: the driver would try again for 10 s

    with deadline(0.5, SETTING) as scope, pytest.raises(Unavailable) as failed:
        store.write(work)

    assert attempts and max(attempts) < scope.at  # retried, but never after the deadline
    assert "nothing was written" in failed.value.public_message


@pytest.mark.neo4j
@pytest.mark.timeout(60)
def test_a_neo4j_transaction_gets_the_time_left_as_its_timeout(store: GraphStore) -> None:
    if not isinstance(store, Neo4jStore):
        pytest.skip("a server-side transaction timeout is Neo4j's")

    def work(tx: GraphTx) -> None:
        tx.create_node(Label.AGENCY, "slow", {"name": "Slow"})
        # Seconds of server work, unless the transaction is ended at the time the request has left.
        tx._q("UNWIND range(1, 200000000) AS x WITH x WHERE x % 1000003 = -1 RETURN count(x) AS n")  # type: ignore[attr-defined]

    with deadline(0.5, SETTING), pytest.raises(DeadlineExceeded) as ended:
        store.write(work)

    assert "nothing was written" in ended.value.message
    assert agency(store, "slow") is None


@pytest.mark.neo4j
def test_a_connection_lost_during_commit_is_an_unknown_outcome(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(store, Neo4jStore):
        pytest.skip("SQLite commits in this process: its outcome is always known")
    commit = Transaction.commit

    def commit_then_lose_connection(self: Transaction) -> None:
        commit(self)
        raise IncompleteCommit("connection lost during commit")

    monkeypatch.setattr(Transaction, "commit", commit_then_lose_connection)
    with pytest.raises(OutcomeUnknown) as unknown:
        store.write(lambda tx: tx.create_node(Label.AGENCY, "maybe", {"name": "Maybe"}))

    assert unknown.value.code == "OUTCOME_UNKNOWN"
    monkeypatch.undo()
    assert agency(store, "maybe") is not None  # it was written, once: never retried into a CONFLICT


def test_sqlite_waits_for_a_lock_no_longer_than_the_request_has_left(store: GraphStore) -> None:
    if not isinstance(store, SqliteStore):
        pytest.skip("a busy wait is SQLite's")
    other = SqliteStore(store.path)
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock(tx: GraphTx) -> None:
        holding.set()
        release.wait(5)

    holder = threading.Thread(target=other.write, args=(hold_the_lock,))
    holder.start()
    holding.wait(5)
    threading.Timer(1.5, release.set).start()  # without the bound, the write below waits for this and succeeds
    try:
        with deadline(0.3, SETTING), pytest.raises(Unavailable) as busy:
            store.write(lambda tx: tx.create_node(Label.AGENCY, "blocked", {"name": "Blocked"}))
    finally:
        release.set()
        holder.join()
        other.close()

    assert "nothing was written" in busy.value.public_message
    assert agency(store, "blocked") is None
