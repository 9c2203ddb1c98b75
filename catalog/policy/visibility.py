"""read_metadata rules compiled into store predicates, so lists are filtered inside the store query.

Conditions that read only the subject are decided here, for the principal at hand. Conditions on the dataset
must be comparisons of a dataset attribute with a constant or a subject attribute (==, !=, in, not in), joined
by and/or/not; `policy check` refuses anything else, so list filtering always means what the rules mean.
"""

from __future__ import annotations

import ast
from typing import Any

from catalog.policy.attributes import Environment, RequestAttributes, Resource, Subject
from catalog.policy.expressions import Condition, resolve
from catalog.policy.rules import Rule
from catalog.store.query import FALSE, TRUE, And, Cmp, Eq, IdIn, In, Not, Or, Predicate, Related, all_of, any_of
from catalog.store.schema import Rel

ACTION = "read_metadata"
# Dataset attributes and the stored property each one is kept in.
_STORED = {
    "r.obj.classification": "effective_classification",
    "r.obj.own_classification": "classification",
    "r.obj.owner": "owner_agency_id",
    "r.obj.status": "status",
    "r.obj.personal_data": "effective_personal_data",
}


# Stands for the decision time in a compiled predicate; `bind_now` puts the real time in before it is used.
NOW = "\x00now"


class Untranslatable(ValueError):
    pass


def _subject_value(node: ast.AST, subject: RequestAttributes) -> Any:
    """The value of a constant, a list of constants, or an attribute of the subject/environment."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return tuple(_subject_value(element, subject) for element in node.elts)
    path = _path(node)
    if path and not path.startswith("r.obj."):
        return resolve(subject, path)
    raise Untranslatable(f"cannot compute {ast.unparse(node)} without the dataset")


def _path(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join(["r", *reversed(parts)]) if isinstance(node, ast.Name) and node.id == "r" else None


def _reads_dataset(node: ast.AST) -> bool:
    return any((_path(n) or "").startswith("r.obj.") for n in ast.walk(node) if isinstance(n, ast.Attribute))


def _membership(list_path: str, value: Any) -> Predicate:
    if not value:
        return FALSE
    if list_path == "r.obj.stewards":
        return Related(Rel.STEWARD_OF, "in", IdIn((str(value),)))
    if list_path == "r.obj.recipients":
        # An agreement counts while it is ACTIVE and inside its validity window, as in access decisions.
        active = (Eq("status", "ACTIVE"), Eq("recipient_agency_id", str(value)), Cmp("valid_until", ">", NOW))
        return Related(Rel.COVERS, "in", And(active))
    raise Untranslatable(f"{list_path} cannot be searched in a store query")


def _compare(node: ast.Compare, subject: RequestAttributes) -> Predicate:
    if len(node.ops) != 1:
        raise Untranslatable("chained comparisons cannot be translated")
    op, left, right = node.ops[0], node.left, node.comparators[0]
    left_path, right_path = _path(left) or "", _path(right) or ""
    if isinstance(op, ast.In | ast.NotIn) and right_path in ("r.obj.stewards", "r.obj.recipients"):
        found = _membership(right_path, _subject_value(left, subject))
        return Not(found) if isinstance(op, ast.NotIn) else found
    if right_path in _STORED and isinstance(op, ast.Eq | ast.NotEq):
        left, right, left_path = right, left, right_path  # `value == r.obj.x` reads the same both ways
    if left_path == "r.obj.id":
        value = _subject_value(right, subject)
        ids = tuple(str(v) for v in value) if isinstance(value, tuple) else (str(value),)
        matched: Predicate = IdIn(ids)
    elif left_path in _STORED:
        prop, value = _STORED[left_path], _subject_value(right, subject)
        matched = In(prop, value) if isinstance(value, tuple) else Eq(prop, value)
    else:
        raise Untranslatable(f"{ast.unparse(node)} cannot be translated into a store query")
    if isinstance(op, ast.Eq | ast.In):
        return matched
    if isinstance(op, ast.NotEq | ast.NotIn):
        return Not(matched)
    raise Untranslatable(f"operator {type(op).__name__} cannot be translated")


def translate(node: ast.AST, subject: RequestAttributes) -> Predicate:
    """One condition's AST as a store predicate, for this subject."""
    if isinstance(node, ast.Expression):
        return translate(node.body, subject)
    if not _reads_dataset(node):
        assert isinstance(node, ast.expr)
        code = compile(ast.Expression(node), "<condition>", "eval")
        return TRUE if eval(code, {"__builtins__": {}}, {"r": subject}) else FALSE
    if isinstance(node, ast.BoolOp):
        parts = [translate(value, subject) for value in node.values]
        return all_of(*parts) if isinstance(node.op, ast.And) else any_of(*parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = translate(node.operand, subject)
        return FALSE if inner == TRUE else TRUE if inner == FALSE else Not(inner)
    if isinstance(node, ast.Compare):
        return _compare(node, subject)
    raise Untranslatable(f"{ast.unparse(node)} cannot be translated into a store query")


def subject_only(sub: Subject) -> RequestAttributes:
    return RequestAttributes(sub=sub, obj=Resource(id=""), env=Environment(action=ACTION))


def visibility_predicate(rules: list[Rule], sub: Subject) -> Predicate:
    """Datasets `sub` may see: some allow rule's conditions all hold, and no deny rule's do."""
    subject = subject_only(sub)
    allows: list[Predicate] = []
    denies: list[Predicate] = []
    for rule in rules:
        if ACTION not in rule.actions:
            continue
        predicate = all_of(*(translate(c.tree, subject) for c in rule.conditions), _scope(rule))
        (allows if rule.effect == "allow" else denies).append(predicate)
    return all_of(any_of(*allows), *(Not(d) for d in denies if d != FALSE))


def bind_now(predicate: Predicate, now: str) -> Predicate:
    """The predicate with the decision time in place of NOW."""
    match predicate:
        case Cmp(prop=prop, op=op, value=value) if value == NOW:
            return Cmp(prop, op, now)
        case And(parts=parts):
            return And(tuple(bind_now(p, now) for p in parts))
        case Or(parts=parts):
            return Or(tuple(bind_now(p, now) for p in parts))
        case Not(part=part):
            return Not(bind_now(part, now))
        case Related(rel=rel, direction=direction, where=where) if where is not None:
            return Related(rel, direction, bind_now(where, now))
    return predicate


def _scope(rule: Rule) -> Predicate | None:
    parts: list[Predicate] = []
    for kind, value in rule.scope:
        if kind == "dataset":
            parts.append(IdIn((value,)))
        elif kind == "owner":
            parts.append(Eq("owner_agency_id", value))
        else:
            raise Untranslatable("read_metadata rules may be scoped by dataset or owner only")
    return all_of(*parts) if parts else None


def check_translatable(rules: list[Rule]) -> None:
    """Raise Untranslatable (naming the rule) if a read_metadata rule cannot become a store query."""
    probe = Subject(id="probe", agency="probe-agency", roles=[])
    for rule in rules:
        if ACTION not in rule.actions:
            continue
        for condition in rule.conditions:
            try:
                translate(condition.tree, subject_only(probe))
            except Untranslatable as exc:
                raise Untranslatable(
                    f"{rule.source}:{rule.line} rule {rule.id!r}: condition {condition.name!r}: {exc}"
                ) from None
        try:
            _scope(rule)
        except Untranslatable as exc:
            raise Untranslatable(f"{rule.source}:{rule.line} rule {rule.id!r}: {exc}") from None


__all__ = ["Condition", "check_translatable", "translate", "visibility_predicate"]
