"""The one place that decides and records: every service asks it, none builds policy inputs itself.

Facts come from the graph in the caller's transaction (the dataset with its stewards, fields and agreements, the
person asking as the catalog records them; `services/facts.py` reads them), become the policy's subject, resource
and environment, and the engine decides. The Decision says what was asked, the outcome and every reason, under
which policy version.

A permitted action's decision is recorded with its audit event in the caller's transaction, beside the change it
allows. A refused one raises `Refused` inside the unit of work, so the work rolls back and nothing partial is
written; `Decisions.write` then records the refusal in a transaction of its own and answers FORBIDDEN. If that
recording fails the caller gets UNAVAILABLE: a decision is never answered without its record (fail closed).

Reads go through the same policy: `visible_datasets` and `readable` compile the read rules into store predicates,
so a list and a lookup by id cannot disagree.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import TypeVar

from catalog.audit.append import SEQUENCE, append_event, canonical, digest
from catalog.domain import AccessMethod, AccessRequest, AgreementStatus, Decision, DenyKind, Outcome
from catalog.errors import AlreadyExists, Forbidden, NotFound
from catalog.policy.attributes import AgreementView, Environment, RequestAttributes, Resource, Subject
from catalog.policy.engine import Evaluation, LoadedPolicy, PolicyEngine, compile_policy
from catalog.policy.visibility import RECORDS, bind_now, read_predicate
from catalog.principal import ANONYMOUS, SYSTEM, Principal
from catalog.services.context import new_id, the_one
from catalog.services.facts import DatasetFacts, read_facts, subject_of
from catalog.services.idempotency import current_request, keyed
from catalog.store.base import GraphStore, GraphTx, Props
from catalog.store.query import TRUE, IdIn, Predicate, all_of
from catalog.store.records import timestamp, to_props
from catalog.store.schema import Label, Rel

T = TypeVar("T")


def waiting_for(required: list[str], filled: list[str]) -> list[str]:
    """The approvals a share request still waits for, as a person reads them."""
    kinds = {"steward": "a steward of {}", "second-approver": "a second approver of {}"}
    wanted = [r for r in required if r not in filled]
    return [kinds.get(r.partition(":")[0], "{}").format(r.partition(":")[2] or r) for r in wanted]


OFFER_PARTY = "offer:any-partner"  # the hypothetical recipient of an offer: no agency has this id


@dataclass
class Offer:
    """What the access policy would grant on a dataset (`Decisions.offer`): to anyone (`open`, with its
    obligations), or, per access method, for the purposes it allows, with that method's obligations."""

    open: bool
    obligations: list[str] = field(default_factory=list)
    purposes_by_method: dict[str, list[str]] = field(default_factory=dict)
    obligations_by_method: dict[str, list[str]] = field(default_factory=dict)


# -- refusals ---------------------------------------------------------------------------------------------------


class Refused(Exception):
    """The policy refused a unit of work. Raised inside the work so it rolls back; `Decisions.write` records the
    decisions afterwards, in a transaction of their own, and answers Forbidden."""

    def __init__(self, principal: Principal, decisions: list[Decision], what: str) -> None:
        super().__init__(what)
        self.principal, self.decisions, self.what = principal, decisions, what

    def message(self) -> str:
        """The first explicit deny's reason, else the first deny's, with the ids of the recorded decisions."""
        denied = [d for d in self.decisions if d.outcome == Outcome.DENY]
        first = next((d for d in denied if d.deny_kind == DenyKind.EXPLICIT), denied[0] if denied else None)
        reason = first.reason if first else "refused"
        ids = ", ".join(d.id for d in self.decisions)
        rules = f"; rule {', '.join(first.determining_rules)}" if first and first.determining_rules else ""
        return f"{self.what}: {reason} (decision{'s' if len(self.decisions) > 1 else ''} {ids}{rules})"


@lru_cache(maxsize=4096)
def _readable(policy: LoadedPolicy, subject: tuple[str, str, tuple[str, ...], bool], action: str) -> Predicate:
    """Compiled once per policy version, subject and read action (a reload brings a new policy object)."""
    id, agency, roles, anonymous = subject
    return read_predicate(policy.rules, Subject(id=id, agency=agency, roles=list(roles), anonymous=anonymous), action)


class Decisions:
    """Decides every action under the policy and records the decision with its audit event."""

    def __init__(
        self, store: GraphStore, engine: PolicyEngine, scheme: Sequence[str], clock: Callable[[], datetime]
    ) -> None:
        self.store, self.engine, self.scheme, self.clock = store, engine, list(scheme), clock
        self._kept: set[str] = set()  # policy versions known to be kept in the store

    @property
    def policy(self) -> LoadedPolicy:
        return self.engine.policy

    def policy_at(self, version: str | None = None) -> LoadedPolicy:
        """The policy of `version` (the one in force when None): served now, or kept in the store when a decision
        was first made under it. NotFound when no decision was ever made under that version."""
        if version is None:
            return self.engine.policy
        installed = self.engine.installed(version)
        if installed is not None:
            return installed
        props = self.store.read(lambda tx: tx.get_node(Label.POLICY_VERSION, version))
        if props is None:
            raise NotFound("PolicyVersion", version)
        files = tuple((str(f["path"]), str(f["text"])) for f in json.loads(str(props["files_json"])))
        return compile_policy(str(props["model_text"]), files)

    # -- reads ------------------------------------------------------------------------------------------------

    def readable(self, principal: Principal, action: str) -> Predicate:
        """What `principal` may read under a read action (`read_metadata` or one of `RECORDS`), as a predicate.

        The principal's roles are the catalog's record of them: the API builds principals from the store.
        """
        key = (principal.id, principal.agency_id or "", tuple(sorted(r.value for r in principal.roles)))
        predicate = _readable(self.policy, (*key, principal.anonymous), action)
        return bind_now(predicate, timestamp(self.clock())) if action == "read_metadata" else predicate

    def visible_datasets(self, principal: Principal) -> Predicate:
        """The datasets whose metadata `principal` may read."""
        return self.readable(principal, "read_metadata")

    def sees_everything(self, principal: Principal) -> bool:
        """Whether `principal` may read every dataset (nothing can be hidden from them)."""
        return self.visible_datasets(principal) == TRUE

    def visible(self, tx: GraphTx, principal: Principal, label: Label, ids: Sequence[str]) -> dict[str, Props]:
        """Which of `ids` the principal may read, with their properties, filtered in the store."""
        if not ids:
            return {}
        action = "read_metadata" if label == Label.DATASET else _action_for(label)
        where = all_of(IdIn(tuple(dict.fromkeys(ids))), self.readable(principal, action))
        return dict(tx.find_nodes(label, where, first=len(set(ids))).items)

    def require_visible(self, tx: GraphTx, principal: Principal, label: Label, id: str) -> Props:
        """The node, or NotFound when it does not exist or the principal may not read it: both answer alike."""
        return the_one(self.visible(tx, principal, label, [id]), label.value, id)

    # -- deciding ---------------------------------------------------------------------------------------------

    def subject(self, tx: GraphTx, principal: Principal, now: datetime, person: Props | None = None) -> Subject:
        """The subject as the store records them now (reads the person node unless given)."""
        if person is None and not principal.anonymous:
            person = tx.get_node(Label.PERSON, principal.id)
        return subject_of(principal, person, now)

    def permits(self, attributes: RequestAttributes) -> bool:
        """Whether the policy permits `attributes`, without a Decision (a per-item read check)."""
        return self.engine.permits(attributes)

    def offer(self, facts: DatasetFacts, now: datetime) -> Offer:
        """What the access policy would grant on a dataset, asked without a Decision (nothing is recorded).

        First anyone, with no agreement (open data). Failing that, a trained analyst of another agency under an
        agreement made to measure (active, covering the purpose and method, allowing the data's sensitivity and
        identified records), for each permitted purpose and access method: the Five Safes the policy still checks
        (purpose, lawful basis, settings, outputs, explicit denials) decide what is offered, with its obligations.
        """
        resource, stamp = facts.resource(now, self.scheme), timestamp(now)
        anyone = self.engine.decide(RequestAttributes(Subject(id="", anonymous=True), resource, Environment("access")))
        if anyone.outcome == Outcome.PERMIT:
            return Offer(open=True, obligations=anyone.obligations)
        partner = Subject(id=OFFER_PARTY, agency=OFFER_PARTY, roles=["ANALYST"], training_current=True)
        granted: dict[str, list[str]] = {}
        obligations: dict[str, list[str]] = {}
        for method in AccessMethod:
            for purpose in resource.permitted_purposes:
                terms = AgreementView(
                    id=OFFER_PARTY,
                    status=AgreementStatus.ACTIVE.value,
                    active=True,
                    recipient=OFFER_PARTY,
                    purpose=purpose,
                    covers_purpose=True,
                    access_method=method.value,
                    max_classification_rank=resource.classification_rank,
                    max_classification=resource.classification,
                    max_personal_data_rank=resource.personal_data_rank,
                    allows_identified=True,
                )
                env = Environment("access", purpose, method.value, now=stamp, agreement=terms, recipient=OFFER_PARTY)
                evaluation = self.engine.decide(RequestAttributes(partner, resource, env))
                if evaluation.outcome == Outcome.PERMIT:
                    granted.setdefault(method.value, []).append(purpose)
                    kept = obligations.setdefault(method.value, [])
                    kept.extend(o for o in evaluation.obligations if o not in kept)
        return Offer(open=False, purposes_by_method=granted, obligations_by_method=obligations)

    def decide(
        self,
        principal: Principal,
        request: AccessRequest,
        attributes: RequestAttributes,
        now: datetime,
        agreement_id: str | None = None,
    ) -> Decision:
        """Run the engine on `attributes`; the Decision, not yet recorded."""
        return self.decision_of(principal, request, attributes, self.engine.decide(attributes), now, agreement_id)

    def decision_of(
        self,
        principal: Principal,
        request: AccessRequest,
        attributes: RequestAttributes,
        evaluation: Evaluation,
        now: datetime,
        agreement_id: str | None = None,
    ) -> Decision:
        """The Decision recording `evaluation` of `attributes`: what was asked, the outcome and every reason."""
        return Decision(
            id=new_id("dec", now),
            at=now,
            principal_id=principal.id,
            request=request,
            outcome=evaluation.outcome,
            deny_kind=evaluation.deny_kind,
            determining_rules=evaluation.determining_rules,
            evaluations=evaluation.evaluations,
            safes=evaluation.safes,
            obligations=evaluation.obligations,
            reason=evaluation.reason,
            remedies=evaluation.remedies,
            policy_version=evaluation.policy_version,
            engine_version=evaluation.engine_version,
            attributes=attributes.snapshot(),
            agreement_id=agreement_id,
        )

    def decide_one(
        self,
        tx: GraphTx,
        principal: Principal,
        request: AccessRequest,
        obj: Resource,
        now: datetime,
        env: Environment | None = None,
    ) -> Decision:
        """Decide one action on `obj` by the principal as the store records them; not yet recorded."""
        env = env or Environment(action=request.action)
        env.action, env.now = request.action, env.now or timestamp(now)
        attributes = RequestAttributes(self.subject(tx, principal, now), obj, env)
        return self.decide(principal, request, attributes, now)

    def authorize(
        self,
        tx: GraphTx,
        principal: Principal,
        request: AccessRequest,
        obj: Resource,
        now: datetime,
        *,
        env: Environment | None = None,
    ) -> Decision:
        """Decide one action and record a PERMIT in `tx`; raise Refused otherwise (the work rolls back)."""
        decision = self.decide_one(tx, principal, request, obj, now, env)
        return self.require(tx, principal, [decision], request.action)[0]

    def datasets(self, tx: GraphTx, dataset_ids: Sequence[str]) -> dict[str, DatasetFacts]:
        """The policy's view of each dataset, in one round trip. Raises NotFound for a dataset that is gone."""
        facts, _ = read_facts(tx, dataset_ids, ANONYMOUS)
        missing = [id for id in dataset_ids if id not in facts]
        if missing:
            raise NotFound("Dataset", missing[0])
        return facts

    def decide_each(
        self,
        tx: GraphTx,
        principal: Principal,
        action: str,
        datasets: dict[str, DatasetFacts],
        env: Callable[[str], Environment],
        now: datetime,
        *,
        is_requester: bool = False,
        agreement_id: str | None = None,
    ) -> list[Decision]:
        """One decision per dataset (the sharing workflow's shape), not yet recorded."""
        subject = replace(self.subject(tx, principal, now), is_requester=is_requester)
        decisions = []
        for dataset_id, facts in datasets.items():
            attributes = RequestAttributes(subject, facts.resource(now, self.scheme), env(dataset_id))
            method = attributes.env.access_method
            request = AccessRequest(
                action=action,
                dataset_id=dataset_id,
                purpose=attributes.env.purpose or None,
                access_method=AccessMethod(method) if method else None,
                fields=attributes.env.fields,
            )
            decisions.append(self.decide(principal, request, attributes, now, agreement_id))
        return decisions

    def require(self, tx: GraphTx, principal: Principal, decisions: list[Decision], what: str) -> list[Decision]:
        """Record the decisions in `tx` if every one permits; else raise Refused (the work rolls back)."""
        if any(d.outcome == Outcome.DENY for d in decisions):
            raise Refused(principal, decisions, what)
        self.record(tx, principal, decisions)
        return decisions

    def write(self, work: Callable[[GraphTx], T]) -> T:
        """Run `work` in a write transaction. If the policy refused it, record the refusing decisions in their own
        transaction and raise Forbidden with the reason (UNAVAILABLE if they cannot be recorded).

        In a request with an idempotency key (`services.idempotency`), the key and the result are stored in the
        same transaction, and a write made before under that key returns its first result instead.
        """
        keyed_request = current_request()
        unit = keyed(work, keyed_request, self.clock()) if keyed_request is not None else work
        unit = functools.partial(_chain_first, unit)
        try:
            try:
                return self.store.write(unit)
            except AlreadyExists as exc:
                if keyed_request is None or exc.kind != Label.IDEMPOTENCY.value:
                    raise
                return self.store.write(unit)  # a duplicate of this request committed first: answer as it did
        except Refused as exc:
            refused = exc
        self.store.write(
            functools.partial(
                _chain_first, lambda tx: self.record(tx, refused.principal, refused.decisions, check_links=True)
            )
        )
        raise Forbidden(refused.message(), decision_ids=tuple(d.id for d in refused.decisions))

    # -- recording --------------------------------------------------------------------------------------------

    def record(
        self,
        tx: GraphTx,
        principal: Principal,
        decisions: Sequence[Decision],
        *,
        check_links: bool = False,
        requester_known: bool | None = None,
    ) -> None:
        """Store decisions linked to their dataset, requester and agreement, each with its audit event.

        With `check_links`, an edge is drawn only to a node that exists (a refused registration has no dataset).
        `requester_known` says whether the principal has a person node, when the caller has read it already.
        """
        if not decisions:
            return
        wanted: dict[Label, list[str]] = {}
        if requester_known is None and not principal.anonymous:
            wanted[Label.PERSON] = [principal.id]
        if check_links:
            wanted[Label.DATASET] = [d.request.dataset_id for d in decisions if d.request.dataset_id]
            wanted[Label.AGREEMENT] = [d.agreement_id for d in decisions if d.agreement_id]
        found = tx.get_many(wanted) if wanted else {}
        requester = requester_known if requester_known is not None else principal.id in found.get(Label.PERSON, {})
        for version in sorted({d.policy_version for d in decisions} - self._kept):
            self._keep_policy(tx, version, decisions[0].at)
        for decision in decisions:
            request = decision.request
            edges = []
            if request.dataset_id and (not check_links or request.dataset_id in found[Label.DATASET]):
                edges.append((Rel.ABOUT, decision.id, request.dataset_id))
            if requester:
                edges.append((Rel.REQUESTED_BY, decision.id, principal.id))
            if decision.agreement_id and (not check_links or decision.agreement_id in found[Label.AGREEMENT]):
                edges.append((Rel.UNDER, decision.id, decision.agreement_id))
            _record_one(tx, principal, decision, edges)

    def _keep_policy(self, tx: GraphTx, version: str, at: datetime) -> None:
        """Keep the policy a decision was made under in the store, the first time it is used, so `policy(version)`
        shows its rules for as long as the decision is kept. Costs one round trip until the store has it."""
        policy = self.engine.installed(version)
        if policy is None:
            return  # not this process's (cannot happen for its own decisions); the replica that used it keeps it
        # Replicas using a new version at once take turns (every recording write holds the audit chain's head first,
        # see _chain_first): one keeps it, the rest see it.
        if tx.get_node(Label.POLICY_VERSION, version) is not None:
            self._kept.add(version)  # there already (committed): no need to look again
            return
        files = [{"path": path, "text": text} for path, text in policy.files]
        props = {"model_text": policy.model_text, "files_json": canonical(files), "first_used_at": timestamp(at)}
        append_event(  # the kept version and its audit event go to the store together
            tx,
            principal=SYSTEM,
            action="keep_policy_version",
            target_ids=[version],
            change={"version": version, "files": [path for path, _ in policy.files], "digest": digest(files)},
            at=at,
            alongside=[(Label.POLICY_VERSION, version, props)],
        )


def _record_one(tx: GraphTx, principal: Principal, decision: Decision, edges: list[tuple[Rel, str, str]]) -> None:
    request = decision.request
    props = {
        **to_props(decision),
        "action": request.action,
        "dataset_id": request.dataset_id,
        "agency_id": principal.agency_id,
        "owner_agency_id": str(decision.attributes.get("obj", {}).get("owner") or ""),
        "rule_ids": sorted({e.rule_id for e in decision.evaluations}),
        "decided_by": sorted(decision.determining_rules),
    }
    append_event(  # the decision, its edges and its audit event go to the store together
        tx,
        principal=principal,
        action=f"decide_{request.action}",
        target_ids=[t for t in (request.dataset_id, request.person_id, request.agency_id) if t],
        decision_id=decision.id,
        at=decision.at,
        change={
            "outcome": decision.outcome.value,
            "rules": decision.determining_rules,
            "policy_version": decision.policy_version,
        },
        alongside=[(Label.DECISION, decision.id, props)],
        edges=edges,
    )


def _action_for(label: Label) -> str:
    for action, kind in RECORDS.items():
        if kind.label == label:
            return action
    raise AssertionError(f"no read rule covers {label}")


__all__ = [
    "OFFER_PARTY",
    "Decisions",
    "LoadedPolicy",
    "Offer",
    "PolicyEngine",
    "Refused",
    "waiting_for",
]


def _chain_first(work: Callable[[GraphTx], T], tx: GraphTx) -> T:
    """Run `work` after taking the audit chain's head: a write appends an event, and one that locked records
    first and the head last could deadlock with one that holds the head and then links its event to them."""
    tx.hold_sequence(SEQUENCE)
    return work(tx)
