"""A small predicate language over nodes. Backends compile it to parameterized SQL or Cypher.

The policy layer translates visibility rules into these predicates, so lists are filtered inside the store
query instead of being fetched whole and trimmed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.store.schema import Rel

Scalar = str | int | float | bool | None
EdgeDirection = Literal["out", "in"]


@dataclass(frozen=True)
class Eq:
    prop: str
    value: Scalar


@dataclass(frozen=True)
class In:
    prop: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Contains:
    """A list property contains `value`."""

    prop: str
    value: Scalar


@dataclass(frozen=True)
class Cmp:
    prop: str
    op: Literal["<", "<=", ">", ">="]
    value: Scalar


@dataclass(frozen=True)
class IdIn:
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Text:
    """Full-text match over the label's text-indexed properties. Words are ANDed, prefix-matched."""

    query: str


@dataclass(frozen=True)
class Related:
    """There is an edge of type `rel` (outgoing or incoming) to a node matching `where`."""

    rel: Rel
    direction: EdgeDirection
    where: Predicate | None = None


@dataclass(frozen=True)
class And:
    parts: tuple[Predicate, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    part: Predicate


@dataclass(frozen=True)
class Bound:
    """`part` with `value` wherever a comparison (Cmp) in it compares with `placeholder`, as `substitute` would
    give it: a predicate made once and given a value known only when it is used, such as a reader's visibility
    (compiled once per policy version) and the time of the read. A store may compile `part` once and pass the
    value as a parameter. A Bound inside `part` that binds the same placeholder keeps its own value."""

    part: Predicate
    placeholder: Scalar
    value: Scalar


@dataclass(frozen=True)
class Const:
    """Always true or always false: what a policy yields when a principal sees all or nothing."""

    value: bool


Predicate = Eq | In | Contains | Cmp | IdIn | Text | Related | And | Or | Not | Bound | Const

TRUE = Const(True)
FALSE = Const(False)


def all_of(*parts: Predicate | None) -> Predicate:
    """AND the given predicates, dropping None and folding constants."""
    return _fold(parts, unit=TRUE, absorbing=FALSE, join=And)


def any_of(*parts: Predicate | None) -> Predicate:
    """OR the given predicates, dropping None and folding constants."""
    return _fold(parts, unit=FALSE, absorbing=TRUE, join=Or)


def _fold(
    parts: tuple[Predicate | None, ...],
    *,
    unit: Const,
    absorbing: Const,
    join: Callable[[tuple[Predicate, ...]], Predicate],
) -> Predicate:
    """Join `parts` with one connective: its unit (TRUE for AND) is dropped, its absorbing constant (FALSE for AND)
    decides the whole, and a lone part stands for itself."""
    kept: list[Predicate] = []
    for part in parts:
        if part is None or part == unit:
            continue
        if part == absorbing:
            return absorbing
        kept.append(part)
    if not kept:
        return unit
    return kept[0] if len(kept) == 1 else join(tuple(kept))


def bound(predicate: Predicate, placeholder: Scalar, value: Scalar) -> Predicate:
    """`predicate` with `value` for `placeholder` (a `Bound`); a constant stays itself, so `== TRUE` still tells
    a predicate that holds everywhere."""
    return predicate if isinstance(predicate, Const) else Bound(predicate, placeholder, value)


def substitute(predicate: Predicate, placeholder: Scalar, value: Scalar) -> Predicate:
    """The predicate with `value` wherever a comparison (Cmp) compares with `placeholder`: a value known only when
    the predicate is used, such as the time of a decision."""
    match predicate:
        case Cmp(prop=prop, op=op, value=compared) if compared == placeholder:
            return Cmp(prop, op, value)
        case And(parts=parts):
            return And(tuple(substitute(p, placeholder, value) for p in parts))
        case Or(parts=parts):
            return Or(tuple(substitute(p, placeholder, value) for p in parts))
        case Not(part=part):
            return Not(substitute(part, placeholder, value))
        case Related(rel=rel, direction=direction, where=where) if where is not None:
            return Related(rel, direction, substitute(where, placeholder, value))
        case Bound(part=part, placeholder=inner, value=given) if inner != placeholder:
            return Bound(substitute(part, placeholder, value), inner, given)
    return predicate


@dataclass(frozen=True)
class Page:
    """One page of node ids with their properties, ordered by id."""

    items: list[tuple[str, dict[str, Any]]]
    has_next: bool
    end_cursor: str | None
    total: int | None = None


@dataclass
class LineageGraph:
    """What a lineage traversal reached. Depth counts dataset hops from the start."""

    datasets: dict[str, int] = field(default_factory=dict)
    processes: dict[str, int] = field(default_factory=dict)
    edges: set[tuple[str, str, str]] = field(default_factory=set)  # (rel, source id, target id)
