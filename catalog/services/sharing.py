"""The data-sharing workflow: a partner agency asks for a share, stewards and approvers decide on it, and the
agreement that results is suspended, resumed, revoked or renewed.

Every step is decided by the policy and recorded with its reasons, in the same transaction as the change it
allows. Decisions are per dataset: a request or a verdict about several datasets records one Decision for each,
so a refusal says which dataset failed and why. A request is DENIED when any of its datasets is denied.

Which approvals a request needs, and which of them a verdict fills, come from the policy's obligations (see
`policies/rules/40-sharing.yaml`). A state change first takes the node's lock (`agreements.lock`) and only then
reads the state it checks, so racing approvals, rejections and lifecycle changes serialize: each sees the
other's result, and no agreement is left in two states or without its decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from catalog.audit.append import append_event, diff
from catalog.domain import (
    PERSONAL_DATA_ORDER,
    Approval,
    ApprovalVerdict,
    Decision,
    DenyKind,
    Outcome,
    PersonalData,
    ShareRequest,
    ShareRequestStatus,
    SharingAgreement,
    parse_model,
    rank,
)
from catalog.errors import Conflict, InvalidInput, Unauthenticated
from catalog.policy.attributes import Environment
from catalog.principal import Principal
from catalog.services.agreements import BetweenAgencies, share_environment, write_agreement
from catalog.services.context import Listing, ServiceContext
from catalog.services.criteria import Criteria, asks, equals
from catalog.services.decisions import Refused
from catalog.services.facts import DatasetFacts
from catalog.services.redaction import Redaction
from catalog.store.base import GraphTx
from catalog.store.query import Eq, In, all_of, any_of
from catalog.store.records import from_props, timestamp, to_props
from catalog.store.schema import Label, Rel

PENDING, APPROVED, REJECTED, DENIED = (
    ShareRequestStatus.PENDING_APPROVAL,
    ShareRequestStatus.APPROVED,
    ShareRequestStatus.REJECTED,
    ShareRequestStatus.DENIED,
)
STEWARD, SECOND_APPROVER = "steward", "second-approver"
# Obligation ids with a meaning to this workflow; every other request_share obligation binds the agreement.
NEEDS = {"steward-approval": STEWARD, "second-approval": SECOND_APPROVER}
COUNTS_AS = {"counts-as-steward-approval": STEWARD, "counts-as-second-approval": SECOND_APPROVER}
REQUEST_FIELDS = frozenset(
    {
        "dataset_ids",
        "recipient_agency_id",
        "purpose",
        "legal_basis",
        "access_method",
        "fields",
        "justification",
        "valid_from",
        "valid_until",
        "particulars",
    }
)
MAX_REASON = 20_000


def requirement(kind: str, dataset_id: str, provider: str) -> str:
    """A required approval as stored: `steward:<dataset id>` or `second-approver:<providing agency id>`."""
    return f"{kind}:{dataset_id if kind == STEWARD else provider}"


def _carried_obligations(tx: GraphTx, request: ShareRequest) -> list[str]:
    """The obligations the request's decisions attached that its agreement carries: all but the approvals they
    asked for, which the verdicts have met."""
    return [
        text
        for props in tx.get_nodes(Label.DECISION, request.decision_ids).values()
        for text in props.get("obligations", [])
        if text.split(":", 1)[0] not in NEEDS
    ]


def obligation_ids(decision: Decision) -> set[str]:
    return {text.split(":", 1)[0] for text in decision.obligations}


@dataclass(frozen=True)
class ShareRequestFilter(BetweenAgencies, Criteria):
    """Which share requests to list: between which agencies, about which dataset, who asked, status, and an
    agency that is a party to them."""

    requester: str | None = equals("requester_id")
    status: ShareRequestStatus | None = asks(lambda status: Eq("status", ShareRequestStatus(status).value))
    # the agency provides or receives under it
    party: str | None = asks(lambda agency: any_of(Eq("provider_agency_id", agency), Eq("recipient_agency_id", agency)))


READ = "read_share_request"


class Sharing:
    def __init__(self, ctx: ServiceContext, redaction: Redaction) -> None:
        self.ctx = ctx
        self.decisions = ctx.decisions
        self.redaction = redaction

    # -- asking for a share ---------------------------------------------------------------------------------

    def request(self, principal: Principal, payload: dict[str, Any]) -> ShareRequest:
        """Ask for a share. The request is recorded with one decision per dataset: DENIED or PENDING_APPROVAL.

        Args:
            payload: dataset_ids, recipient_agency_id, purpose, legal_basis, access_method, fields,
                justification, valid_from (default now), valid_until and the optional particulars a public
                register of agreements names (`AgreementParticulars`), which the agreement keeps.
        Returns:
            The request as stored; a DENIED one says why in `status_reason` and in its decisions.
        """
        if principal.anonymous:
            raise Unauthenticated("request_share: sign in to ask for a share")
        unknown = sorted(set(payload) - REQUEST_FIELDS)
        if unknown:
            raise InvalidInput(unknown[0], "is not a known field")
        now = self.ctx.clock()
        draft = parse_model(
            ShareRequest,
            {
                "valid_from": now,
                **payload,
                "id": self.ctx.new_id("shr"),
                "requester_id": principal.id,
                "created_at": now,
                "updated_at": now,
            },
        )
        self._check_request(draft, now)

        def work(tx: GraphTx) -> ShareRequest:
            provider = self._provider(tx, principal, draft.dataset_ids)
            if tx.get_node(Label.AGENCY, draft.recipient_agency_id) is None:
                raise InvalidInput("recipient_agency_id", f"no Agency with id {draft.recipient_agency_id!r}")
            datasets = self.decisions.datasets(tx, draft.dataset_ids)
            asked = self._fields_by_dataset(draft.fields, datasets)

            def env(dataset_id: str) -> Environment:
                return share_environment("request_share", draft, now, fields=asked[dataset_id])

            decisions = self.decisions.decide_each(tx, principal, "request_share", datasets, env, now)
            request = _requested(draft, provider, decisions)
            props = to_props(request)
            tx.create_node(Label.SHARE_REQUEST, request.id, props)
            if tx.get_node(Label.PERSON, principal.id) is not None:
                tx.merge_edge(Rel.BY, request.id, principal.id)
            for dataset_id in request.dataset_ids:
                tx.merge_edge(Rel.FOR, request.id, dataset_id)
            self.decisions.record(tx, principal, decisions)
            append_event(
                tx,
                principal=principal,
                action="request_share",
                target_ids=[request.id, *request.dataset_ids],
                change=diff(None, props),
                at=now,
            )
            return request

        return self.decisions.write(work)  # as every write: an idempotency key applies

    def _check_request(self, request: ShareRequest, now: datetime) -> None:
        purposes = self.ctx.settings.purposes
        if request.purpose not in purposes:
            raise InvalidInput("purpose", f"must be one of {', '.join(purposes)}")
        if not request.dataset_ids:
            raise InvalidInput("dataset_ids", "must name at least one dataset")
        for name, values in (("dataset_ids", request.dataset_ids), ("fields", request.fields)):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise InvalidInput(name, f"names {', '.join(repeated)} more than once")
        if request.valid_until <= request.valid_from:
            raise InvalidInput("valid_until", "must be after valid_from")
        if request.valid_until <= now:
            raise InvalidInput("valid_until", "must be in the future")

    def _provider(self, tx: GraphTx, principal: Principal, dataset_ids: list[str]) -> str:
        """The one agency holding every requested dataset. A dataset the requester may not see is not there."""
        found = self.decisions.visible(tx, principal, Label.DATASET, dataset_ids)
        for i, dataset_id in enumerate(dataset_ids):
            if dataset_id not in found:
                raise InvalidInput(f"dataset_ids.{i}", f"no Dataset with id {dataset_id!r}")
        owners = sorted({str(props.get("owner_agency_id")) for props in found.values()})
        if len(owners) > 1:
            raise InvalidInput("dataset_ids", f"must all be held by one agency (one provider), not {', '.join(owners)}")
        return owners[0]

    @staticmethod
    def _fields_by_dataset(fields: list[str], datasets: dict[str, DatasetFacts]) -> dict[str, list[str]]:
        for i, name in enumerate(fields):
            if not any(name in dataset.fields for dataset in datasets.values()):
                raise InvalidInput(f"fields.{i}", f"is not a field of {', '.join(datasets)}")
        return {id: [name for name in fields if name in dataset.fields] for id, dataset in datasets.items()}

    # -- deciding on a request -------------------------------------------------------------------------------

    def approve(
        self, principal: Principal, request_id: str, note: str = "", conditions: Sequence[str] = ()
    ) -> ShareRequest:
        """Approve a pending request. When the last required approval is in, the agreement is created.

        Raises Forbidden (after recording the refusing decisions) when the policy does not let `principal` decide
        on it, and Conflict when the request is not pending or needs no approval `principal` can give.
        """
        return self._verdict(principal, request_id, ApprovalVerdict.APPROVE, note, list(conditions))

    def reject(self, principal: Principal, request_id: str, reason: str) -> ShareRequest:
        """Reject a pending request, saying why. One rejection by anyone the policy lets decide is final."""
        if not reason.strip():
            raise InvalidInput("reason", "is required: say why the share is rejected")
        return self._verdict(principal, request_id, ApprovalVerdict.REJECT, reason, [])

    def _verdict(
        self, principal: Principal, request_id: str, verdict: ApprovalVerdict, note: str, conditions: list[str]
    ) -> ShareRequest:
        now = self.ctx.clock()
        draft = parse_model(
            Approval,
            {
                "id": self.ctx.new_id("apr"),
                "request_id": request_id,
                "approver_id": principal.id,
                "verdict": verdict,
                "note": note,
                "conditions": conditions,
                "at": now,
            },
        )

        def work(tx: GraphTx) -> ShareRequest:
            tx.lock(Label.SHARE_REQUEST, request_id)
            request = self._readable_request(tx, principal, request_id)
            given = self._approvals(tx, [request_id])[request_id]
            _check_open(request, given, principal, verdict, now)
            datasets = self.decisions.datasets(tx, request.dataset_ids)
            action = f"{verdict.value.lower()}_share"  # approve_share or reject_share: the verdict is the action
            decisions = self._decide_verdict(tx, principal, request, verdict, datasets, now)
            if _refused(decisions):
                raise Refused(principal, decisions, f"{action} on {request_id}")
            fills = _fills(request, given, decisions, principal) if verdict == ApprovalVerdict.APPROVE else []
            # Taken under the request's lock, so verdicts are numbered in the order they were given.
            numbered = {"sequence": len(given) + 1, "fills": fills, "decision_ids": [d.id for d in decisions]}
            approval = draft.model_copy(update=numbered)
            tx.create_node(Label.APPROVAL, approval.id, to_props(approval))
            tx.merge_edge(Rel.HAS_APPROVAL, request.id, approval.id)
            if tx.get_node(Label.PERSON, principal.id) is not None:
                tx.merge_edge(Rel.GIVEN_BY, approval.id, principal.id)
            updated = self._conclude(tx, request, [*given, approval], datasets, now)
            if updated.agreement_id:  # the approval that made the agreement links to it
                decisions = [d.model_copy(update={"agreement_id": updated.agreement_id}) for d in decisions]
            self.decisions.record(tx, principal, decisions)
            append_event(
                tx,
                principal=principal,
                action=action,
                target_ids=[request.id, approval.id, *([updated.agreement_id] if updated.agreement_id else [])],
                change={
                    "approval": to_props(approval),
                    "status": {"before": request.status.value, "after": updated.status.value},
                },
                at=now,
            )
            return updated

        return self.decisions.write(work)

    def _decide_verdict(
        self,
        tx: GraphTx,
        principal: Principal,
        request: ShareRequest,
        verdict: ApprovalVerdict,
        datasets: dict[str, DatasetFacts],
        now: datetime,
    ) -> list[Decision]:
        """The policy's decisions on `principal` giving `verdict` on the request, one per dataset; not recorded."""
        action = f"{verdict.value.lower()}_share"

        def env(dataset_id: str) -> Environment:
            asked = [name for name in request.fields if name in datasets[dataset_id].fields]
            return share_environment(action, request, now, fields=asked, verdict=verdict.value)

        mine = principal.id == request.requester_id
        return self.decisions.decide_each(tx, principal, action, datasets, env, now, is_requester=mine)

    def verdicts_open_to(self, principal: Principal, request_id: str) -> list[ApprovalVerdict]:
        """The verdicts `principal` could give on the request now: the request is open to them and the policy would
        permit it (decided as `approve` and `reject` decide, but nothing is recorded). What a page offers to do.
        NotFound, as `get`, when they may not read it."""
        now = self.ctx.clock()

        def work(tx: GraphTx) -> list[ApprovalVerdict]:
            request = self._readable_request(tx, principal, request_id)
            return self._open_verdicts(tx, principal, request, now)

        return self.ctx.store.read(work)

    def _open_verdicts(
        self, tx: GraphTx, principal: Principal, request: ShareRequest, now: datetime
    ) -> list[ApprovalVerdict]:
        if principal.anonymous or request.status != PENDING:
            return []
        given = self._approvals(tx, [request.id])[request.id]
        datasets = self.decisions.datasets(tx, request.dataset_ids)
        open_to: list[ApprovalVerdict] = []
        for verdict in ApprovalVerdict:
            try:
                _check_open(request, given, principal, verdict, now)
                decisions = self._decide_verdict(tx, principal, request, verdict, datasets, now)
                if _refused(decisions):
                    continue
                if verdict == ApprovalVerdict.APPROVE:
                    _fills(request, given, decisions, principal)
            except Conflict:
                continue
            open_to.append(verdict)
        return open_to

    def awaiting_verdict(self, principal: Principal, first: int, after: str | None = None) -> Listing[ShareRequest]:
        """Pending requests `principal` may read and could give a verdict on now, in id order: a steward's or
        approver's queue. Whether they could is the policy's answer per request (nothing is recorded), so the
        readable pending requests are read page by page until `first` are found, with one more to tell if a
        next page has any."""
        now = self.ctx.clock()
        where = all_of(Eq("status", PENDING.value), self.decisions.readable(principal, READ))

        def work(tx: GraphTx) -> Listing[ShareRequest]:
            found: list[ShareRequest] = []
            cursor, more = after, True
            while more and len(found) <= first:
                page = tx.find_nodes(Label.SHARE_REQUEST, where, first=max(first, 20), after=cursor, with_total=False)
                for id, props in page.items:
                    cursor = id
                    request = from_props(ShareRequest, props)
                    if self._open_verdicts(tx, principal, request, now):
                        found.append(request)
                        if len(found) > first:
                            break
                more = page.has_next
            shown = found[:first]
            return Listing(shown, len(found) > first, shown[-1].id if shown else None, None, [r.id for r in shown])

        return self.ctx.store.read(work)

    def _conclude(
        self,
        tx: GraphTx,
        request: ShareRequest,
        approvals: list[Approval],
        datasets: dict[str, DatasetFacts],
        now: datetime,
    ) -> ShareRequest:
        """The request after this verdict: rejected, still pending, or approved with its agreement created."""
        latest = approvals[-1]
        filled = sorted({r for a in approvals for r in a.fills})
        changes: dict[str, Any] = {"version": request.version + 1, "updated_at": now, "filled_approvals": filled}
        if latest.verdict == ApprovalVerdict.REJECT:
            changes.update(status=REJECTED, status_reason=latest.note)
        elif set(request.required_approvals) <= {r for a in approvals for r in a.fills}:
            agreement = self._agreement(request, approvals, datasets, _carried_obligations(tx, request), now)
            write_agreement(tx, agreement)
            changes.update(status=APPROVED, agreement_id=agreement.id, status_reason=latest.note or None)
        updated = request.model_copy(update=changes)
        tx.update_node(Label.SHARE_REQUEST, request.id, to_props(updated))
        return updated

    def _agreement(
        self,
        request: ShareRequest,
        approvals: list[Approval],
        datasets: dict[str, DatasetFacts],
        obligations: list[str],
        now: datetime,
    ) -> SharingAgreement:
        """The agreement a fully approved request yields: what was asked for, at the data's sensitivity today, under
        the `obligations` its decisions carry."""
        scheme, personal = self.ctx.settings.classifications, [p.value for p in PERSONAL_DATA_ORDER]
        resources = [datasets[id].resource(now, scheme) for id in request.dataset_ids]
        every_field = [name for id in request.dataset_ids for name in datasets[id].fields]
        approve = [a for a in approvals if a.verdict == ApprovalVerdict.APPROVE]
        return SharingAgreement(
            id=self.ctx.new_id("agr"),
            provider_agency_id=request.provider_agency_id or "",
            recipient_agency_id=request.recipient_agency_id,
            dataset_ids=request.dataset_ids,
            # Data minimisation: only what was asked for; asking for nothing in particular means today's fields.
            approved_fields=list(dict.fromkeys(request.fields or every_field)),
            purpose=request.purpose,
            legal_basis=request.legal_basis,
            access_method=request.access_method,
            max_classification=max((r.classification for r in resources), key=lambda c: rank(scheme, c)),
            max_personal_data=PersonalData(max((r.personal_data for r in resources), key=lambda p: rank(personal, p))),
            allows_identified=any(r.identified for r in resources) and request.legal_basis.covers_identified,
            conditions=list(dict.fromkeys(c for a in approve for c in a.conditions)),
            obligations=list(dict.fromkeys(obligations)),
            valid_from=request.valid_from,
            valid_until=request.valid_until,
            created_at=now,
            updated_at=now,
            share_request_id=request.id,
            decision_ids=[*request.decision_ids, *(id for a in approvals for id in a.decision_ids)],
            particulars=request.particulars,
        )

    # -- reading ---------------------------------------------------------------------------------------------

    def get(self, principal: Principal, request_id: str) -> ShareRequest:
        """One share request. NotFound when it does not exist or `principal` may not read it."""
        return self.ctx.store.read(lambda tx: self._readable_request(tx, principal, request_id))

    def requests(
        self,
        principal: Principal,
        criteria: ShareRequestFilter,
        first: int,
        after: str | None = None,
        *,
        with_total: bool = True,
    ) -> Listing[ShareRequest]:
        """Share requests matching `criteria` that `principal` may read, filtered inside the store query."""
        where = all_of(criteria.predicate(), self.decisions.readable(principal, READ))
        return self.ctx.listing(Label.SHARE_REQUEST, where, partial(from_props, ShareRequest), first, after, with_total)

    def approvals_of(self, request_ids: Sequence[str]) -> dict[str, list[Approval]]:
        """The verdicts given on requests the caller has already been allowed to read, oldest first."""
        return self.ctx.store.read(lambda tx: self._approvals(tx, request_ids))

    def decisions_by_ids(self, principal: Principal, ids: Sequence[str]) -> dict[str, Decision]:
        """Decisions of a request or an agreement the caller has already been allowed to read, as they may read
        them (hidden upstream datasets redacted)."""
        found = self.ctx.store.read(lambda tx: tx.get_nodes(Label.DECISION, ids))
        decisions = self.redaction.decisions(principal, [from_props(Decision, props) for props in found.values()])
        return {decision.id: decision for decision in decisions}

    def requests_by_ids(self, principal: Principal, ids: Sequence[str]) -> dict[str, ShareRequest]:
        return self.ctx.visible(principal, Label.SHARE_REQUEST, ids, partial(from_props, ShareRequest))

    # -- shared steps ----------------------------------------------------------------------------------------

    def _readable_request(self, tx: GraphTx, principal: Principal, request_id: str) -> ShareRequest:
        return from_props(ShareRequest, self.decisions.require_visible(tx, principal, Label.SHARE_REQUEST, request_id))

    @staticmethod
    def _approvals(tx: GraphTx, request_ids: Sequence[str]) -> dict[str, list[Approval]]:
        result: dict[str, list[Approval]] = {id: [] for id in request_ids}
        page = tx.find_nodes(Label.APPROVAL, In("request_id", tuple(request_ids)), first=10_000)
        for _, props in sorted(page.items, key=lambda item: int(item[1].get("sequence", 1))):
            result[str(props["request_id"])].append(from_props(Approval, props))
        return result


def _requested(draft: ShareRequest, provider: str, decisions: list[Decision]) -> ShareRequest:
    """The request as decided: DENIED with every dataset's reason, or PENDING_APPROVAL with what it needs."""
    changes: dict[str, Any] = {"provider_agency_id": provider, "decision_ids": [d.id for d in decisions]}
    denied = [d for d in decisions if d.outcome == Outcome.DENY]
    if denied:
        reasons = " ".join(f"[{d.request.dataset_id}] {d.reason}" for d in denied)
        return draft.model_copy(update={**changes, "status": DENIED, "status_reason": reasons[:MAX_REASON]})
    needed = [
        requirement(NEEDS[kind], str(d.request.dataset_id), provider)
        for d in decisions
        for kind in NEEDS
        if kind in obligation_ids(d)
    ]
    return draft.model_copy(update={**changes, "status": PENDING, "required_approvals": list(dict.fromkeys(needed))})


def _check_open(
    request: ShareRequest, given: list[Approval], principal: Principal, verdict: ApprovalVerdict, now: datetime
) -> None:
    """Conflict unless `principal` can still give a verdict on this request."""
    if request.status != PENDING:
        raise Conflict(
            f"share request {request.id} is {request.status.value}; only a PENDING_APPROVAL request can be "
            f"{'approved' if verdict == ApprovalVerdict.APPROVE else 'rejected'}"
        )
    if any(a.approver_id == principal.id for a in given):
        raise Conflict(f"{principal.id} has already given a verdict on share request {request.id}")
    if verdict == ApprovalVerdict.APPROVE and timestamp(request.valid_until) <= timestamp(now):
        raise Conflict(
            f"share request {request.id} asked for a share until {timestamp(request.valid_until)}, which has "
            "passed; it can only be rejected"
        )


def _refused(decisions: list[Decision]) -> bool:
    """Explicit deny wins; otherwise a verdict stands if the policy lets its giver decide on some dataset."""
    explicit = any(d.deny_kind == DenyKind.EXPLICIT for d in decisions)
    return explicit or not any(d.outcome == Outcome.PERMIT for d in decisions)


def _fills(request: ShareRequest, given: list[Approval], decisions: list[Decision], principal: Principal) -> list[str]:
    """The required approvals this approval fills: the steward ones it can, else the second approver's.

    One person gives one verdict, and a steward's approval never also counts as the second one, so a request
    that needs four eyes always gets two people.
    """
    if not request.required_approvals:
        return []  # the policy asked for no approval in particular: any permitted approver's verdict concludes
    filled = {r for a in given for r in a.fills}
    still_open = [r for r in request.required_approvals if r not in filled]
    provider = request.provider_agency_id or ""
    can = {
        requirement(COUNTS_AS[kind], str(d.request.dataset_id), provider)
        for d in decisions
        if d.outcome == Outcome.PERMIT
        for kind in obligation_ids(d) & set(COUNTS_AS)
    }
    fills = [r for r in still_open if r in can and r.startswith(STEWARD + ":")]
    if not fills:
        fills = [r for r in still_open if r in can]
    if not fills:
        raise Conflict(
            f"share request {request.id} needs no approval that {principal.id} can give; "
            f"still open: {', '.join(still_open) or 'none'}"
        )
    return fills


__all__ = ["ShareRequestFilter", "Sharing", "requirement"]
