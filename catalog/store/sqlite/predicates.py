"""The predicate compiler: a store `Predicate` as a SQL condition over a nodes alias, with its parameters."""

from __future__ import annotations

import re
from typing import Any

from catalog.store.query import (
    And,
    Cmp,
    Const,
    Contains,
    EdgeDirection,
    Eq,
    IdIn,
    In,
    Not,
    Or,
    Predicate,
    Related,
    Text,
)
from catalog.store.schema import ENDPOINTS, QUERYABLE, TEXT_INDEXED, Label, Rel

_SAFE_PROP = re.compile(r"^[a-z][a-z0-9_]*$")
_SAFE_LABEL = re.compile(r"^[A-Za-z]+$")
_WORD = re.compile(r"\w+", re.UNICODE)


def _label(label: Label) -> str:
    """A whitelisted label as a SQL literal."""
    assert _SAFE_LABEL.match(label.value), label
    return f"'{label.value}'"


def _fts_query(text: str) -> str | None:
    words = _WORD.findall(text)
    return " ".join(f'"{w}"*' for w in words) if words else None


class _Compiler:
    """Compiles a Predicate into a SQL condition over a nodes alias, collecting parameters."""

    def __init__(self) -> None:
        self.params: list[Any] = []
        self._aliases = 0

    def compile(self, predicate: Predicate, label: Label, alias: str) -> str:
        match predicate:
            case Const(value=value):
                return "1" if value else "0"
            case Eq(prop=prop, value=None):
                return f"{self._prop(label, alias, prop)} IS NULL"
            case Eq(prop=prop, value=value):
                self.params.append(value)
                return f"{self._prop(label, alias, prop)} = ?"
            case In(prop=prop, values=values):
                if not values:
                    return "0"
                self.params.extend(values)
                return f"{self._prop(label, alias, prop)} IN ({', '.join('?' * len(values))})"
            case Contains(prop=prop, value=value):
                self._prop(label, alias, prop)
                self.params.append(value)
                return f"EXISTS (SELECT 1 FROM json_each({alias}.props, '$.{prop}') WHERE value = ?)"
            case Cmp(prop=prop, op=op, value=value):
                assert op in ("<", "<=", ">", ">="), op
                self.params.append(value)
                return f"{self._prop(label, alias, prop)} {op} ?"
            case IdIn(ids=ids):
                if not ids:
                    return "0"
                self.params.extend(ids)
                return f"{alias}.id IN ({', '.join('?' * len(ids))})"
            case Text(query=query):
                assert label in TEXT_INDEXED, f"{label} has no text index"
                match = _fts_query(query)
                if match is None:
                    return "1"
                self.params.extend([label.value, match])
                return f"{alias}.id IN (SELECT id FROM node_text WHERE label = ? AND node_text MATCH ?)"
            case Related(rel=rel, direction=direction, where=where):
                return self._related(rel, direction, where, label, alias)
            case And(parts=parts):
                return "(" + " AND ".join(self.compile(p, label, alias) for p in parts) + ")"
            case Or(parts=parts):
                return "(" + " OR ".join(self.compile(p, label, alias) for p in parts) + ")"
            case Not(part=part):
                return f"NOT ({self.compile(part, label, alias)})"
        raise AssertionError(f"unknown predicate {predicate!r}")

    def _prop(self, label: Label, alias: str, prop: str) -> str:
        assert prop in QUERYABLE[label] and _SAFE_PROP.match(prop), f"{label}.{prop} is not queryable"
        return f"json_extract({alias}.props, '$.{prop}')"

    def _related(self, rel: Rel, direction: EdgeDirection, where: Predicate | None, label: Label, alias: str) -> str:
        source_label, target_label = ENDPOINTS[rel]
        near_label, other = (source_label, target_label) if direction == "out" else (target_label, source_label)
        assert near_label == label, f"{rel} does not start at {label}"
        near, far = ("source", "target") if direction == "out" else ("target", "source")
        self._aliases += 1
        edge, node = f"e{self._aliases}", f"m{self._aliases}"
        join = ""
        if where is not None:
            join = f"JOIN nodes {node} ON {node}.label = {_label(other)} AND {node}.id = {edge}.{far} "
        self.params.append(rel.value)
        condition = f"{edge}.rel = ? AND {edge}.{near} = {alias}.id"
        if where is not None:
            condition += f" AND {self.compile(where, other, node)}"
        return f"EXISTS (SELECT 1 FROM edges {edge} {join}WHERE {condition})"
