"""The embedded store: stdlib sqlite3 holding a property graph in two tables, with WAL and foreign keys on.

Read in this order: `store` (connections, transactions, the busy wait), `tx` (one transaction's GraphTx methods,
lineage walks included), then `predicates` (Predicate to SQL), `schema` (tables and indexes) and `errors`
(sqlite3 errors into CatalogErrors).
"""

from __future__ import annotations

from catalog.store.sqlite.store import SqliteStore
from catalog.store.sqlite.tx import SqliteTx

__all__ = ["SqliteStore", "SqliteTx"]
