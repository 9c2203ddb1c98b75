"""Row locks for compare-and-set updates, on both backends."""

from __future__ import annotations

from catalog.store.base import GraphTx
from catalog.store.schema import Label


def lock(tx: GraphTx, label: Label, id: str) -> None:
    """Hold this node's lock until the transaction ends, so the state read next is final (compare-and-set).

    The store's atomic counter is the lock both backends share: SQLite writers already serialize on BEGIN
    IMMEDIATE, and on Neo4j the counter node stays write-locked until commit, so a second writer of the same
    node waits here and then reads what the first one committed.
    """
    tx.next_sequence(f"lock:{label.value}:{id}")
