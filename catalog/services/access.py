"""Access decisions: attributes read from the graph, decided by the policy engine, recorded with their reasons.

`check` decides and records in one transaction, so a decision that cannot be recorded is never answered as a
PERMIT: the caller gets UNAVAILABLE instead (fail closed). `explain` decides without recording anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from catalog.domain import AccessRequest, AgreementStatus, Decision, ShareRequestStatus, parse_model
from catalog.errors import InvalidInput, NotFound
from catalog.policy.attributes import Environment, PendingRequest, RequestAttributes
from catalog.principal import Principal
from catalog.services.context import Listing, ServiceContext
from catalog.services.criteria import TimeWindow, contains, equals
from catalog.services.decisions import waiting_for
from catalog.services.facts import DatasetFacts, agreement_status, agreement_view, read_facts, subject_of
from catalog.services.redaction import Redaction
from catalog.store.base import GraphTx, Props
from catalog.store.query import Contains, Eq, all_of
from catalog.store.records import from_props, timestamp
from catalog.store.schema import Label

READ = "read_decision"


@dataclass
class AccessContext:
    attributes: RequestAttributes
    request: AccessRequest  # as decided: the fields resolved (asking for none means what the agreement approves)
    agreement_id: str | None
    # Whether the requester may see the dataset; if not, they are a former recipient (agreement revoked or
    # expired), who may still ask and get the outcome and the reason, but none of the dataset's other attributes.
    visible: bool = True
    # The requester is a person in the catalog (not anonymous, not a service principal).
    requester_in_catalog: bool = False


class Access:
    def __init__(self, ctx: ServiceContext, redaction: Redaction) -> None:
        self.ctx = ctx
        self.decisions = ctx.decisions
        self.redaction = redaction

    def _request(self, payload: dict[str, Any]) -> AccessRequest:
        given = {key: value for key, value in payload.items() if value is not None}  # null is "not given"
        request = parse_model(AccessRequest, {"action": "access", **given})
        if request.action not in ("access", "read_metadata"):
            raise InvalidInput("action", "must be access or read_metadata")
        if not request.dataset_id:
            raise InvalidInput("dataset_id", "is required")
        if request.purpose is not None and request.purpose not in self.ctx.settings.purposes:
            raise InvalidInput("purpose", f"must be one of {', '.join(self.ctx.settings.purposes)}")
        return request

    def gather(self, tx: GraphTx, principal: Principal, request: AccessRequest, now: datetime) -> AccessContext:
        """Every attribute the policy needs, read from the graph in the caller's transaction.

        A dataset the requester may not see, and was never party to an agreement for, is NOT_FOUND exactly as a
        missing one, and that is settled before anything else about the request is checked.
        """
        dataset_id = str(request.dataset_id)
        facts, person = read_facts(tx, [dataset_id], principal)
        dataset = facts.get(dataset_id)
        if dataset is None:
            raise NotFound("Dataset", dataset_id)
        sub = subject_of(principal, person, now)
        scheme = self.ctx.settings.classifications
        obj = dataset.resource(now, scheme)
        visible = self._may_see(RequestAttributes(sub, obj, Environment(action="read_metadata", now=timestamp(now))))
        mine = [a for a in dataset.agreements if sub.agency and a.get("recipient_agency_id") == sub.agency]
        if not visible and not mine:
            raise NotFound("Dataset", dataset_id)
        chosen = _choose_agreement(mine, request, now)
        view = agreement_view(chosen, request.purpose, now, scheme)
        fields = _resolved_fields(request, dataset, view.approved_fields, visible)
        outside = [name for name in fields if view.approved_fields and name not in view.approved_fields]
        # Only when no agreement is in force: a refusal then says a request of theirs is already on its way.
        pending = _pending(tx, dataset_id, sub.agency) if sub.agency and not view.active else PendingRequest()
        env = Environment(
            action=request.action,
            purpose=request.purpose or "",
            access_method=request.access_method.value if request.access_method else "",
            fields=fields,
            fields_within_approved=not outside,
            fields_outside_approved=outside,
            now=timestamp(now),
            agreement=view,
            pending_request=pending,
        )
        decided = request.model_copy(update={"fields": fields})
        return AccessContext(RequestAttributes(sub, obj, env), decided, view.id or None, visible, person is not None)

    def _may_see(self, probe: RequestAttributes) -> bool:
        """The per-item read_metadata decision: the same rules the list predicate is compiled from."""
        return self.decisions.permits(probe)

    def _decide(
        self, tx: GraphTx, principal: Principal, request: AccessRequest, now: datetime
    ) -> tuple[AccessContext, Decision]:
        context = self.gather(tx, principal, request, now)
        decision = self.decisions.decide(principal, context.request, context.attributes, now, context.agreement_id)
        return context, decision

    def explain(self, principal: Principal, payload: dict[str, Any]) -> Decision:
        """Decide a hypothetical request and record nothing."""
        request, now = self._request(payload), self.ctx.clock()
        context, decision = self.ctx.store.read(lambda tx: self._decide(tx, principal, request, now))
        return self._shown(principal, decision, context.visible)

    def check(self, principal: Principal, payload: dict[str, Any]) -> Decision:
        """Decide and record, in one transaction. If recording fails the caller gets UNAVAILABLE, never PERMIT."""
        request, now = self._request(payload), self.ctx.clock()

        def work(tx: GraphTx) -> tuple[AccessContext, Decision]:
            context, decision = self._decide(tx, principal, request, now)
            self.decisions.record(tx, principal, [decision], requester_known=context.requester_in_catalog)
            return context, decision

        context, decision = self.decisions.write(work)  # a denial is its outcome, never refused; keyed if asked
        return self._shown(principal, decision, context.visible)

    def _shown(self, principal: Principal, decision: Decision, visible: bool) -> Decision:
        """The decision as its requester may read it: hidden upstream datasets redacted, and for a former
        recipient who may no longer see the dataset, the outcome and reason without the dataset's attributes."""
        known = {str(decision.request.dataset_id)} if visible else set()
        return self.redaction.decisions(principal, [decision], visible=known)[0]

    # -- reading decisions -------------------------------------------------------------------------------

    def get(self, principal: Principal, decision_id: str) -> Decision:
        props = self.ctx.store.read(
            lambda tx: self.decisions.require_visible(tx, principal, Label.DECISION, decision_id)
        )
        return self.redaction.decisions(principal, [from_props(Decision, props)])[0]

    def list(
        self, principal: Principal, criteria: DecisionFilter, first: int, after: str | None, *, with_total: bool = True
    ) -> Listing[Decision]:
        where = all_of(criteria.predicate(), self.decisions.readable(principal, READ))
        listing = self.ctx.listing(Label.DECISION, where, partial(from_props, Decision), first, after, with_total)
        listing.items = self.redaction.decisions(principal, listing.items)
        return listing


@dataclass(frozen=True)
class DecisionFilter(TimeWindow):
    """Which recorded decisions to list: by the action asked, who asked, the dataset and agency concerned, the
    outcome, a rule that decided or was evaluated, and when."""

    action: str | None = equals("action")
    requester: str | None = equals("principal_id")
    dataset: str | None = equals("dataset_id")
    agency: str | None = equals("agency_id")
    outcome: str | None = equals("outcome")
    rule_id: str | None = contains("decided_by")
    evaluated_rule_id: str | None = contains("rule_ids")


def _choose_agreement(mine: list[Props], request: AccessRequest, now: datetime) -> Props | None:
    """The agreement that speaks to this request: the recipient's, preferring one that is ACTIVE now and covers
    the purpose, the access method and the fields asked for; failing that the closest, so a refusal can name
    what is wrong with it (expired, revoked, another purpose).
    """
    if not mine:
        return None
    method = request.access_method.value if request.access_method else None

    def preference(a: Props) -> tuple[bool, bool, bool, bool, str]:
        approved = set(a.get("approved_fields", []))
        return (
            agreement_status(a, now) == AgreementStatus.ACTIVE and str(a["valid_from"]) <= timestamp(now),
            a.get("purpose") == request.purpose,
            not approved or set(request.fields) <= approved,
            a.get("access_method") == method,
            str(a.get("valid_until", "")),
        )

    return max(mine, key=preference)


def _pending(tx: GraphTx, dataset_id: str, agency: str) -> PendingRequest:
    """A share request of `agency` for the dataset still waiting for approval, if there is one."""
    where = all_of(
        Contains("dataset_ids", dataset_id),
        Eq("recipient_agency_id", agency),
        Eq("status", ShareRequestStatus.PENDING_APPROVAL.value),
    )
    page = tx.find_nodes(Label.SHARE_REQUEST, where, first=1)
    if not page.items:
        return PendingRequest()
    id, props = page.items[0]
    required, filled = list(props.get("required_approvals", [])), list(props.get("filled_approvals", []))
    return PendingRequest(id=id, waiting_for=waiting_for(required, filled))


def _resolved_fields(request: AccessRequest, dataset: DatasetFacts, approved: list[str], visible: bool) -> list[str]:
    """The fields a request is decided on. Asking for none means the fields the agreement approves, or, with no
    agreement or one that approves all, every field the dataset has. A named field must be one of the dataset's;
    a former recipient, who may not see the dataset now, is checked against the agreement's list instead, and so
    is a request on a dataset with no fields registered."""
    known = dataset.fields if visible and dataset.fields else approved
    unknown = [name for name in request.fields if known and name not in known]
    if unknown:
        raise InvalidInput("fields", f"dataset {dataset.props['id']} has no field(s) {', '.join(unknown)}")
    if request.fields:
        return list(request.fields)
    return list(approved or dataset.fields)


__all__ = ["Access", "DecisionFilter"]
