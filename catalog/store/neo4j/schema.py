"""Schema statements: uniqueness constraints, property indexes and the full-text indexes, each created if absent."""

from __future__ import annotations

from catalog.store.neo4j.cypher import _label
from catalog.store.neo4j.sequences import _COUNTER
from catalog.store.neo4j.text import _text_index, _text_prop
from catalog.store.schema import LISTS, QUERYABLE, TEXT_INDEXED, Label, indexed, queryable


def _schema_statements() -> list[str]:
    statements = [
        f"CREATE CONSTRAINT catalog_{label.value.lower()}_id IF NOT EXISTS "
        f"FOR (n:{_label(label)}) REQUIRE n.id IS UNIQUE"
        for label in Label
    ]
    statements.append(
        f"CREATE CONSTRAINT catalog_counter_name IF NOT EXISTS FOR (c:{_COUNTER}) REQUIRE c.name IS UNIQUE"
    )
    for label in QUERYABLE:
        for prop in sorted(LISTS.get(label, ())):  # earlier stores have them; list membership uses no index
            name = f"catalog_{label.value.lower()}_{queryable(label, prop, whole=False)}"
            statements.append(f"DROP INDEX {name} IF EXISTS")
        for prop in indexed(label):
            statements.append(
                f"CREATE INDEX catalog_{label.value.lower()}_{queryable(label, prop)} IF NOT EXISTS "
                f"FOR (n:{_label(label)}) ON (n.{prop})"
            )
    for label, fields in TEXT_INDEXED.items():
        derived = ", ".join(f"n.{_text_prop(name)}" for name in fields)
        # The derived fields hold pre-normalized tokens, so the analyzer must only split on whitespace.
        statements.append(
            f"CREATE FULLTEXT INDEX {_text_index(label)} IF NOT EXISTS FOR (n:{_label(label)}) ON EACH [{derived}] "
            "OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace'}}"
        )
    statements.append("CALL db.awaitIndexes(300)")
    return statements
