"""Rule conditions: a small, safe expression language over request attributes (`r.sub`, `r.obj`, `r.env`).

Conditions are Python-like, as in Casbin's ABAC matchers: `r.env.purpose in r.obj.permitted_purposes`,
`'ANALYST' in r.sub.roles and r.sub.training_current`. Casbin's `&&`, `||` and `!` are accepted too. Only
comparisons, boolean logic, literals and attribute paths are allowed; anything else is refused when the policy
loads. Each condition is compiled once, and the attribute values it read are reported with its result.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from catalog.policy.attributes import KNOWN_ATTRIBUTES

_CASBIN_OPERATORS = {"&&": " and ", "||": " or "}
_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.Name,
    ast.Load,
    ast.Attribute,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Set,
)


# The globals a condition runs with: no builtins at all. eval() leaves a globals dict that has `__builtins__` as is.
_NO_BUILTINS: dict[str, Any] = {"__builtins__": {}}


class ExpressionError(ValueError):
    """A condition that is not valid. The message says what is wrong; the loader adds file, line and rule."""


@dataclass(frozen=True)
class Condition:
    name: str
    source: str
    code: Any
    attributes: tuple[str, ...]  # the attribute paths it reads, e.g. "r.env.purpose"
    tree: ast.Expression  # kept so read_metadata rules can be translated into store predicates
    getters: tuple[tuple[str, Callable[[Any], Any]], ...] = ()

    def evaluate(self, request: Any) -> tuple[bool, dict[str, Any]]:
        """The condition's truth on `request`, and the attribute values it saw."""
        seen = {path: get(request) for path, get in self.getters}
        return self.holds(request), seen

    def holds(self, request: Any) -> bool:
        """The condition's truth on `request`."""
        return bool(eval(self.code, _NO_BUILTINS, {"r": request}))


def python_operators(source: str) -> str:
    """`source` with Casbin's `&&`, `||` and `!` spelled as Python's `and`, `or` and `not`, outside quoted strings.

    A small scanner rather than a pattern: a string literal such as `'A && !B'` must keep its text.
    """
    out: list[str] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char in "'\"":
            end = i + 1
            while end < len(source) and source[end] != char:
                end += 2 if source[end] == "\\" else 1
            out.append(source[i : end + 1])  # an unterminated string is left for the parser to report
            i = end + 1
        elif source[i : i + 2] in _CASBIN_OPERATORS:
            out.append(_CASBIN_OPERATORS[source[i : i + 2]])
            i += 2
        elif char == "!" and source[i + 1 : i + 2] != "=":
            out.append(" not ")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def resolve(request: Any, path: str) -> Any:
    value = request
    for part in path.split(".")[1:]:
        value = getattr(value, part)
    return value


def attribute_path(node: ast.AST) -> str | None:
    """The dotted path an attribute node reads (`r.env.purpose`), or None when it is not under `r`."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id == "r":
        return ".".join(["r", *reversed(parts)])
    return None


def compile_condition(name: str, source: str) -> Condition:
    """Parse, check and compile one condition. Raises ExpressionError naming the problem."""
    try:
        tree = ast.parse(python_operators(source).strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"condition {name!r} is not a valid expression: {exc.msg}") from None
    except (RecursionError, MemoryError):  # the parser's own stack, before any depth we could check
        raise ExpressionError(f"condition {name!r} nests too deeply") from None
    paths: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"condition {name!r} uses {type(node).__name__}, which conditions may not use")
        if isinstance(node, ast.Name) and node.id != "r":
            raise ExpressionError(f"condition {name!r} names {node.id!r}; attributes start with r.sub, r.obj or r.env")
        if isinstance(node, ast.Attribute):
            path = attribute_path(node)
            if path is None:
                raise ExpressionError(f"condition {name!r} has an attribute that is not under r")
            paths.append(path)
    # Keep only the full paths (r.env.agreement.status, not also r.env.agreement and r.env).
    full = sorted({p for p in paths if not any(o.startswith(p + ".") for o in paths)})
    for path in full:
        if path not in KNOWN_ATTRIBUTES:
            raise ExpressionError(f"condition {name!r} reads unknown attribute {path}")
    getters = tuple((path, attrgetter(path.removeprefix("r."))) for path in full)
    try:
        code = compile(tree, f"<condition {name}>", "eval")
    except (RecursionError, MemoryError):
        raise ExpressionError(f"condition {name!r} nests too deeply") from None
    return Condition(name, source, code, tuple(full), tree, getters)
