"""Partial evaluation of conditions: what a condition would be if some attributes were not yet known.

Remedies come from here, not from string matching. The attributes a person can change (their purpose, access
method and fields, their training, the roles their agency grants, the agreement their agency can ask for) are
treated as unknown, and each condition is evaluated in three-valued (Kleene) logic: True, False, or None when it
depends on what is unknown. A failed condition that is still False with those unknown cannot be put right by the
person; one that becomes None can.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from catalog.policy.expressions import Condition, attribute_path, resolve

# What a person can change, or ask to have changed: paths, or prefixes ending in a dot.
CHANGEABLE: tuple[str, ...] = (
    "r.env.purpose",
    "r.env.access_method",
    "r.env.fields",
    "r.env.fields_within_approved",
    "r.env.fields_outside_approved",
    "r.env.share_basis_covers_identified",
    "r.env.agreement.",
    "r.env.pending_request.",
    "r.sub.training_current",
    "r.sub.training_expires",
    "r.sub.roles",
)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


def changeable(path: str, unknown: tuple[str, ...] = CHANGEABLE) -> bool:
    return any(path == u or (u.endswith(".") and path.startswith(u)) for u in unknown)


def partially(condition: Condition, request: Any, unknown: tuple[str, ...] = CHANGEABLE) -> bool | None:
    """The condition's truth with the `unknown` attributes unknown: True, False, or None (it depends on them)."""
    value = _compiled(condition.tree, unknown)(request)
    return None if value is UNKNOWN else bool(value)


_Partial = Callable[[Any], Any]


@lru_cache(maxsize=2048)
def _compiled(tree: ast.Expression, unknown: tuple[str, ...]) -> _Partial:
    """A condition as a function of the request, in three-valued logic. Built once per condition and set of
    unknowns (a refusal's remedies ask several conditions, under several sets), so which attributes are unknown
    and what each node does are settled once rather than on every evaluation."""
    return _compiled_node(tree.body, unknown)


def _compiled_node(node: ast.AST, unknown: tuple[str, ...]) -> _Partial:
    if isinstance(node, ast.Constant):
        constant = node.value
        return lambda request: constant
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        elements = [_compiled_node(e, unknown) for e in node.elts]

        def sequence(request: Any) -> Any:
            items = [element(request) for element in elements]
            return UNKNOWN if any(i is UNKNOWN for i in items) else items

        return sequence
    if isinstance(node, ast.Attribute):
        path = attribute_path(node)
        assert path is not None, ast.unparse(node)
        if changeable(path, unknown):
            return lambda request: UNKNOWN
        return lambda request: resolve(request, path)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        operand = _compiled_node(node.operand, unknown)

        def negation(request: Any) -> Any:
            inner = operand(request)
            return UNKNOWN if inner is UNKNOWN else not inner

        return negation
    if isinstance(node, ast.BoolOp):
        return _boolean([_compiled_node(v, unknown) for v in node.values], isinstance(node.op, ast.And))
    if isinstance(node, ast.Compare):
        return _comparison(
            _compiled_node(node.left, unknown),
            [(type(op), _compiled_node(right, unknown)) for op, right in zip(node.ops, node.comparators, strict=True)],
        )
    raise AssertionError(f"conditions do not use {type(node).__name__}")


def _boolean(operands: list[_Partial], conjunction: bool) -> _Partial:
    """`and` (conjunction) or `or` in Kleene logic: decided by a known False (True), else unknown if any is."""
    deciding = not conjunction

    def combined(request: Any) -> Any:
        values = [operand(request) for operand in operands]
        known = [bool(v) for v in values if v is not UNKNOWN]
        if deciding in known:
            return deciding
        return UNKNOWN if len(known) < len(values) else conjunction

    return combined


def _comparison(left: _Partial, steps: list[tuple[type[ast.cmpop], _Partial]]) -> _Partial:
    def compared(request: Any) -> Any:
        before = left(request)
        result: Any = True
        for op, right_of in steps:
            right = right_of(request)
            if op in (ast.In, ast.NotIn) and right is not UNKNOWN and not right:
                if op is ast.In:  # nothing is in an empty list, whatever it is
                    return False
            elif before is UNKNOWN or right is UNKNOWN:
                result = UNKNOWN if result is not False else False
            elif not _COMPARE[op](before, right):
                return False
            before = right
        return result

    return compared


__all__ = ["CHANGEABLE", "UNKNOWN", "changeable", "partially"]
