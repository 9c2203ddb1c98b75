"""Query limits: depth, aliases and estimated cost, checked before execution with the request's variables."""

from __future__ import annotations

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


class LimitExceeded(Exception):
    """A query is too deep, too wide or too costly. The message names the setting."""


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


class _Walker:
    def __init__(
        self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any], settings: ApiSettings
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.settings = settings
        self.aliases = 0
        self.max_depth = 0

    def cost(self, selection_set: SelectionSetNode | None, depth: int, multiplier: int, seen: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        self.max_depth = max(self.max_depth, depth)
        if depth > self.settings.max_depth:
            raise LimitExceeded(f"query depth exceeds {self.settings.max_depth} (CATALOG_API__MAX_DEPTH)")
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    self.aliases += 1
                    if self.aliases > self.settings.max_aliases:
                        raise LimitExceeded(f"more than {self.settings.max_aliases} aliases (CATALOG_API__MAX_ALIASES)")
                inner = multiplier
                if _is_list_field(selection):
                    inner *= max(_first_arg(selection, self.variables, self.settings.default_page_size), 1)
                total += multiplier + self.cost(selection.selection_set, depth + 1, inner, seen)
            elif isinstance(selection, InlineFragmentNode):
                total += self.cost(selection.selection_set, depth, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen or name not in self.fragments:
                    continue  # cycles and unknown fragments are reported by validation
                total += self.cost(self.fragments[name].selection_set, depth, multiplier, seen | {name})
        return total


def check_limits(
    document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any], settings: ApiSettings
) -> int:
    """Raise LimitExceeded when the operation is over a limit; return its estimated cost."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(fragments, variables, settings)
    cost = walker.cost(operation.selection_set, 1, 1, frozenset())
    if cost > settings.max_cost:
        raise LimitExceeded(f"estimated query cost {cost} exceeds {settings.max_cost} (CATALOG_API__MAX_COST)")
    return cost
