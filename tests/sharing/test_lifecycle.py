"""An agreement's lifecycle on both backends: an explicit state machine, expiry by the (injected) clock, and
access that follows the agreement's state at the moment of the decision.
"""

from __future__ import annotations

from typing import Any

import pytest

from catalog.domain import AgreementStatus, DenyKind, Outcome, SharingAgreement
from catalog.errors import Conflict, Forbidden, InvalidInput
from catalog.principal import SYSTEM, Principal
from catalog.services import AgreementFilter, Services
from catalog.store.schema import Label, Rel
from tests.sharing.conftest import DAY, ED, Clock, count, ed_request, person

ACCESS = {"dataset_id": ED, "purpose": "RESEARCH", "access_method": "SECURE_ENCLAVE", "fields": ["region"]}


@pytest.fixture
def agreement(services: Services, clock: Clock) -> SharingAgreement:
    """An ACTIVE agreement health -> uni for the ED data, made through the workflow, valid for 90 days."""
    request = services.sharing.request(person(services, "uma.uni"), ed_request(clock))
    services.sharing.approve(person(services, "hamid.health"), request.id)
    agreement_id = services.sharing.approve(person(services, "grace.health"), request.id).agreement_id
    assert agreement_id is not None
    return services.agreements.get(person(services, "grace.health"), agreement_id)


def grace(services: Services) -> Principal:
    return person(services, "grace.health")


def access(services: Services) -> Any:
    return services.access.check(person(services, "uma.uni"), ACCESS)


def test_access_follows_the_agreement_through_suspension_and_resumption(
    services: Services, agreement: SharingAgreement
) -> None:
    assert access(services).outcome is Outcome.PERMIT
    assert access(services).agreement_id == agreement.id

    suspended = services.agreements.suspend(grace(services), agreement.id, "Audit of the enclave")
    refused = access(services)
    resumed = services.agreements.resume(grace(services), agreement.id, "Audit passed")

    assert (suspended.status, suspended.status_reason, suspended.version) == (
        AgreementStatus.SUSPENDED,
        "Audit of the enclave",
        2,
    )
    assert (refused.outcome, refused.deny_kind) == (Outcome.DENY, DenyKind.IMPLICIT)
    assert f"agreement {agreement.id} is suspended: " in refused.reason
    assert (resumed.status, resumed.version) == (AgreementStatus.ACTIVE, 3)
    assert access(services).outcome is Outcome.PERMIT


def test_expiry_is_read_at_decision_time_and_named_in_the_refusal(
    services: Services, clock: Clock, agreement: SharingAgreement
) -> None:
    clock.advance(90 * DAY)  # exactly valid_until: the window is half-open, so it has just ended

    refused = access(services)

    assert services.agreements.get(grace(services), agreement.id).status is AgreementStatus.EXPIRED
    assert (refused.outcome, refused.deny_kind) == (Outcome.DENY, DenyKind.IMPLICIT)
    assert f"agreement {agreement.id} expired on" in refused.reason
    stored = services.store.read(lambda tx: tx.get_node(Label.AGREEMENT, agreement.id))
    assert stored is not None and stored["status"] == "ACTIVE"  # expiry is derived, never written


def test_one_instant_before_the_end_it_is_still_active(
    services: Services, clock: Clock, agreement: SharingAgreement
) -> None:
    clock.advance(90 * DAY - DAY / 86_400_000_000)  # one microsecond before valid_until

    assert services.agreements.get(grace(services), agreement.id).status is AgreementStatus.ACTIVE
    assert access(services).outcome is Outcome.PERMIT


def test_a_renewal_is_a_new_decision_and_brings_an_expired_agreement_back(
    services: Services, clock: Clock, agreement: SharingAgreement
) -> None:
    clock.advance(100 * DAY)
    decisions = count(services.store, Label.DECISION)

    renewed = services.agreements.renew(grace(services), agreement.id, clock() + 180 * DAY, "Extension approved")

    assert (renewed.status, renewed.valid_until, renewed.version) == (AgreementStatus.ACTIVE, clock() + 180 * DAY, 2)
    assert count(services.store, Label.DECISION) == decisions + 1
    renewal = services.sharing.decisions_by_ids(SYSTEM, [renewed.decision_ids[-1]])[renewed.decision_ids[-1]]
    assert (renewal.request.action, renewal.outcome, renewal.agreement_id) == (
        "renew_agreement",
        Outcome.PERMIT,
        agreement.id,
    )
    assert renewal.determining_rules == ["renew-agreement-provider"]
    under = services.store.read(lambda tx: tx.neighbors(Rel.UNDER, [renewal.id], "out")[renewal.id])
    assert under == [agreement.id]
    assert access(services).outcome is Outcome.PERMIT


def test_a_revocation_makes_access_an_explicit_deny_and_is_final(
    services: Services, agreement: SharingAgreement
) -> None:
    revoked = services.agreements.revoke(person(services, "hamid.health"), agreement.id, "Breach BR-2026-3")

    refused = access(services)

    assert (revoked.status, revoked.status_reason) == (AgreementStatus.REVOKED, "Breach BR-2026-3")
    assert (refused.outcome, refused.deny_kind, refused.determining_rules) == (
        Outcome.DENY,
        DenyKind.EXPLICIT,
        ["deny-revoked-agreement"],
    )
    for change in (
        lambda: services.agreements.renew(grace(services), agreement.id, agreement.valid_until + DAY),
        lambda: services.agreements.resume(grace(services), agreement.id, "Oops"),
        lambda: services.agreements.suspend(grace(services), agreement.id, "Again"),
        lambda: services.agreements.revoke(grace(services), agreement.id, "Again"),
    ):
        with pytest.raises(Conflict, match=f"agreement {agreement.id} is REVOKED"):
            change()


@pytest.mark.parametrize(
    ("verb", "current", "allowed"),
    [
        ("resume", "ACTIVE", "SUSPENDED"),
        ("suspend", "SUSPENDED", "ACTIVE"),
        ("suspend", "EXPIRED", "ACTIVE"),
        ("resume", "EXPIRED", "SUSPENDED"),
        ("renew", "SUSPENDED", "ACTIVE or EXPIRED"),
    ],
)
def test_an_illegal_transition_is_a_conflict_naming_the_current_state(
    services: Services, clock: Clock, agreement: SharingAgreement, verb: str, current: str, allowed: str
) -> None:
    if current == "SUSPENDED":
        services.agreements.suspend(grace(services), agreement.id, "Paused")
    if current == "EXPIRED":
        clock.advance(91 * DAY)
    decisions = count(services.store, Label.DECISION)
    change = getattr(services.agreements, verb)
    argument = clock() + 200 * DAY if verb == "renew" else "why"

    with pytest.raises(Conflict) as raised:
        change(grace(services), agreement.id, argument)

    past = {"resume": "resumed", "suspend": "suspended", "renew": "renewed"}[verb]
    expected = f"agreement {agreement.id} is {current}; only an agreement that is {allowed} can be {past}"
    assert str(raised.value) == expected
    assert count(services.store, Label.DECISION) == decisions  # nothing was decided, nothing recorded


def test_a_suspended_agreement_that_expires_reads_expired_and_a_renewal_keeps_it_suspended(
    services: Services, clock: Clock, agreement: SharingAgreement
) -> None:
    services.agreements.suspend(grace(services), agreement.id, "Enclave audit")
    clock.advance(91 * DAY)
    assert services.agreements.get(grace(services), agreement.id).status is AgreementStatus.EXPIRED

    renewed = services.agreements.renew(grace(services), agreement.id, clock() + 30 * DAY)

    assert (renewed.status, renewed.status_reason) == (AgreementStatus.SUSPENDED, "Enclave audit")
    assert access(services).outcome is Outcome.DENY


def test_a_renewal_must_move_the_end_later_and_into_the_future(
    services: Services, clock: Clock, agreement: SharingAgreement
) -> None:
    with pytest.raises(InvalidInput, match="valid_until: must be in the future and after the current end"):
        services.agreements.renew(grace(services), agreement.id, agreement.valid_until - DAY)


def test_changes_need_a_reason(services: Services, agreement: SharingAgreement) -> None:
    with pytest.raises(InvalidInput, match="reason: is required: say why the agreement is suspended"):
        services.agreements.suspend(grace(services), agreement.id, "")


def test_the_policy_decides_who_may_change_an_agreement_and_refusals_are_recorded(
    services: Services, agreement: SharingAgreement
) -> None:
    uma = person(services, "uma.uni")  # the recipient's analyst reads the agreement but may not revoke it
    decisions = count(services.store, Label.DECISION)

    with pytest.raises(Forbidden, match=r"is not permitted: uma\.uni is not a steward"):
        services.agreements.revoke(uma, agreement.id, "Not needed any more")

    assert count(services.store, Label.DECISION) == decisions + 1
    assert services.agreements.get(uma, agreement.id).status is AgreementStatus.ACTIVE
    with pytest.raises(Forbidden, match=r"Renewing an agreement on .* is not permitted"):
        services.agreements.renew(person(services, "hamid.health"), agreement.id, agreement.valid_until + DAY)


def test_a_renewal_is_refused_once_the_data_became_more_sensitive(
    services: Services, agreement: SharingAgreement
) -> None:
    services.registration.update_dataset(
        person(services, "alice.health"), ED, {"classification": "PROTECTED"}, reason="Small-area counts found"
    )

    with pytest.raises(Forbidden, match=r"is PROTECTED now, above the OFFICIAL agreement"):
        services.agreements.renew(grace(services), agreement.id, agreement.valid_until + DAY)


def test_the_status_filter_and_the_register_see_expiry_as_of_now(
    services: Services, clock: Clock, agreement: SharingAgreement
) -> None:
    auditor = person(services, "auditor")

    def ids(status: str | None = None, **criteria: Any) -> set[str]:
        chosen = AgreementStatus(status) if status else None
        listing = services.agreements.list(auditor, AgreementFilter(status=chosen, **criteria), first=50)
        return {a.id for a in listing.items}

    def register(agency: str) -> set[str]:
        return {a.id for a in services.agreements.current_register(auditor, agency, first=50).items}

    assert agreement.id in ids("ACTIVE") and agreement.id in register("health") and agreement.id in register("uni")
    assert ids("ACTIVE", dataset=ED, provider="health", recipient="uni") == {agreement.id}
    assert ids(expiring_before=clock() + 91 * DAY, dataset=ED) == {agreement.id}
    assert ids(expiring_before=clock() + 89 * DAY, dataset=ED) == set()

    clock.advance(90 * DAY)

    assert agreement.id not in ids("ACTIVE")
    assert agreement.id in ids("EXPIRED")
    assert agreement.id not in register("health")
    # The demo's own agreements: one active (health -> uni), one marked EXPIRED, one REVOKED.
    assert ids("REVOKED") == {"agr.social-stats-housing-statistics"}
    assert "agr.social-city-tenancy-support" in ids("EXPIRED")
