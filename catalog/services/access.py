"""Access decisions: attributes read from the graph, decided by the policy engine, recorded with their reasons.

`check` decides and records in one transaction, so a decision that cannot be recorded is never answered as a
PERMIT: the caller gets UNAVAILABLE instead (fail closed). `explain` decides without recording anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from catalog.domain import (
    AccessRequest,
    AgreementStatus,
    Decision,
    Outcome,
    Role,
    parse_model,
)
from catalog.errors import InvalidInput, NotFound
from catalog.policy.attributes import AgreementView, Environment, RequestAttributes
from catalog.policy.engine import PolicyEngine
from catalog.principal import Principal
from catalog.services.agreements import agreement_view, effective_status
from catalog.services.audit import append_event
from catalog.services.context import Listing, ServiceContext
from catalog.services.policy_inputs import decision_of, read_facts, subject_of
from catalog.store.base import GraphTx, Props
from catalog.store.query import FALSE, TRUE, Cmp, Contains, Eq, IdIn, Predicate, all_of, any_of
from catalog.store.records import from_props, timestamp, to_props
from catalog.store.schema import Label, Rel


@dataclass
class AccessContext:
    attributes: RequestAttributes
    dataset_owner: str
    agreement_id: str | None
    # The requester's agency holds or held an agreement for the dataset, so it knows the dataset exists.
    known_to_requester: bool = False
    # The requester is a person in the catalog (not anonymous, not a service principal).
    requester_in_catalog: bool = False


class Access:
    def __init__(self, ctx: ServiceContext, engine: PolicyEngine) -> None:
        self.ctx = ctx
        self.engine = engine

    def _request(self, payload: dict[str, Any]) -> AccessRequest:
        request = parse_model(AccessRequest, {"action": "access", **payload})
        if request.action not in ("access", "read_metadata"):
            raise InvalidInput("action", "must be access or read_metadata")
        if request.purpose is not None and request.purpose not in self.ctx.settings.purposes:
            raise InvalidInput("purpose", f"must be one of {', '.join(self.ctx.settings.purposes)}")
        return request

    def gather(self, tx: GraphTx, principal: Principal, request: AccessRequest, now: datetime) -> AccessContext:
        """Every attribute the policy needs, read from the graph in the caller's transaction."""
        facts, person = read_facts(tx, [request.dataset_id], principal)
        dataset = facts.get(request.dataset_id)
        if dataset is None:
            raise NotFound("Dataset", request.dataset_id)
        fields, agreements = dataset.fields, dataset.agreements
        unknown = [f for f in request.fields if f not in fields]
        if unknown:
            raise InvalidInput("fields", f"dataset {request.dataset_id} has no field(s) {', '.join(unknown)}")
        sub = subject_of(principal, person, now)
        chosen = _choose_agreement(agreements, sub.agency, request, now)
        view = _agreement_view(chosen, request.purpose, now, self.ctx.settings.classifications)
        # Asking for no fields in particular means asking for what the agreement approves.
        requested = set(request.fields)
        env = Environment(
            action=request.action,
            purpose=request.purpose or "",
            access_method=request.access_method.value if request.access_method else "",
            fields=list(request.fields),
            fields_within_approved=not view.approved_fields or requested <= set(view.approved_fields),
            now=timestamp(now),
            agreement=view,
        )
        obj = dataset.resource(now, self.ctx.settings.classifications)
        known = any(a.get("recipient_agency_id") == sub.agency for a in agreements) if sub.agency else False
        return AccessContext(RequestAttributes(sub, obj, env), obj.owner, view.id or None, known, person is not None)

    def _require_visible(self, context: AccessContext) -> None:
        """A dataset the requester may not see, and has never been party to an agreement for, is NOT_FOUND,
        exactly as dataset(id) answers: a decision's reasons would otherwise reveal its classification and
        purposes. A former recipient (agreement revoked or expired) still gets the decision and its reasons."""
        if context.known_to_requester:
            return
        attributes = context.attributes
        probe = RequestAttributes(
            attributes.sub, attributes.obj, Environment(action="read_metadata", now=attributes.env.now)
        )
        if self.engine.decide(probe).outcome != Outcome.PERMIT:
            raise NotFound("Dataset", attributes.obj.id)

    def _decide(
        self, tx: GraphTx, principal: Principal, request: AccessRequest, now: datetime
    ) -> tuple[AccessContext, Decision]:
        context = self.gather(tx, principal, request, now)
        self._require_visible(context)
        evaluation = self.engine.decide(context.attributes)
        return context, decision_of(
            self.ctx, principal, request, context.attributes, evaluation, now, context.agreement_id
        )

    def explain(self, principal: Principal, payload: dict[str, Any]) -> Decision:
        """Decide a hypothetical request and record nothing."""
        request, now = self._request(payload), self.ctx.clock()

        def work(tx: GraphTx) -> Decision:
            return self._decide(tx, principal, request, now)[1]

        return self.ctx.store.read(work)

    def check(self, principal: Principal, payload: dict[str, Any]) -> Decision:
        """Decide and record, in one transaction. If recording fails the caller gets UNAVAILABLE, never PERMIT."""
        request, now = self._request(payload), self.ctx.clock()

        def work(tx: GraphTx) -> Decision:
            context, decision = self._decide(tx, principal, request, now)
            record_decision(tx, decision, principal, context.dataset_owner, context.requester_in_catalog)
            return decision

        return self.ctx.store.write(work)

    # -- reading decisions -------------------------------------------------------------------------------

    def _readable(self, principal: Principal) -> Predicate:
        """Auditors and admins read every decision; others their own and those about their agency's data."""
        if principal.has(Role.AUDITOR, Role.PLATFORM_ADMIN):
            return TRUE
        if principal.anonymous:
            return FALSE
        return any_of(
            Eq("principal_id", principal.id),
            Eq("owner_agency_id", principal.agency_id) if principal.agency_id else None,
        )

    def get(self, principal: Principal, decision_id: str) -> Decision:
        where = all_of(IdIn((decision_id,)), self._readable(principal))
        page = self.ctx.store.read(lambda tx: tx.find_nodes(Label.DECISION, where, first=1))
        if not page.items:
            raise NotFound("Decision", decision_id)
        return from_props(Decision, page.items[0][1])

    def list(
        self, principal: Principal, criteria: DecisionFilter, first: int, after: str | None, *, with_total: bool = True
    ) -> Listing[Decision]:
        where = all_of(criteria.predicate(), self._readable(principal))
        page = self.ctx.store.read(
            lambda tx: tx.find_nodes(Label.DECISION, where, first=first, after=after, with_total=with_total)
        )
        return Listing(
            [from_props(Decision, p) for _, p in page.items],
            page.has_next,
            page.end_cursor,
            page.total,
            [id for id, _ in page.items],
        )


@dataclass(frozen=True)
class DecisionFilter:
    requester: str | None = None
    dataset: str | None = None
    agency: str | None = None
    outcome: str | None = None
    rule_id: str | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None

    def predicate(self) -> Predicate:
        return all_of(
            Eq("principal_id", self.requester) if self.requester else None,
            Eq("dataset_id", self.dataset) if self.dataset else None,
            Eq("agency_id", self.agency) if self.agency else None,
            Eq("outcome", self.outcome) if self.outcome else None,
            Contains("rule_ids", self.rule_id) if self.rule_id else None,
            Cmp("at", ">=", timestamp(self.at_from)) if self.at_from else None,
            Cmp("at", "<", timestamp(self.at_to)) if self.at_to else None,
        )


def record_decision(
    tx: GraphTx, decision: Decision, principal: Principal, owner: str, requester_in_catalog: bool | None = None
) -> None:
    """Store a decision linked to its dataset, requester and agreement, with its audit event.

    `requester_in_catalog` says whether the principal is a person node (a REQUESTED_BY edge is drawn); None
    means not known yet, so it is looked up.
    """
    rule_ids = sorted({e.rule_id for e in decision.evaluations})
    props = {
        **to_props(decision),
        "dataset_id": decision.request.dataset_id,
        "agency_id": principal.agency_id,
        "owner_agency_id": owner,
        "rule_ids": rule_ids,
    }
    if requester_in_catalog is None:
        requester_in_catalog = not principal.anonymous and tx.get_node(Label.PERSON, principal.id) is not None
    edges = [(Rel.ABOUT, decision.id, decision.request.dataset_id)]
    if requester_in_catalog:
        edges.append((Rel.REQUESTED_BY, decision.id, principal.id))
    if decision.agreement_id:
        edges.append((Rel.UNDER, decision.id, decision.agreement_id))
    append_event(  # the decision, its edges and its audit event go to the store together
        tx,
        principal=principal,
        action=f"decide_{decision.request.action}",
        target_ids=[decision.request.dataset_id],
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


def _choose_agreement(agreements: list[Props], agency: str, request: AccessRequest, now: datetime) -> Props | None:
    """The agreement that speaks to this request: the recipient's, preferring one that is ACTIVE now and covers
    the purpose, the access method and the fields asked for; failing that the closest, so a refusal can name
    what is wrong with it (expired, revoked, another purpose).
    """
    mine = [a for a in agreements if a.get("recipient_agency_id") == agency]
    if not mine:
        return None
    method = request.access_method.value if request.access_method else None

    def preference(a: Props) -> tuple[bool, bool, bool, bool, str]:
        approved = set(a.get("approved_fields", []))
        return (
            effective_status(a, now) == AgreementStatus.ACTIVE and str(a["valid_from"]) <= timestamp(now),
            a.get("purpose") == request.purpose,
            not approved or set(request.fields) <= approved,
            a.get("access_method") == method,
            str(a.get("valid_until", "")),
        )

    return max(mine, key=preference)


def _agreement_view(
    agreement: Props | None, purpose: str | None, now: datetime, scheme: Sequence[str]
) -> AgreementView:
    return agreement_view(agreement, purpose, now, scheme)


__all__ = ["Access", "DecisionFilter", "Outcome", "record_decision"]
