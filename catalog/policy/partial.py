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
    value = _eval(condition.tree.body, request, unknown)
    return None if value is UNKNOWN else bool(value)


def _eval(node: ast.AST, request: Any, unknown: tuple[str, ...]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_eval(e, request, unknown) for e in node.elts]
        return UNKNOWN if any(i is UNKNOWN for i in items) else items
    if isinstance(node, ast.Attribute):
        path = attribute_path(node)
        assert path is not None, ast.unparse(node)
        return UNKNOWN if changeable(path, unknown) else resolve(request, path)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _eval(node.operand, request, unknown)
        return UNKNOWN if inner is UNKNOWN else not inner
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, request, unknown) for v in node.values]
        known = [bool(v) for v in values if v is not UNKNOWN]
        if isinstance(node.op, ast.And):
            return False if False in known else UNKNOWN if len(known) < len(values) else True
        return True if True in known else UNKNOWN if len(known) < len(values) else False
    if isinstance(node, ast.Compare):
        left = _eval(node.left, request, unknown)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, request, unknown)
            if isinstance(op, ast.In | ast.NotIn) and right is not UNKNOWN and not right:
                if isinstance(op, ast.In):  # nothing is in an empty list, whatever it is
                    return False
            elif left is UNKNOWN or right is UNKNOWN:
                result = UNKNOWN if result is not False else False
            elif not _COMPARE[type(op)](left, right):
                return False
            left = right
        return result
    raise AssertionError(f"conditions do not use {type(node).__name__}")


__all__ = ["CHANGEABLE", "UNKNOWN", "changeable", "partially"]
