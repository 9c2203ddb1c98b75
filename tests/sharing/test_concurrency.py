"""Racing changes on both backends, from threads: each step sees the last one's result (compare-and-set).

Whatever the interleaving, an agreement ends in exactly one state, every change that went through has its
decision, and nothing that was refused left a trace beyond its own refusal.
"""

from __future__ import annotations

from catalog.domain import AgreementStatus, Decision, ShareRequestStatus
from catalog.errors import CatalogError, Conflict
from catalog.services import Services
from catalog.store.query import TRUE
from catalog.store.records import from_props
from catalog.store.schema import Label
from tests.sharing.conftest import DAY, Clock, count, ed_request, person
from tests.support.racing import race

RACERS = 6


def made(services: Services, clock: Clock) -> tuple[str, str]:
    """A request fully approved through the workflow: (request id, agreement id)."""
    request = services.sharing.request(person(services, "uma.uni"), ed_request(clock))
    services.sharing.approve(person(services, "hamid.health"), request.id)
    agreement_id = services.sharing.approve(person(services, "grace.health"), request.id).agreement_id
    assert agreement_id is not None
    return request.id, agreement_id


def decisions_under(services: Services, agreement_id: str, action: str) -> int:
    """How many `action` decisions were recorded about the agreement."""
    page = services.store.read(lambda tx: tx.find_nodes(Label.DECISION, TRUE, first=10_000))
    decisions = [from_props(Decision, props) for _, props in page.items]
    return sum(1 for d in decisions if d.agreement_id == agreement_id and d.request.action == action)


def test_of_many_racing_revocations_exactly_one_goes_through(services: Services, clock: Clock) -> None:
    _, agreement_id = made(services, clock)
    grace = person(services, "grace.health")

    results = race(*[lambda: services.agreements.revoke(grace, agreement_id, "Breach")] * RACERS, refused=CatalogError)

    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and won[0].version == 2
    assert all(isinstance(r, Conflict) and "is REVOKED" in str(r) for r in lost)
    assert services.agreements.get(grace, agreement_id).version == 2
    assert decisions_under(services, agreement_id, "revoke_agreement") == 1


def test_a_renewal_racing_a_revocation_ends_revoked_with_a_decision_per_change(
    services: Services, clock: Clock
) -> None:
    _, agreement_id = made(services, clock)
    grace = person(services, "grace.health")

    renewal, revocation = race(
        lambda: services.agreements.renew(grace, agreement_id, clock() + 200 * DAY),
        lambda: services.agreements.revoke(grace, agreement_id, "Breach"),
        refused=CatalogError,
    )

    final = services.agreements.get(grace, agreement_id)
    assert final.status is AgreementStatus.REVOKED and not isinstance(revocation, Exception)
    # Either the renewal came first (and counted), or it met the revocation and was refused as a conflict.
    renewed = not isinstance(renewal, Exception)
    assert renewed or (isinstance(renewal, Conflict) and "is REVOKED" in str(renewal))
    assert final.version == 2 + renewed
    assert decisions_under(services, agreement_id, "renew_agreement") == renewed
    assert decisions_under(services, agreement_id, "revoke_agreement") == 1


def test_the_two_last_approvals_racing_make_exactly_one_agreement(services: Services, clock: Clock) -> None:
    demo_agreements = count(services.store, Label.AGREEMENT)
    request = services.sharing.request(person(services, "uma.uni"), ed_request(clock))
    hamid, grace = person(services, "hamid.health"), person(services, "grace.health")

    results = race(
        lambda: services.sharing.approve(hamid, request.id),
        lambda: services.sharing.approve(grace, request.id),
        refused=CatalogError,
    )

    assert not any(isinstance(r, Exception) for r in results)
    final = services.sharing.get(hamid, request.id)
    assert final.status is ShareRequestStatus.APPROVED
    assert count(services.store, Label.AGREEMENT) == demo_agreements + 1
    assert sorted(r.status.value for r in results) == ["APPROVED", "PENDING_APPROVAL"]
    approvals = services.sharing.approvals_of([request.id])[request.id]
    assert sorted(a.approver_id for a in approvals) == ["grace.health", "hamid.health"]
    agreement = services.agreements.get(hamid, str(final.agreement_id))
    assert set(agreement.decision_ids) >= {i for a in approvals for i in a.decision_ids}


def test_one_approver_clicking_many_times_approves_once(services: Services, clock: Clock) -> None:
    request = services.sharing.request(person(services, "uma.uni"), ed_request(clock))
    hamid = person(services, "hamid.health")

    results = race(*[lambda: services.sharing.approve(hamid, request.id)] * RACERS, refused=CatalogError)

    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert all("already given a verdict" in str(r) for r in results if isinstance(r, Exception))
    assert len(services.sharing.approvals_of([request.id])[request.id]) == 1


def test_a_last_approval_racing_a_rejection_never_leaves_both(services: Services, clock: Clock) -> None:
    demo_agreements = count(services.store, Label.AGREEMENT)
    request = services.sharing.request(person(services, "uma.uni"), ed_request(clock))
    services.sharing.approve(person(services, "hamid.health"), request.id)
    grace = person(services, "grace.health")
    # A second approver of health, so the rejection and the last approval come from two people.
    services.registration.register_person(
        person(services, "alice.health"),
        {"id": "ivy.health", "name": "Ivy Chen", "agency_id": "health", "roles": ["APPROVER"]},
    )
    ivy = person(services, "ivy.health")

    approval, rejection = race(
        lambda: services.sharing.approve(grace, request.id),
        lambda: services.sharing.reject(ivy, request.id, "Not without ethics approval"),
        refused=CatalogError,
    )

    final = services.sharing.get(grace, request.id)
    agreements = count(services.store, Label.AGREEMENT) - demo_agreements
    if final.status is ShareRequestStatus.APPROVED:
        assert agreements == 1 and isinstance(rejection, Conflict) and "is APPROVED" in str(rejection)
    else:
        assert final.status is ShareRequestStatus.REJECTED
        assert agreements == 0 and isinstance(approval, Conflict) and "is REJECTED" in str(approval)
