"""The server store: Neo4j through the official Bolt driver.

Every query is parameterized. The only identifiers ever written into Cypher text are labels and relationship
types taken from the `Label`/`Rel` whitelists, property names checked against `QUERYABLE`, variable names this
package generates, and lineage depth bounds that are validated ints. Needs Neo4j 5.21+ (the `SHORTEST` path
syntax the lineage query uses).

Full-text search mirrors the SQLite backend's FTS5 `unicode61` tokenizer: each text-indexed property gets a
derived `_text_<prop>` string of normalized tokens, written with the property itself, and the full-text index
covers those derived strings with Lucene's `whitespace` analyzer. Underscore-prefixed properties are ours:
they are never written from input and never returned.

Read in this order: `store` (sessions, retries, the circuit), `tx` (one transaction's GraphTx methods), then
the Cypher they run: `cypher` (nodes and edges), `sequences` (counters and their locks), `lineage` (lineage,
impact and path walks), `predicates` (Predicate to Cypher), `text` (full-text tokens and stored properties),
`schema` (constraints and indexes). `errors` turns driver errors into CatalogErrors; `bookmarks` checks the
bookmarks clients send back.
"""

from __future__ import annotations

from catalog.store.neo4j.store import Neo4jStore
from catalog.store.neo4j.tx import Neo4jTx

__all__ = ["Neo4jStore", "Neo4jTx"]
