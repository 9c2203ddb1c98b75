"""Cypher for named counters (the audit chain's sequence): advancing one, and holding its lock for a statement."""

from __future__ import annotations

from catalog.store.base import sequence_id
from catalog.store.neo4j.cypher import _label
from catalog.store.schema import Label

_COUNTER = "Counter"
_ADVANCING = f"MERGE (c:{_COUNTER} {{name: $name}}) ON CREATE SET c.value = 0 SET c.value = c.value + 1"
# Reading c.value on the right of SET makes Neo4j write-lock c first, so concurrent callers serialize.
_NEXT_SEQUENCE = f"{_ADVANCING} RETURN c.value AS value"

# Any write to c takes its write lock until commit. Not `SET c.value = c.value`: the value read before the lock
# was granted would be written back over a newer one (two events then get the same number). It runs as a unit
# subquery in front of the transaction's next statement (`_holding_first`), so holding costs no round trip.
_HOLD_SEQUENCE = f"CALL {{ MERGE (c:{_COUNTER} {{name: $held}}) ON CREATE SET c.value = 0 SET c.held = true }} "
_ID_WIDTH = len(sequence_id(0))


def _advance_query(label: Label) -> str:
    """Advance a counter and read the record numbered one before the new value, as `sequence_id` names it."""
    return (
        f"{_ADVANCING} WITH c.value AS value "
        f"OPTIONAL MATCH (p:{_label(label)} {{id: right($zeros + toString(value - 1), {_ID_WIDTH})}}) "
        "RETURN value, properties(p) AS props"
    )


def _holding_first(query: str) -> str:
    """`query` with the held counter's lock taken first. A UNION is wrapped whole, so every branch reads under it."""
    if " UNION " in query:
        return f"{_HOLD_SEQUENCE}CALL {{ {query} }} RETURN *"
    return _HOLD_SEQUENCE + query
