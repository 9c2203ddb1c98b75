"""The predicate compiler: a store `Predicate` as a Cypher condition with named parameters."""

from __future__ import annotations

from typing import Any

from catalog.store.neo4j.cypher import _label, _rel
from catalog.store.neo4j.text import _lucene_query, _text_index
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
    Text,
    substitute,
)
from catalog.store.schema import ENDPOINTS, TEXT_INDEXED, Label, Rel, queryable


class _Compiler:
    """Compiles a Predicate into a Cypher condition, collecting named parameters.

    Full-text hits are gathered once per query in `preamble` subqueries and tested with `id IN`, so a Text
    predicate can sit anywhere in the tree (under Not, Or, or a Related node).
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.preamble: list[str] = []
        self._vars = 0

    def _param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def compile(self, predicate: Predicate, label: Label, var: str) -> str:
        match predicate:
            case Const(value=value):
                return "true" if value else "false"
            case Eq(prop=prop, value=None):
                return f"{var}.{queryable(label, prop)} IS NULL"
            case Eq(prop=prop, value=value):
                return f"{var}.{queryable(label, prop)} = {self._param(value)}"
            case In(prop=prop, values=values):
                if not values:
                    return "false"
                return f"{var}.{queryable(label, prop)} IN {self._param(list(values))}"
            case Contains(prop=prop, value=value):
                return self._contains(f"{var}.{queryable(label, prop, whole=False)}", self._param(value))
            case Cmp(prop=prop, op=op, value=value):
                assert op in ("<", "<=", ">", ">="), op
                return f"{var}.{queryable(label, prop)} {op} {self._param(value)}"
            case IdIn(ids=ids):
                if not ids:
                    return "false"
                return f"{var}.id IN {self._param(list(ids))}"
            case Text(query=query):
                return self._text(query, label, var)
            case Related(rel=rel, direction=direction, where=where):
                return self._related(rel, direction, where, label, var)
            case And(parts=parts):
                return "(" + " AND ".join(self.compile(p, label, var) for p in parts) + ")" if parts else "true"
            case Or(parts=parts):
                return "(" + " OR ".join(self.compile(p, label, var) for p in parts) + ")" if parts else "false"
            case Not(part=part):
                return f"NOT ({self.compile(part, label, var)})"
            case Bound(part=part, placeholder=placeholder, value=value):
                return self.compile(substitute(part, placeholder, value), label, var)
        raise AssertionError(f"unknown predicate {predicate!r}")

    @staticmethod
    def _contains(prop: str, value: str) -> str:
        # Like SQLite's json_each: never null (so NOT works), and a scalar property "contains" itself.
        return (
            f"(CASE WHEN {prop} IS :: LIST<ANY> THEN coalesce({value} IN {prop}, false) "
            f"ELSE coalesce({prop} = {value}, false) END)"
        )

    def _text(self, query: str, label: Label, var: str) -> str:
        assert label in TEXT_INDEXED, f"{label} has no text index"
        lucene = _lucene_query(query)
        if lucene is None:
            return "true"
        if not lucene:
            return "false"
        hits = f"hits{len(self.preamble)}"
        index, terms = self._param(_text_index(label)), self._param(lucene)
        self.preamble.append(
            f"CALL {{ CALL db.index.fulltext.queryNodes({index}, {terms}) YIELD node "
            f"RETURN collect(node.id) AS {hits} }}"
        )
        return f"{var}.id IN {hits}"

    def _related(self, rel: Rel, direction: EdgeDirection, where: Predicate | None, label: Label, var: str) -> str:
        source_label, target_label = ENDPOINTS[rel]
        near_label, other = (source_label, target_label) if direction == "out" else (target_label, source_label)
        assert near_label == label, f"{rel} does not start at {label}"
        self._vars += 1
        far = f"m{self._vars}"  # fresh per nesting level, so inner conditions never see a shadowed name
        arrow = f"-[:{_rel(rel)}]->" if direction == "out" else f"<-[:{_rel(rel)}]-"
        pattern = f"({var}){arrow}({far}:{_label(other)})"
        if where is None:
            return f"EXISTS {{ MATCH {pattern} }}"
        return f"EXISTS {{ MATCH {pattern} WHERE {self.compile(where, other, far)} }}"
