"""The tables (nodes, edges, counters, the FTS5 text index) and one partial index per indexed property."""

from __future__ import annotations

from catalog.store.schema import LISTS, QUERYABLE, indexed

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS nodes (
        label TEXT NOT NULL, id TEXT NOT NULL, props TEXT NOT NULL,
        PRIMARY KEY (label, id)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS edges (
        rel TEXT NOT NULL,
        source_label TEXT NOT NULL, source TEXT NOT NULL,
        target_label TEXT NOT NULL, target TEXT NOT NULL,
        props TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (rel, source, target),
        FOREIGN KEY (source_label, source) REFERENCES nodes(label, id) ON DELETE CASCADE,
        FOREIGN KEY (target_label, target) REFERENCES nodes(label, id) ON DELETE CASCADE) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS edges_by_target ON edges(rel, target, source)",
    "CREATE INDEX IF NOT EXISTS edges_by_source_node ON edges(source_label, source)",
    "CREATE INDEX IF NOT EXISTS edges_by_target_node ON edges(target_label, target)",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS node_text USING fts5(label UNINDEXED, id UNINDEXED, body)",
]


def _index_statements() -> list[str]:
    """One partial index per indexed property of each label, so a write only updates its own label's indexes.

    Queries name the label as a literal (`n.label = 'Dataset'`): SQLite only uses a partial index when the query
    implies the index's WHERE clause, which a bound parameter cannot show. Labels come from the whitelist. A list
    property's index, which earlier stores have, is dropped (`LISTS`: membership is asked through json_each).
    """
    statements = []
    for label, props in QUERYABLE.items():
        for prop in sorted(props):
            statements.append(f"DROP INDEX IF EXISTS nodes_{label}_{prop}")  # the old whole-table indexes
        for prop in sorted(LISTS.get(label, ())):
            statements.append(f"DROP INDEX IF EXISTS nodes_by_{label}_{prop}")
        for prop in indexed(label):
            statements.append(
                f"CREATE INDEX IF NOT EXISTS nodes_by_{label}_{prop} "
                f"ON nodes(json_extract(props, '$.{prop}'), id) WHERE label = '{label.value}'"
            )
    return statements
