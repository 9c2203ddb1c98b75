"""Sharing agreements: how they are stored, what state they are in right now, who may read them, and their
lifecycle (suspend, resume, revoke, renew), each step decided by the policy and recorded with its reasons.

An agreement's lifecycle is an explicit state machine (`LIFECYCLE`). Expiry is never written: an ACTIVE or
SUSPENDED agreement *reads* as EXPIRED once the clock passes its `valid_until`, so every query and every decision
made at the same moment sees the same status, and tests that inject a clock are exact.

Every step of the sharing workflow (here and in `catalog.services.sharing`) asks the policy through
`catalog.services.decisions`: one decision per dataset, so a refusal says which dataset failed and why, recorded in
the same transaction as the change it allows. A state change first takes the node's lock (`lock`) and only then
reads the state it checks, so racing changes serialize: no agreement is ever left in two states or without its
decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from catalog.audit.append import append_event, diff
from catalog.domain import (
    TIME_BOUND_STATUSES,
    AccessRequest,
    AgreementStatus,
    Decision,
    Outcome,
    ShareRequest,
    SharingAgreement,
    parse_model,
)
from catalog.errors import Conflict, InvalidInput
from catalog.policy.attributes import Environment, Resource
from catalog.principal import Principal
from catalog.services.context import Listing, ServiceContext, the_one
from catalog.services.criteria import asked, before, contains, equals
from catalog.services.facts import agreement_status, agreement_view
from catalog.services.links import link
from catalog.store.base import GraphTx, Props
from catalog.store.query import TRUE, Cmp, Eq, In, Predicate, all_of, any_of
from catalog.store.records import from_props, timestamp, to_props
from catalog.store.schema import Label, Rel

ACTIVE, SUSPENDED, REVOKED, EXPIRED = (
    AgreementStatus.ACTIVE,
    AgreementStatus.SUSPENDED,
    AgreementStatus.REVOKED,
    AgreementStatus.EXPIRED,
)
# For each transition: the status an agreement may be in (as read now) and the status it moves to.
LIFECYCLE: dict[str, dict[AgreementStatus, AgreementStatus]] = {
    "suspend": {ACTIVE: SUSPENDED},
    "resume": {SUSPENDED: ACTIVE},
    "revoke": {ACTIVE: REVOKED, SUSPENDED: REVOKED, EXPIRED: REVOKED},
    "renew": {ACTIVE: ACTIVE, EXPIRED: ACTIVE},
}
PAST = {"suspend": "suspended", "resume": "resumed", "revoke": "revoked", "renew": "renewed"}
READ = "read_agreement"
REGISTER = "read_register"  # the agreement's entry in the public register, a narrower read than READ


def next_status(verb: str, agreement_id: str, props: Props, now: datetime) -> AgreementStatus:
    """The status `verb` moves the agreement to. Raises Conflict, naming the current status, when it may not."""
    current = agreement_status(props, now)
    allowed = LIFECYCLE[verb]
    if current not in allowed:
        starts = " or ".join(status.value for status in allowed)
        raise Conflict(
            f"agreement {agreement_id} is {current.value}; only an agreement that is {starts} can be {PAST[verb]}"
        )
    # A renewal extends the window; it never lifts a suspension (that is what resume is for).
    if verb == "renew" and props.get("status") == SUSPENDED:
        return SUSPENDED
    return allowed[current]


def status_predicate(status: AgreementStatus, now: datetime) -> Predicate:
    """Agreements whose status at `now` is `status`, as a store predicate (expiry is derived, not stored)."""
    stamp = timestamp(now)
    if status == EXPIRED:
        bound = tuple(sorted(s.value for s in TIME_BOUND_STATUSES))
        past = all_of(In("status", bound), Cmp("valid_until", "<=", stamp))
        return any_of(Eq("status", EXPIRED.value), past)
    if status in TIME_BOUND_STATUSES:
        return all_of(Eq("status", status.value), Cmp("valid_until", ">", stamp))
    return Eq("status", status.value)


def current_predicate(now: datetime) -> Predicate:
    """Agreements still in force or only paused: what an agency's register of current agreements lists."""
    return any_of(status_predicate(ACTIVE, now), status_predicate(SUSPENDED, now))


def as_read(props: Props, now: datetime) -> SharingAgreement:
    """An agreement as a reader sees it at `now`: its status is the effective one."""
    return from_props(SharingAgreement, {**props, "status": agreement_status(props, now).value})


def write_agreement(tx: GraphTx, agreement: SharingAgreement) -> Props:
    """Create the agreement node with its PROVIDER, RECIPIENT and COVERS edges. Returns the stored properties."""
    props = to_props(agreement)
    tx.create_node(Label.AGREEMENT, agreement.id, props)
    link(tx, Rel.PROVIDER, agreement.id, agreement.provider_agency_id, field="provider_agency_id")
    link(tx, Rel.RECIPIENT, agreement.id, agreement.recipient_agency_id, field="recipient_agency_id")
    for i, dataset_id in enumerate(agreement.dataset_ids):
        link(tx, Rel.COVERS, agreement.id, dataset_id, field=f"dataset_ids.{i}")
    if agreement.share_request_id:
        tx.merge_edge(Rel.RESULTED_IN, agreement.share_request_id, agreement.id)
    return props


def share_environment(
    action: str, terms: ShareRequest | SharingAgreement, now: datetime, *, fields: list[str], verdict: str = ""
) -> Environment:
    """The context of a sharing decision: the terms asked for (a request) or in force (an agreement)."""
    return Environment(
        action=action,
        purpose=terms.purpose,
        access_method=terms.access_method.value,
        fields=fields,
        now=timestamp(now),
        recipient=terms.recipient_agency_id,
        share_basis_covers_identified=terms.legal_basis.covers_identified,
        verdict=verdict,
    )


@dataclass(frozen=True)
class BetweenAgencies:
    """Criteria of what one agency shares with another (a share request, an agreement): by the agency that
    provides, the agency that receives, and a dataset it covers."""

    provider: str | None = equals("provider_agency_id")
    recipient: str | None = equals("recipient_agency_id")
    dataset: str | None = contains("dataset_ids")


@dataclass(frozen=True)
class AgreementFilter(BetweenAgencies):
    """Which agreements to list: between which agencies, about which dataset, by status, and ending when."""

    status: AgreementStatus | None = None  # as of the time asked: see `predicate`
    expiring_before: datetime | None = before("valid_until")

    def predicate(self, now: datetime) -> Predicate:
        """The agreements meeting every criterion given, their status as of `now` (expiry is derived, not stored)."""
        return all_of(*asked(self), status_predicate(AgreementStatus(self.status), now) if self.status else None)


class Agreements:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.decisions = ctx.decisions

    def register(self, principal: Principal, payload: dict[str, Any]) -> SharingAgreement:
        """Record an agreement that already exists (an admin's import of signed paper agreements).

        Args:
            payload: the SharingAgreement's fields; `id` is generated when absent.
        Returns:
            The agreement as stored, linked to its provider, recipient and covered datasets.
        """
        now = self.ctx.clock()
        # created_at is when the catalog learned of it, not something the importer may backdate.
        payload = {"id": self.ctx.new_id("agr"), **payload, "created_at": now, "version": 1, "updated_at": now}
        agreement = parse_model(SharingAgreement, payload)
        self._check(agreement)
        request = AccessRequest(action="register_agreement", agency_id=agreement.provider_agency_id)
        provider = Resource(id=agreement.id, owner=agreement.provider_agency_id)

        def work(tx: GraphTx) -> SharingAgreement:
            self.decisions.authorize(tx, principal, request, provider, now)
            props = write_agreement(tx, agreement)
            append_event(
                tx,
                principal=principal,
                action="register_agreement",
                target_ids=[
                    agreement.id,
                    agreement.provider_agency_id,
                    agreement.recipient_agency_id,
                    *agreement.dataset_ids,
                ],
                change=diff(None, props),
                at=now,
            )
            return agreement

        return self.decisions.write(work)

    def get(self, principal: Principal, id: str) -> SharingAgreement:
        """One agreement as of now. NotFound when it does not exist or `principal` may not read it."""
        return the_one(self.by_ids(principal, [id]), "SharingAgreement", id)

    def by_ids(self, principal: Principal, ids: Sequence[str]) -> dict[str, SharingAgreement]:
        now = self.ctx.clock()
        return self.ctx.visible(principal, Label.AGREEMENT, ids, lambda props: as_read(props, now))

    def list(
        self,
        principal: Principal,
        criteria: AgreementFilter,
        first: int,
        after: str | None = None,
        *,
        with_total: bool = True,
    ) -> Listing[SharingAgreement]:
        """Agreements matching `criteria` as of now, filtered inside the store query, ordered by id."""
        now = self.ctx.clock()
        where = all_of(criteria.predicate(now), self.decisions.readable(principal, READ))
        return self._page(where, now, first, after, with_total)

    def reads_every(self, principal: Principal) -> bool:
        """Whether the policy lets `principal` read every agreement: then an empty list means there are none,
        not that none may be shown to them."""
        return self.decisions.readable(principal, READ) == TRUE

    def register_entries(self, principal: Principal, first: int, after: str | None = None) -> Listing[SharingAgreement]:
        """Agreements whose public register entry `principal` may read (read_register), ordered by id. The entry
        is all a caller may take from them: reading the agreement itself is read_agreement's."""
        now = self.ctx.clock()
        return self._page(self.decisions.readable(principal, REGISTER), now, first, after, False)

    def current_register(
        self, principal: Principal, agency_id: str, first: int, after: str | None = None, *, with_total: bool = True
    ) -> Listing[SharingAgreement]:
        """The agency's central log of current sharing agreements: ACTIVE or SUSPENDED, as provider or recipient."""
        now = self.ctx.clock()
        party = any_of(Eq("provider_agency_id", agency_id), Eq("recipient_agency_id", agency_id))
        where = all_of(party, current_predicate(now), self.decisions.readable(principal, READ))
        return self._page(where, now, first, after, with_total)

    def _page(
        self, where: Predicate, now: datetime, first: int, after: str | None, with_total: bool
    ) -> Listing[SharingAgreement]:
        return self.ctx.listing(Label.AGREEMENT, where, lambda props: as_read(props, now), first, after, with_total)

    # -- the agreement's lifecycle ---------------------------------------------------------------------------

    def suspend(self, principal: Principal, agreement_id: str, reason: str) -> SharingAgreement:
        """ACTIVE -> SUSPENDED: no access under it until it is resumed."""
        return self._transition(principal, agreement_id, "suspend", _reason(reason, "suspend"))

    def resume(self, principal: Principal, agreement_id: str, reason: str) -> SharingAgreement:
        """SUSPENDED -> ACTIVE."""
        return self._transition(principal, agreement_id, "resume", _reason(reason, "resume"))

    def revoke(self, principal: Principal, agreement_id: str, reason: str) -> SharingAgreement:
        """ACTIVE, SUSPENDED or EXPIRED -> REVOKED, for good: access under it is then an explicit deny."""
        return self._transition(principal, agreement_id, "revoke", _reason(reason, "revoke"))

    def renew(
        self, principal: Principal, agreement_id: str, valid_until: datetime, reason: str | None = None
    ) -> SharingAgreement:
        """Extend the validity window of an ACTIVE or EXPIRED agreement to `valid_until` (a new decision)."""
        note = reason.strip() if reason and reason.strip() else f"renewed until {timestamp(valid_until)}"
        return self._transition(principal, agreement_id, "renew", note, valid_until)

    def _transition(
        self, principal: Principal, agreement_id: str, verb: str, reason: str, valid_until: datetime | None = None
    ) -> SharingAgreement:
        now = self.ctx.clock()

        def work(tx: GraphTx) -> SharingAgreement:
            tx.lock(Label.AGREEMENT, agreement_id)
            props = self.decisions.require_visible(tx, principal, Label.AGREEMENT, agreement_id)
            target = next_status(verb, agreement_id, props, now)
            if valid_until is not None:
                _check_renewal(props, valid_until, now)
            datasets, decisions = self._decide(tx, principal, verb, props, now)
            # The agreement is one thing: changing it needs the policy's consent for every dataset it covers.
            self.decisions.require(tx, principal, [*decisions], f"{verb} agreement {agreement_id}")
            # Renewing a suspended agreement keeps the suspension's reason: that is what still holds it back.
            keep_reason = verb == "renew" and target == SUSPENDED
            changes: Props = {
                "status": target.value,
                "status_reason": props.get("status_reason") if keep_reason else reason,
                "version": int(props.get("version", 1)) + 1,
                "updated_at": timestamp(now),
                "decision_ids": [*props.get("decision_ids", []), *(d.id for d in decisions)],
            }
            if valid_until is not None:
                changes["valid_until"] = timestamp(valid_until)
            tx.update_node(Label.AGREEMENT, agreement_id, changes)
            append_event(
                tx,
                principal=principal,
                action=f"{verb}_agreement",
                target_ids=[agreement_id, *datasets],
                change={"changes": diff({k: props.get(k) for k in changes}, changes), "reason": reason},
                at=now,
            )
            return as_read({**props, **changes}, now)

        return self.decisions.write(work)

    def _decide(
        self, tx: GraphTx, principal: Principal, verb: str, props: Props, now: datetime
    ) -> tuple[tuple[str, ...], tuple[Decision, ...]]:
        """The datasets the agreement covers and the policy's decision on `verb` for each; not recorded."""
        action = f"{verb}_agreement"  # suspend, resume, revoke or renew: each is its own policy action
        terms = from_props(SharingAgreement, props)
        datasets = self.decisions.datasets(tx, terms.dataset_ids)
        context = replace(
            share_environment(action, terms, now, fields=terms.approved_fields),
            agreement=agreement_view(props, terms.purpose, now, self.ctx.settings.classifications),
        )
        decisions = self.decisions.decide_each(
            tx, principal, action, datasets, lambda _: context, now, agreement_id=terms.id
        )
        return tuple(datasets), tuple(decisions)

    def changes_open_to(self, principal: Principal, agreement_id: str) -> tuple[str, ...]:
        """The lifecycle changes (`suspend`, `resume`, `revoke`, `renew`) the agreement's status allows now and the
        policy would let `principal` make, decided as the change itself would be but not recorded: what a page
        offers to do. NotFound, as `get`, when they may not read it."""
        now = self.ctx.clock()

        def work(tx: GraphTx) -> tuple[str, ...]:
            props = self.decisions.require_visible(tx, principal, Label.AGREEMENT, agreement_id)
            if principal.anonymous:
                return ()
            open_to: tuple[str, ...] = ()
            for verb in LIFECYCLE:
                try:
                    next_status(verb, agreement_id, props, now)
                except Conflict:
                    continue
                _, decisions = self._decide(tx, principal, verb, props, now)
                if all(d.outcome == Outcome.PERMIT for d in decisions):
                    open_to += (verb,)
            return open_to

        return self.ctx.store.read(work)

    def _check(self, agreement: SharingAgreement) -> None:
        """What the model alone cannot say: the configured vocabularies and a coherent scope."""
        purposes = self.ctx.settings.purposes
        if agreement.purpose not in purposes:
            raise InvalidInput("purpose", f"must be one of {', '.join(purposes)}")
        scheme = self.ctx.settings.classifications
        if agreement.max_classification not in scheme:
            raise InvalidInput("max_classification", f"must be one of {', '.join(scheme)}")
        if not agreement.dataset_ids:
            raise InvalidInput("dataset_ids", "must name at least one dataset")
        if agreement.valid_until <= agreement.valid_from:
            raise InvalidInput("valid_until", "must be after valid_from")


def _reason(reason: str, verb: str) -> str:
    if not reason.strip():
        raise InvalidInput("reason", f"is required: say why the agreement is {PAST[verb]}")
    return reason.strip()


def _check_renewal(props: Props, valid_until: datetime, now: datetime) -> None:
    end = timestamp(valid_until)
    if end <= timestamp(now) or end <= str(props["valid_until"]):
        raise InvalidInput("valid_until", f"must be in the future and after the current end {props['valid_until']}")
