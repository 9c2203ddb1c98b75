"""The circuit over a network store: once Neo4j is found unreachable, transactions are refused at once rather than
each waiting out the retries, one trial goes through every couple of seconds, and a ping that succeeds (the
/readyz probe) lets the next one through. SQLite runs in this process and has no circuit: nothing to opt into."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.errors import Unavailable
from catalog.store.base import STORE_UNREACHABLE
from catalog.store.circuit import Circuit
from catalog.store.neo4j import Neo4jStore
from catalog.store.schema import Label

pytestmark = pytest.mark.neo4j


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def counting_attempts(store: Neo4jStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    attempts: list[int] = []
    attempt = store._attempt

    def counted(*args: Any) -> Any:
        attempts.append(1)
        return attempt(*args)

    monkeypatch.setattr(store, "_attempt", counted)
    return attempts


def add(store: Neo4jStore, id: str) -> None:
    store.write(lambda tx: tx.create_node(Label.AGENCY, id, {"name": id}))


@pytest.fixture
def unreachable() -> Iterator[Neo4jStore]:
    store = Neo4jStore(f"bolt://127.0.0.1:{free_port()}", connect_timeout_s=1)
    yield store
    store.close()


def test_an_unreachable_store_is_refused_at_once_but_for_a_trial_every_few_seconds(
    unreachable: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    unreachable.circuit = Circuit(trial_interval_s=2.0, clock=clock)
    attempts = counting_attempts(unreachable, monkeypatch)

    with pytest.raises(Unavailable):
        add(unreachable, "first")
    assert len(attempts) == 1  # found unreachable: not retried for the driver's 10 s
    for id in ("second", "third", "fourth"):
        with pytest.raises(Unavailable) as refused:
            add(unreachable, id)
        assert refused.value.public_message.startswith(STORE_UNREACHABLE)
    assert len(attempts) == 1  # refused without going to the store

    clock.now += 2.1
    with pytest.raises(Unavailable):
        add(unreachable, "trial")
    assert len(attempts) == 2  # one trial, and the circuit stays open
    with pytest.raises(Unavailable):
        add(unreachable, "after-the-trial")
    assert len(attempts) == 2


def test_a_ping_that_answers_lets_the_next_transaction_through(
    neo4j_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Neo4jStore(neo4j_uri)
    try:
        store.circuit.trip()
        attempts = counting_attempts(store, monkeypatch)
        with pytest.raises(Unavailable):
            add(store, "refused")
        assert attempts == []

        store.ping()
        add(store, "after-ping")

        assert not store.circuit.is_open
        assert store.read(lambda tx: tx.get_node(Label.AGENCY, "after-ping")) is not None
        store.write(lambda tx: tx.delete_node(Label.AGENCY, "after-ping"))
    finally:
        store.close()


def test_only_one_trial_is_out_at_a_time() -> None:
    clock = FakeClock()
    circuit = Circuit(trial_interval_s=2.0, clock=clock)
    circuit.trip()
    clock.now += 2.1

    assert circuit.allow() == "trial"
    clock.now += 10  # a trial that hangs (a server still starting) holds back the next one
    assert circuit.allow() is None
    circuit.trial_done()
    assert circuit.allow() is None  # the interval counts from when the trial ended
    clock.now += 2.1
    assert circuit.allow() == "trial"
