"""Query limits: depth, aliases, repeated fields and estimated cost, checked before validation and execution.

One pass over the document, with each fragment measured once and its result reused wherever it is spread, so
the work is linear in the document's size: a fragment spread twice by a fragment spread twice (and so on) costs
one visit each, however large its expansion would be. The parser's token limit (CATALOG_API__MAX_TOKENS) bounds
the document itself, so everything after it is bounded too.

Clients send the same few documents again and again, so a document's outcome is remembered (`KnownOutcomes`),
keyed on the values of only the variables its measurement read (a page size, `first: $n`): most documents read
none, so one outcome serves every request. Profiling `dataset(id)` showed the pass repeated on each request cost
9-28% of its req/s.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from catalog.config import ApiSettings
from catalog.errors import LimitExceeded


def _page(value: object, settings: ApiSettings) -> int:
    """The page size a `first:` value stands for: the default when it is no int, within 1 and just past max_cost."""
    page = int(value) if isinstance(value, int) else settings.default_page_size
    return min(max(page, 1), settings.max_cost + 1)


# Paginated fields: their children are paid for once per item of the page.
CONNECTION_FIELDS = frozenset({"datasets", "agencies", "decisions", "agreements", "shareRequests", "auditTrail"})


def _is_list_field(field: FieldNode) -> bool:
    named_first = any(arg.name.value == "first" for arg in field.arguments or ())
    return named_first or field.name.value in CONNECTION_FIELDS


@dataclass(frozen=True)
class _Shape:
    """A selection set measured once, as if spread at depth 1 under a single item.

    Cost and aliases scale with the page sizes above it, and its height adds to the depth it is spread at.
    """

    cost: int
    aliases: int
    height: int


_EMPTY = _Shape(0, 0, 0)


def _fields(selection_set: SelectionSetNode) -> Iterator[FieldNode]:
    """The fields one selection set asks for itself, inline fragments included (as validation collects them)."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set)


class _Measure:
    def __init__(
        self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any], settings: ApiSettings
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.settings = settings
        # Values saturate just past their limit: the answer is the same, and the numbers stay small.
        self.cost_cap = settings.max_cost + 1
        self.alias_cap = settings.max_aliases + 1
        self.memo: dict[str, _Shape] = {}
        self.open: set[str] = set()
        self.read: dict[str, int] = {}  # the variables consulted, by name, and the page size each stood for

    def fragment(self, name: str) -> _Shape:
        known = self.memo.get(name)
        if known is not None:
            return known
        if name in self.open or name not in self.fragments:
            return _EMPTY  # cycles and unknown fragments are reported by validation
        self.open.add(name)
        shape = self.selection_set(self.fragments[name].selection_set, 1)
        self.open.discard(name)
        self.memo[name] = shape
        return shape

    def selection_set(self, selection_set: SelectionSetNode, depth: int) -> _Shape:
        if depth > self.settings.max_depth:
            raise LimitExceeded(f"query depth exceeds {self.settings.max_depth} (CATALOG_API__MAX_DEPTH)")
        self._check_repeats(selection_set)
        cost, aliases, height = 0, 0, 1
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.field(selection, depth)
                cost, aliases = cost + inner.cost, aliases + inner.aliases
                height = max(height, inner.height)
            else:
                if isinstance(selection, InlineFragmentNode):
                    inner = self.selection_set(selection.selection_set, depth)
                else:
                    assert isinstance(selection, FragmentSpreadNode)
                    inner = self.fragment(selection.name.value)
                    if depth - 1 + inner.height > self.settings.max_depth:
                        raise LimitExceeded(f"query depth exceeds {self.settings.max_depth} (CATALOG_API__MAX_DEPTH)")
                cost, aliases = cost + inner.cost, aliases + inner.aliases
                height = max(height, inner.height)
            cost, aliases = min(cost, self.cost_cap), min(aliases, self.alias_cap)
        return _Shape(cost, aliases, height)

    def field(self, field: FieldNode, depth: int) -> _Shape:
        aliases = 1 if field.alias is not None else 0
        if field.selection_set is None:
            return _Shape(1, aliases, 0)
        page = self.page(field) if _is_list_field(field) else 1
        inner = self.selection_set(field.selection_set, depth + 1)
        return _Shape(1 + page * inner.cost, aliases + inner.aliases, 1 + inner.height)

    def page(self, field: FieldNode) -> int:
        for arg in field.arguments or ():
            if arg.name.value != "first":
                continue
            if isinstance(arg.value, IntValueNode):
                return _page(int(arg.value.value), self.settings)
            if isinstance(arg.value, VariableNode):
                name = arg.value.name.value
                self.read[name] = _page(self.variables.get(name), self.settings)
                return self.read[name]
        return _page(None, self.settings)

    def _check_repeats(self, selection_set: SelectionSetNode) -> None:
        # Validation compares every pair of fields with one response name: bound how many there can be.
        counts = Counter((f.alias or f.name).value for f in _fields(selection_set))
        name, times = counts.most_common(1)[0] if counts else ("", 0)
        if times > self.settings.max_field_repeats:
            raise LimitExceeded(
                f"field {name!r} is asked for {times} times in one selection; at most "
                f"{self.settings.max_field_repeats} (CATALOG_API__MAX_FIELD_REPEATS)"
            )


@dataclass(frozen=True)
class _Outcome:
    """What measuring a document found: its highest estimated cost, or why it is refused."""

    cost: int
    refusal: str | None

    def cost_or_raise(self) -> int:
        if self.refusal is not None:
            raise LimitExceeded(self.refusal)  # a new error each time: a raised one carries its traceback
        return self.cost


@dataclass(frozen=True)
class _Measured(_Outcome):
    read: dict[str, int]  # the variables the measurement consulted, and the page size each stood for


def _measure(document: DocumentNode, variables: dict[str, Any], settings: ApiSettings) -> _Measured:
    """Whether any operation of the document is over a limit (and which), its highest estimated cost, and the
    variables the measurement read. Fragments no operation uses are measured too: validation looks at them as well.
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    measure = _Measure(fragments, variables, settings)
    highest = 0
    try:
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            shape = measure.selection_set(definition.selection_set, 1)
            if shape.aliases > settings.max_aliases:
                raise LimitExceeded(f"more than {settings.max_aliases} aliases (CATALOG_API__MAX_ALIASES)")
            if shape.cost > settings.max_cost:
                raise LimitExceeded(f"estimated query cost exceeds {settings.max_cost} (CATALOG_API__MAX_COST)")
            highest = max(highest, shape.cost)
        for name in fragments:
            measure.fragment(name)
    except LimitExceeded as exc:
        return _Measured(highest, exc.message, measure.read)
    except RecursionError:
        message = f"query nests too deeply (CATALOG_API__MAX_DEPTH is {settings.max_depth})"
        return _Measured(highest, message, measure.read)
    return _Measured(highest, None, measure.read)


@dataclass(frozen=True)
class _Keyed:
    """Outcomes by the limits they were measured under and the page sizes of the variables in `names`."""

    names: tuple[str, ...]
    outcomes: dict[tuple[tuple[int, ...], tuple[int, ...]], _Outcome]


class KnownOutcomes:
    """One document's outcomes of the limits pass, at most `MAX_KEPT`, by what its measurement read.

    A measurement reads the variables it reads in an order fixed by the values it read before, so the same values
    for those variables give the same outcome whatever the others hold. Outcomes are keyed on every variable any
    measurement of the document has read so far (a superset is as sound, and shares a little less): a newly read
    one starts the keys afresh. The limits are part of the key, since settings can be changed in place.
    """

    MAX_KEPT = 32

    def __init__(self) -> None:
        self._keyed = _Keyed((), {})
        self._lock = threading.Lock()  # documents are prepared on worker threads too

    def __len__(self) -> int:
        return len(self._keyed.outcomes)

    def check(self, document: DocumentNode, variables: dict[str, Any], settings: ApiSettings) -> int:
        """Raise LimitExceeded when any operation of the document is over a limit; else its highest estimated cost.
        From memory when these values were measured before."""
        keyed = self._keyed  # one read: a concurrent _remember replaces it whole
        limits = (
            settings.max_depth,
            settings.max_aliases,
            settings.max_cost,
            settings.max_field_repeats,
            settings.default_page_size,
        )
        known = keyed.outcomes.get((limits, _pages(keyed.names, variables, settings)))
        if known is None:
            measured = _measure(document, variables, settings)
            known = _Outcome(measured.cost, measured.refusal)
            self._remember(limits, measured.read, variables, settings, known)
        return known.cost_or_raise()

    def _remember(
        self,
        limits: tuple[int, ...],
        read: dict[str, int],
        variables: dict[str, Any],
        settings: ApiSettings,
        outcome: _Outcome,
    ) -> None:
        with self._lock:
            keyed = self._keyed
            if not read.keys() <= set(keyed.names):
                keyed = self._keyed = _Keyed(keyed.names + tuple(n for n in read if n not in keyed.names), {})
            if len(keyed.outcomes) < self.MAX_KEPT:  # when full, later values are measured each time
                keyed.outcomes[limits, _pages(keyed.names, variables, settings)] = outcome


def _pages(names: tuple[str, ...], variables: dict[str, Any], settings: ApiSettings) -> tuple[int, ...]:
    return tuple(_page(variables.get(name), settings) for name in names)
