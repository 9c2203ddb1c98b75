"""Hidden is missing: what a reader may not see never reaches them, not even its id.

A dataset the reader may not see is shown as an opaque, stable stand-in (`redacted-<hmac>`) wherever another
record names it: the upstream path of an effective classification (`restrictedBy`), a lineage graph, a correction
notice, the reader's own audit events, the reasons of a decision. A former recipient, who asked about a dataset
under an agreement since revoked or expired, keeps the outcome and the reason of their decisions but not the
dataset's attributes. Oversight roles (whoever may see every dataset) read everything as recorded.

Each method reads visibility for a whole batch in one store query, and none when the reader sees everything.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from catalog.domain import (
    AuditEvent,
    ConditionResult,
    CorrectionNotice,
    Dataset,
    Decision,
    DenyKind,
    Outcome,
    RuleEvaluation,
)
from catalog.policy.reasons import closest, explicit_reason, implicit_reason
from catalog.policy.testing import attributes_from
from catalog.principal import Principal
from catalog.services.context import ServiceContext
from catalog.services.decisions import LoadedPolicy
from catalog.store.query import TRUE, IdIn, Not, all_of
from catalog.store.schema import Label

PREFIX = "redacted-"
_VIA, _THEN = " via ", " -> "


@dataclass
class PathStep:
    """One step of the path that restricts a dataset: a dataset (maybe redacted) or a process."""

    id: str
    kind: str  # DATASET or PROCESS
    redacted: bool = False


def path_ids(restricted_by: str | None) -> list[str]:
    """`origin via p-1 -> mid -> p-2` as its ids, datasets at even positions and processes at odd ones."""
    if not restricted_by or _VIA not in restricted_by:
        return [restricted_by] if restricted_by else []
    origin, _, rest = restricted_by.partition(_VIA)
    return [origin, *[part.strip() for part in rest.split("->") if part.strip()]]


def _path_text(ids: Sequence[str]) -> str:
    return f"{ids[0]}{_VIA}{_THEN.join(ids[1:])}" if len(ids) > 1 else ids[0]


class Redaction:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.policy = ctx.decisions
        self._key = ctx.settings.redaction_secret().encode()

    def redact(self, id: str) -> str:
        """An opaque stand-in for a hidden node: stable, but not reversible without the server's key."""
        return PREFIX + hmac.new(self._key, id.encode(), hashlib.sha256).hexdigest()[:16]

    def sees_all(self, principal: Principal) -> bool:
        return self.policy.sees_everything(principal)

    def visible(self, principal: Principal, ids: Sequence[str]) -> set[str]:
        """Which of these datasets `principal` may see, filtered in the store (no query when it sees all)."""
        if not ids or self.sees_all(principal):
            return set(ids)
        found = self.ctx.store.read(lambda tx: self.policy.visible(tx, principal, Label.DATASET, ids))
        return set(found)

    def hidden(self, principal: Principal, candidates: Iterable[str]) -> set[str]:
        """Which of these strings are ids of datasets that exist and `principal` may not see (one query)."""
        ids = sorted({c for c in candidates if c})
        if not ids:
            return set()
        visibility = self.policy.visible_datasets(principal)
        if visibility == TRUE:
            return set()
        where = all_of(IdIn(tuple(ids)), Not(visibility))
        page = self.ctx.store.read(lambda tx: tx.find_nodes(Label.DATASET, where, first=len(ids)))
        return {id for id, _ in page.items}

    # -- upstream paths ---------------------------------------------------------------------------------------

    def steps(self, principal: Principal, restricted_by: str | None) -> list[PathStep]:
        """The path an effective value came down, origin first, with datasets the principal may not see redacted."""
        ids = path_ids(restricted_by)
        visible = self.visible(principal, ids[0::2])
        return [
            PathStep(id, "PROCESS") if i % 2 else
            PathStep(id, "DATASET") if id in visible else PathStep(self.redact(id), "DATASET", redacted=True)
            for i, id in enumerate(ids)
        ]

    def paths(self, principal: Principal, paths: Sequence[str]) -> dict[str, str]:
        """Each `restrictedBy` path as the principal may read it, for many paths in one query."""
        hidden = self.hidden(principal, (id for path in paths for id in path_ids(path)[0::2]))
        return {path: self._path(path, hidden) for path in paths}

    def _path(self, path: str, hidden: set[str]) -> str:
        ids = path_ids(path)
        if not any(id in hidden for id in ids[0::2]):
            return path
        return _path_text([self.redact(id) if i % 2 == 0 and id in hidden else id for i, id in enumerate(ids)])

    def datasets(self, principal: Principal, datasets: list[Dataset]) -> list[Dataset]:
        """Datasets with their upstream paths redacted for the principal."""
        paths = self.paths(principal, [d.restricted_by for d in datasets if d.restricted_by])
        return [
            d.model_copy(update={"restricted_by": paths[d.restricted_by]}) if d.restricted_by else d for d in datasets
        ]

    # -- decisions -------------------------------------------------------------------------------------------

    def decisions(
        self, principal: Principal, decisions: list[Decision], *, visible: set[str] | None = None
    ) -> list[Decision]:
        """Decisions as `principal` may read them. `visible` names datasets already known to be visible."""
        paths = {str(d.attributes.get("obj", {}).get("restricted_by") or "") for d in decisions}
        candidates = {d.request.dataset_id or "" for d in decisions} | {
            id for path in paths for id in path_ids(path)[0::2]
        }
        unknown = {id for id in candidates - (visible or set()) if id}
        # Nothing they might not see (their own check on a dataset they see, with no upstream path): as it is.
        if not unknown or self.sees_all(principal):
            return decisions
        hidden = self.hidden(principal, unknown)
        return [self._decision(d, hidden) for d in decisions]

    def _decision(self, decision: Decision, hidden: set[str]) -> Decision:
        path = str(decision.attributes.get("obj", {}).get("restricted_by") or "")
        shown_path = self._path(path, hidden) if path else path
        reason = decision.reason.replace(path, shown_path) if path and shown_path != path else decision.reason
        if decision.request.dataset_id not in hidden:
            if reason == decision.reason:
                return decision
            attributes = {**decision.attributes, "obj": {**decision.attributes["obj"], "restricted_by": shown_path}}
            return decision.model_copy(update={"reason": reason, "attributes": attributes})
        # A former recipient: the outcome, and the reason and remedies as far as they rest on nothing hidden; no
        # attribute of the dataset beyond its id and owner.
        policy = self.policy.policy_at(decision.policy_version)
        return decision.model_copy(
            update={
                "reason": self._reason_without_object(decision, policy),
                "remedies": [r for r in decision.remedies if not _names_object(policy, r.conditions, "remedy")],
                "attributes": {key: value for key, value in decision.attributes.items() if key != "obj"},
                "evaluations": [_without_object(e) for e in decision.evaluations],
                "safes": [s.model_copy(update={"evidence": []}) for s in decision.safes],
            }
        )

    def _reason_without_object(self, decision: Decision, policy: LoadedPolicy) -> str:
        """The decision's reason written again without the sentences that name something hidden of the dataset."""
        request = attributes_from(decision.attributes, f"decision {decision.id}")
        if decision.deny_kind == DenyKind.EXPLICIT and decision.determining_rules:
            rule_id = decision.determining_rules[0]
            evaluation = next(e for e in decision.evaluations if e.rule_id == rule_id)
            return explicit_reason(policy.by_id[rule_id], _keeping(policy, evaluation), request)
        if decision.outcome == Outcome.PERMIT:
            return decision.reason
        reference = closest(decision.evaluations)
        if reference is None:
            return implicit_reason(None, None, request)
        return implicit_reason(policy.by_id[reference.rule_id], _keeping(policy, reference), request)

    # -- audit events and notices ------------------------------------------------------------------------------

    def events(self, principal: Principal, events: list[AuditEvent]) -> list[AuditEvent]:
        """Events with every hidden dataset they name redacted: in the targets and anywhere in the change."""
        if not events or self.sees_all(principal):
            return events
        candidates: set[str] = set()
        for event in events:
            candidates.update(event.target_ids)
            _strings(event.change, candidates)
        hidden = self.hidden(principal, {_dataset_part(c) for c in candidates if len(c) <= 520})
        if not hidden:
            return events
        return [
            e.model_copy(
                update={
                    "target_ids": [self._text(t, hidden) for t in e.target_ids],
                    "change": self._value(e.change, hidden),
                }
            )
            for e in events
        ]

    def notice(self, notice: CorrectionNotice, hidden: set[str]) -> CorrectionNotice:
        if notice.dataset_id not in hidden:
            return notice
        return notice.model_copy(update={"dataset_id": self.redact(notice.dataset_id)})

    def _text(self, text: str, hidden: set[str]) -> str:
        if text in hidden:
            return self.redact(text)
        dataset, sep, _ = text.partition("#")
        if sep and dataset in hidden:  # a field, `dataset#name`
            return self.redact(text)
        if _VIA in text:
            return self._path(text, hidden)
        return text

    def _value(self, value: Any, hidden: set[str]) -> Any:
        if isinstance(value, str):
            return self._text(value, hidden)
        if isinstance(value, dict):
            return {self._text(str(k), hidden): self._value(v, hidden) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(v, hidden) for v in value]
        return value


def _strings(value: Any, into: set[str]) -> None:
    """Every string in a change (keys too), and every dataset id in a path, into `into`."""
    if isinstance(value, str):
        into.add(value)
        into.update(path_ids(value)[0::2] if _VIA in value else ())
    elif isinstance(value, dict):
        for key, item in value.items():
            into.add(str(key))
            _strings(item, into)
    elif isinstance(value, list):
        for item in value:
            _strings(item, into)


def _dataset_part(candidate: str) -> str:
    return candidate.partition("#")[0]


# What a former recipient still knows of a dataset: its id and who holds it.
_KNOWN_OF_OBJECT = frozenset({"r.obj.id", "r.obj.owner"})


def _names_object(policy: LoadedPolicy, names: list[str], sentence: str) -> bool:
    """Whether a sentence (`because` or `remedy`) of any of these rule/condition names could name something of
    the dataset beyond its id and owner."""
    for name in names:
        rule_id, _, condition = name.partition("/")
        rule = policy.by_id.get(rule_id)
        if rule is None:
            continue
        options = getattr(rule.wording(condition), sentence)
        if sentence == "remedy" and rule.effect == "deny":
            options = (*options, *rule.remedy)  # a deny rule's remedy is its own
        paths = {path for option in options for path in option.text.paths}
        if any(path.startswith("r.obj.") and path not in _KNOWN_OF_OBJECT for path in paths):
            return True
    return False


def _keeping(policy: LoadedPolicy, evaluation: RuleEvaluation) -> RuleEvaluation:
    """The evaluation without the conditions whose sentences name hidden attributes of the dataset."""
    named = [(c, f"{evaluation.rule_id}/{c.name}") for c in evaluation.conditions]
    kept = [c for c, name in named if not _names_object(policy, [name], "because")]
    return evaluation.model_copy(update={"conditions": kept})


def _without_object(evaluation: RuleEvaluation) -> RuleEvaluation:
    """A rule evaluation with the values it read of the dataset left out."""
    conditions = [
        ConditionResult(
            name=c.name,
            passed=c.passed,
            seen={k: v for k, v in c.seen.items() if not k.startswith("r.obj.")},
            expected=c.expected,
        )
        for c in evaluation.conditions
    ]
    return evaluation.model_copy(update={"conditions": conditions})


__all__ = ["PathStep", "Redaction", "path_ids"]
