"""Query limits: depth, aliases, repeated fields and estimated cost, checked before validation and execution.

One pass over the document, with each fragment measured once and its result reused wherever it is spread, so
the work is linear in the document's size: a fragment spread twice by a fragment spread twice (and so on) costs
one visit each, however large its expansion would be. The parser's token limit (CATALOG_API__MAX_TOKENS) bounds
the document itself, so everything after it is bounded too.
"""

from __future__ import annotations

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


def _first_arg(field: FieldNode, variables: dict[str, Any], default: int) -> int:
    for arg in field.arguments or ():
        if arg.name.value != "first":
            continue
        if isinstance(arg.value, IntValueNode):
            return int(arg.value.value)
        if isinstance(arg.value, VariableNode):
            value = variables.get(arg.value.name.value)
            return value if isinstance(value, int) else default
    return default


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
        page = 1
        if _is_list_field(field):
            page = min(max(_first_arg(field, self.variables, self.settings.default_page_size), 1), self.cost_cap)
        inner = self.selection_set(field.selection_set, depth + 1)
        return _Shape(1 + page * inner.cost, aliases + inner.aliases, 1 + inner.height)

    def _check_repeats(self, selection_set: SelectionSetNode) -> None:
        # Validation compares every pair of fields with one response name: bound how many there can be.
        counts = Counter((f.alias or f.name).value for f in _fields(selection_set))
        name, times = counts.most_common(1)[0] if counts else ("", 0)
        if times > self.settings.max_field_repeats:
            raise LimitExceeded(
                f"field {name!r} is asked for {times} times in one selection; at most "
                f"{self.settings.max_field_repeats} (CATALOG_API__MAX_FIELD_REPEATS)"
            )


def check_limits(document: DocumentNode, variables: dict[str, Any], settings: ApiSettings) -> int:
    """Raise LimitExceeded when any operation of the document is over a limit; return the highest estimated cost.

    Fragments no operation uses are measured too: validation looks at them as well.
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
    except RecursionError:
        raise LimitExceeded(f"query nests too deeply (CATALOG_API__MAX_DEPTH is {settings.max_depth})") from None
    return highest
