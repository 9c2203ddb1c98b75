"""The predicate compiler: a store `Predicate` as a SQL condition over a nodes alias, with its parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from catalog.store.query import (
    And,
    Bound,
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
    Scalar,
    Text,
)
from catalog.store.schema import ENDPOINTS, TEXT_INDEXED, Label, Rel, queryable

_SAFE_LABEL = re.compile(r"^[A-Za-z]+$")
_WORD = re.compile(r"\w+", re.UNICODE)


def _label(label: Label) -> str:
    """A whitelisted label as a SQL literal."""
    assert _SAFE_LABEL.match(label.value), label
    return f"'{label.value}'"


def _fts_query(text: str) -> str | None:
    words = _WORD.findall(text)
    return " ".join(f'"{w}"*' for w in words) if words else None


@dataclass(frozen=True)
class _Slot:
    """Where a compiled `Bound` part takes the value bound to `placeholder`."""

    placeholder: Scalar


# Bound parts compiled before, by identity (the entry keeps the part alive, so its id is not reused): a reader's
# visibility is one object per policy version and reader, compiled once and given each read's time.
_COMPILED: dict[tuple[Any, ...], tuple[Predicate, str, tuple[Any, ...], int]] = {}
_COMPILED_MAX = 1024


class _Compiler:
    """Compiles a Predicate into a SQL condition over a nodes alias, collecting parameters."""

    def __init__(self, aliases: int = 0, placeholders: frozenset[Scalar] = frozenset()) -> None:
        self.params: list[Any] = []
        self._aliases = aliases
        self._placeholders = placeholders  # bound by an enclosing Bound: their comparisons take a _Slot

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
                self._prop(label, alias, prop, whole=False)
                self.params.append(value)
                return f"EXISTS (SELECT 1 FROM json_each({alias}.props, '$.{prop}') WHERE value = ?)"
            case Cmp(prop=prop, op=op, value=value):
                assert op in ("<", "<=", ">", ">="), op
                self.params.append(_Slot(value) if value in self._placeholders else value)
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
            case Bound(part=part, placeholder=placeholder, value=value):
                return self._bound(part, placeholder, value, label, alias)
        raise AssertionError(f"unknown predicate {predicate!r}")

    def _bound(self, part: Predicate, placeholder: Scalar, value: Scalar, label: Label, alias: str) -> str:
        placeholders = self._placeholders | {placeholder}
        key = (id(part), placeholders, label, alias, self._aliases)
        compiled = _COMPILED.get(key)
        if compiled is None or compiled[0] is not part:
            inner = _Compiler(self._aliases, placeholders)
            compiled = (part, inner.compile(part, label, alias), tuple(inner.params), inner._aliases)
            if len(_COMPILED) >= _COMPILED_MAX:
                _COMPILED.clear()
            _COMPILED[key] = compiled
        _, sql, params, self._aliases = compiled
        self.params.extend(value if isinstance(p, _Slot) and p.placeholder == placeholder else p for p in params)
        return sql

    def _prop(self, label: Label, alias: str, prop: str, *, whole: bool = True) -> str:
        return f"json_extract({alias}.props, '$.{queryable(label, prop, whole=whole)}')"

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
