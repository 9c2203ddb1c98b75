"""Read rules compiled into store predicates, so lists are filtered inside the store query.

`read_metadata` rules decide which datasets a principal may see; the `read_*` rules of `RECORDS` decide which of
the catalog's own records (decisions, agreements, share requests, notices, people, audit events) they may read.
Conditions that read only the subject are decided here, for the principal at hand. Conditions on the object must
be comparisons of an object attribute with a constant or a subject attribute (==, !=, in, not in), joined by
and/or/not; `policy check` refuses anything else, so list filtering always means what the rules mean.

`RecordKind.resource` builds the same object attributes from a stored record for a per-item decision: the
property test in tests/policy holds the two to agreement on both backends.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from catalog.policy.attributes import Environment, RequestAttributes, Resource, Subject
from catalog.policy.expressions import Condition, attribute_path, resolve
from catalog.policy.rules import Rule
from catalog.store.query import (
    FALSE,
    TRUE,
    Cmp,
    Contains,
    Eq,
    IdIn,
    In,
    Not,
    Predicate,
    Related,
    all_of,
    any_of,
    bound,
)
from catalog.store.schema import Label, Rel

ACTION = "read_metadata"
# Dataset attributes and the stored property each one is kept in.
_STORED = {
    "r.obj.classification": "effective_classification",
    "r.obj.own_classification": "classification",
    "r.obj.owner": "owner_agency_id",
    "r.obj.status": "status",
    "r.obj.personal_data": "effective_personal_data",
}


@dataclass(frozen=True)
class RecordKind:
    """Where a kind of record keeps the attributes its read rule may use: `r.obj.person` (the person it is by or
    about; "id" for a person's own record), `r.obj.owner` (the agency that holds it) and `r.obj.parties` (the
    agencies it concerns: scalar properties, or one list property)."""

    label: Label
    person: str | None = None
    owner: str | None = None
    parties: tuple[str, ...] = ()
    parties_list: str | None = None

    def resource(self, id: str, props: dict[str, Any]) -> Resource:
        """The record as the policy sees it (`r.obj`), for a per-item decision."""
        parties = [str(props.get(p) or "") for p in self.parties]
        if self.parties_list:
            parties += [str(v) for v in props.get(self.parties_list) or []]
        person = id if self.person == "id" else str(props.get(self.person) or "") if self.person else ""
        return Resource(
            id=id,
            owner=str(props.get(self.owner) or "") if self.owner else "",
            person=person,
            parties=sorted({p for p in parties if p}),
        )


RECORDS: dict[str, RecordKind] = {
    "read_decision": RecordKind(Label.DECISION, "principal_id", "owner_agency_id", ("owner_agency_id",)),
    "read_agreement": RecordKind(
        Label.AGREEMENT, None, "provider_agency_id", ("provider_agency_id", "recipient_agency_id")
    ),
    # An agreement's public register entry (parties, purpose, dates, legal basis, particulars): not the agreement.
    "read_register": RecordKind(
        Label.AGREEMENT, None, "provider_agency_id", ("provider_agency_id", "recipient_agency_id")
    ),
    "read_share_request": RecordKind(
        Label.SHARE_REQUEST, "requester_id", "provider_agency_id", ("provider_agency_id", "recipient_agency_id")
    ),
    "read_notice": RecordKind(Label.NOTICE, "issued_by", None, (), "agency_ids"),
    "read_person": RecordKind(Label.PERSON, "id", "agency_id", ("agency_id",)),
    "read_audit": RecordKind(Label.AUDIT_EVENT, "principal_id"),
}
READ_ACTIONS = frozenset({ACTION, *RECORDS})


# Stands for the decision time in a compiled predicate; `bind_now` puts the real time in before it is used.
NOW = "\x00now"


class Untranslatable(ValueError):
    pass


def _reads_object(node: ast.AST) -> bool:
    return any((attribute_path(n) or "").startswith("r.obj.") for n in ast.walk(node) if isinstance(n, ast.Attribute))


class _Vocabulary:
    """How one kind of object's attributes become store predicates."""

    def subject_value(self, node: ast.AST, subject: RequestAttributes) -> Any:
        """The value of a constant, a list of constants, or an attribute of the subject/environment."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return tuple(self.subject_value(element, subject) for element in node.elts)
        path = attribute_path(node)
        if path and not path.startswith("r.obj."):
            return resolve(subject, path)
        raise Untranslatable(f"cannot compute {ast.unparse(node)} without the object")

    def equals(self, path: str, value: Any) -> Predicate:
        """Objects whose attribute `path` equals `value` (or is among `value`, a tuple)."""
        raise NotImplementedError

    def member(self, list_path: str, value: Any) -> Predicate:
        """Objects whose list attribute `list_path` holds `value`."""
        raise NotImplementedError

    def compare(self, node: ast.Compare, subject: RequestAttributes) -> Predicate:
        if len(node.ops) != 1:
            raise Untranslatable("chained comparisons cannot be translated")
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if isinstance(op, ast.In | ast.NotIn) and (attribute_path(right) or "").startswith("r.obj."):
            found = self.member(attribute_path(right) or "", self.subject_value(left, subject))
        elif isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
            if (attribute_path(right) or "").startswith("r.obj.") and isinstance(op, ast.Eq | ast.NotEq):
                left, right = right, left  # `value == r.obj.x` reads the same both ways
            path = attribute_path(left) or ""
            if not path.startswith("r.obj."):
                raise Untranslatable(f"{ast.unparse(node)} cannot be translated into a store query")
            found = self.equals(path, self.subject_value(right, subject))
        else:
            raise Untranslatable(f"operator {type(op).__name__} cannot be translated")
        return Not(found) if isinstance(op, ast.NotEq | ast.NotIn) else found


class _Datasets(_Vocabulary):
    def equals(self, path: str, value: Any) -> Predicate:
        if path == "r.obj.id":
            return IdIn(tuple(str(v) for v in value) if isinstance(value, tuple) else (str(value),))
        if path in _STORED:
            return In(_STORED[path], value) if isinstance(value, tuple) else Eq(_STORED[path], value)
        raise Untranslatable(f"{path} cannot be translated into a store query")

    def member(self, list_path: str, value: Any) -> Predicate:
        if not value:
            return FALSE
        if list_path == "r.obj.stewards":
            return Related(Rel.STEWARD_OF, "in", IdIn((str(value),)))
        if list_path == "r.obj.recipients":
            # An agreement counts while it is ACTIVE and inside its validity window, as in access decisions.
            active = all_of(Eq("status", "ACTIVE"), Eq("recipient_agency_id", str(value)), Cmp("valid_until", ">", NOW))
            return Related(Rel.COVERS, "in", active)
        raise Untranslatable(f"{list_path} cannot be searched in a store query")


class _Records(_Vocabulary):
    def __init__(self, kind: RecordKind) -> None:
        self.kind = kind

    def _scalar(self, prop: str | None, value: Any, empty: Any) -> Predicate:
        if prop is None:  # the kind has no such attribute: it reads as empty, whatever the record
            matches = empty in value if isinstance(value, tuple) else empty == value
            return TRUE if matches else FALSE
        values = tuple(str(v) for v in value) if isinstance(value, tuple) else (str(value),)
        if prop == "id":
            return IdIn(values)
        return In(prop, values) if len(values) > 1 else Eq(prop, values[0])

    def equals(self, path: str, value: Any) -> Predicate:
        if path == "r.obj.id":
            return self._scalar("id", value, "")
        if path == "r.obj.person":
            return self._scalar(self.kind.person, value, "")
        if path == "r.obj.owner":
            return self._scalar(self.kind.owner, value, "")
        raise Untranslatable(f"{path} is not an attribute of a {self.kind.label.value} record")

    def member(self, list_path: str, value: Any) -> Predicate:
        if list_path != "r.obj.parties":
            raise Untranslatable(f"{list_path} is not an attribute of a {self.kind.label.value} record")
        if not value:
            return FALSE
        return any_of(
            *(self._scalar(prop, value, "") for prop in self.kind.parties),
            Contains(self.kind.parties_list, str(value)) if self.kind.parties_list else None,
        )


def _vocabulary(action: str) -> _Vocabulary:
    return _Records(RECORDS[action]) if action in RECORDS else _Datasets()


def translate(node: ast.AST, subject: RequestAttributes, action: str = ACTION) -> Predicate:
    """One condition's AST as a store predicate, for this subject."""
    return _translate(node, subject, _vocabulary(action))


def _translate(node: ast.AST, subject: RequestAttributes, vocabulary: _Vocabulary) -> Predicate:
    if isinstance(node, ast.Expression):
        return _translate(node.body, subject, vocabulary)
    if not _reads_object(node):
        assert isinstance(node, ast.expr)
        code = compile(ast.Expression(node), "<condition>", "eval")
        return TRUE if eval(code, {"__builtins__": {}}, {"r": subject}) else FALSE
    if isinstance(node, ast.BoolOp):
        parts = [_translate(value, subject, vocabulary) for value in node.values]
        return all_of(*parts) if isinstance(node.op, ast.And) else any_of(*parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _translate(node.operand, subject, vocabulary)
        return FALSE if inner == TRUE else TRUE if inner == FALSE else Not(inner)
    if isinstance(node, ast.Compare):
        return vocabulary.compare(node, subject)
    raise Untranslatable(f"{ast.unparse(node)} cannot be translated into a store query")


def subject_only(sub: Subject, action: str = ACTION) -> RequestAttributes:
    return RequestAttributes(sub=sub, obj=Resource(id=""), env=Environment(action=action))


def read_predicate(rules: list[Rule], sub: Subject, action: str = ACTION) -> Predicate:
    """What `sub` may read under `action`: some allow rule's conditions all hold, and no deny rule's do."""
    subject = subject_only(sub, action)
    vocabulary = _vocabulary(action)
    allows: list[Predicate] = []
    denies: list[Predicate] = []
    for rule in rules:
        if action not in rule.actions:
            continue
        predicate = all_of(*(_translate(c.tree, subject, vocabulary) for c in rule.conditions), _scope(rule, action))
        (allows if rule.effect == "allow" else denies).append(predicate)
    return all_of(any_of(*allows), *(Not(d) for d in denies if d != FALSE))


def visibility_predicate(rules: list[Rule], sub: Subject) -> Predicate:
    """Datasets `sub` may see (read_metadata)."""
    return read_predicate(rules, sub, ACTION)


def bind_now(predicate: Predicate, now: str) -> Predicate:
    """The predicate with the decision time in place of NOW: a `Bound`, so a store compiles the predicate once
    per reader and passes the time as a parameter."""
    return bound(predicate, NOW, now)


def _scope(rule: Rule, action: str) -> Predicate | None:
    parts: list[Predicate] = []
    for kind, value in rule.scope:
        if kind == "dataset" and action == ACTION:
            parts.append(IdIn((value,)))
        elif kind == "owner" and action == ACTION:
            parts.append(Eq("owner_agency_id", value))
        else:
            raise Untranslatable("read_metadata rules may be scoped by dataset or owner only; other reads not at all")
    return all_of(*parts) if parts else None


def check_translatable(rules: list[Rule]) -> None:
    """Raise Untranslatable (naming the rule) if a read rule cannot become a store query."""
    probe = Subject(id="probe", agency="probe-agency", roles=[])
    for rule in rules:
        for action in sorted(READ_ACTIONS & set(rule.actions)):
            for condition in rule.conditions:
                try:
                    translate(condition.tree, subject_only(probe, action), action)
                except Untranslatable as exc:
                    raise Untranslatable(
                        f"{rule.source}:{rule.line} rule {rule.id!r}: condition {condition.name!r}: {exc}"
                    ) from None
            try:
                _scope(rule, action)
            except Untranslatable as exc:
                raise Untranslatable(f"{rule.source}:{rule.line} rule {rule.id!r}: {exc}") from None


__all__ = [
    "READ_ACTIONS",
    "RECORDS",
    "Condition",
    "RecordKind",
    "check_translatable",
    "read_predicate",
    "translate",
    "visibility_predicate",
]
