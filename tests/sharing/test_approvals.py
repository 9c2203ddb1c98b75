"""Deciding on a share, on both backends: who may approve, four eyes, and the agreement the last approval makes."""

from __future__ import annotations

import pytest

from catalog.domain import (
    AgreementStatus,
    ApprovalVerdict,
    Decision,
    DenyKind,
    Outcome,
    PersonalData,
    ShareRequestStatus,
)
from catalog.errors import Conflict, Forbidden, InvalidInput, NotFound
from catalog.services import Services
from catalog.store.query import TRUE
from catalog.store.records import from_props
from catalog.store.schema import Label, Rel
from tests.sharing.conftest import DAY, ED, SERVICE_REQUESTS, Clock, count, ed_request, person


@pytest.fixture
def pending(services: Services, clock: Clock) -> str:
    """uma.uni's pending request for the ED data (needs hamid.health, then a second approver of health)."""
    return services.sharing.request(person(services, "uma.uni"), ed_request(clock)).id


def test_steward_then_second_approver_make_an_active_agreement(services: Services, pending: str) -> None:
    after_steward = services.sharing.approve(person(services, "hamid.health"), pending, "Fields are minimal")

    assert after_steward.status is ShareRequestStatus.PENDING_APPROVAL
    assert after_steward.agreement_id is None
    [first] = services.sharing.approvals_of([pending])[pending]
    assert (first.approver_id, first.verdict) == ("hamid.health", ApprovalVerdict.APPROVE)
    assert first.fills == [f"steward:{ED}"]

    done = services.sharing.approve(person(services, "grace.health"), pending, "Approved", ["Annual ethics review"])

    assert done.status is ShareRequestStatus.APPROVED
    assert done.agreement_id is not None
    agreement = services.agreements.get(person(services, "uma.uni"), done.agreement_id)
    assert agreement.status is AgreementStatus.ACTIVE
    assert (agreement.provider_agency_id, agreement.recipient_agency_id, agreement.dataset_ids) == (
        "health",
        "uni",
        [ED],
    )
    assert agreement.approved_fields == ["triage", "region"]  # what was asked for, not the whole dataset
    assert (agreement.purpose, agreement.access_method.value) == ("RESEARCH", "SECURE_ENCLAVE")
    assert agreement.legal_basis.statute == "Research Act s. 5"
    assert (agreement.max_classification, agreement.max_personal_data) == ("OFFICIAL", PersonalData.SPECIAL_CATEGORY)
    assert agreement.allows_identified
    assert agreement.conditions == ["Annual ethics review"]
    assert any(o.startswith("purpose-only:") for o in agreement.obligations)
    assert not any(o.startswith(("steward-approval", "second-approval")) for o in agreement.obligations)
    approvals = services.sharing.approvals_of([pending])[pending]
    assert [a.fills for a in approvals] == [[f"steward:{ED}"], ["second-approver:health"]]
    # Every step's decision is kept with the agreement: the request's, and each approval's.
    assert agreement.decision_ids == [*done.decision_ids, *(i for a in approvals for i in a.decision_ids)]


def test_the_agreement_is_linked_to_its_request_parties_and_datasets(services: Services, pending: str) -> None:
    services.sharing.approve(person(services, "hamid.health"), pending)
    agreement_id = services.sharing.approve(person(services, "grace.health"), pending).agreement_id
    assert agreement_id is not None

    def out(rel: Rel, id: str) -> list[str]:
        return services.store.read(lambda tx: tx.neighbors(rel, [id], "out")[id])

    assert out(Rel.RESULTED_IN, pending) == [agreement_id]
    assert (out(Rel.PROVIDER, agreement_id), out(Rel.RECIPIENT, agreement_id)) == (["health"], ["uni"])
    assert out(Rel.COVERS, agreement_id) == [ED]
    approval_ids = out(Rel.HAS_APPROVAL, pending)
    assert sorted(p for a in approval_ids for p in out(Rel.GIVEN_BY, a)) == ["grace.health", "hamid.health"]


def test_the_order_of_the_two_approvals_does_not_matter(services: Services, pending: str) -> None:
    services.sharing.approve(person(services, "grace.health"), pending)
    done = services.sharing.approve(person(services, "hamid.health"), pending)

    assert done.status is ShareRequestStatus.APPROVED
    fills = {a.approver_id: a.fills for a in services.sharing.approvals_of([pending])[pending]}
    assert fills == {"grace.health": ["second-approver:health"], "hamid.health": [f"steward:{ED}"]}


def test_one_steward_approval_is_enough_for_official_non_personal_data(services: Services, clock: Clock) -> None:
    payload = ed_request(clock, dataset_ids=[SERVICE_REQUESTS], purpose="STATISTICS", fields=[])
    request = services.sharing.request(person(services, "uma.uni"), payload)

    done = services.sharing.approve(person(services, "carla.city"), request.id)

    assert done.status is ShareRequestStatus.APPROVED
    assert done.agreement_id is not None
    agreement = services.agreements.get(person(services, "carla.city"), done.agreement_id)
    # Asking for no fields in particular approves the fields the dataset has today, by name.
    assert agreement.approved_fields == ["request_id", "category", "suburb", "lodged_at", "closed_at", "channel"]


def test_the_requester_can_never_approve_their_own_request(services: Services, clock: Clock) -> None:
    request = services.sharing.request(person(services, "uma.uni"), ed_request(clock)).id
    # A requester is never the provider's staff, so never its steward (the policy refuses to name one)...
    with pytest.raises(Forbidden, match="deny-ineligible-steward"):
        services.registration.assign_steward(person(services, "alice.health"), ED, "uma.uni")
    events = count(services.store, Label.DECISION)

    # ...and should a policy ever let one decide, approving their own request stays an explicit deny.
    with pytest.raises(Forbidden, match="deny-self-approval") as raised:
        services.sharing.approve(person(services, "uma.uni"), request)

    assert count(services.store, Label.DECISION) == events + 1  # the refusal is on the record
    [decision] = [d for d in _decisions(services) if d.request.action == "approve_share" and d.outcome == Outcome.DENY]
    assert (decision.outcome, decision.deny_kind) == (Outcome.DENY, DenyKind.EXPLICIT)
    assert decision.id in str(raised.value)
    assert services.sharing.get(person(services, "uma.uni"), request).status is ShareRequestStatus.PENDING_APPROVAL
    assert services.sharing.approvals_of([request])[request] == []


def test_someone_the_policy_does_not_let_decide_is_refused(services: Services, pending: str) -> None:
    with pytest.raises(Forbidden, match=r"alice\.health is not a steward of health\.ed-presentations"):
        services.sharing.approve(person(services, "alice.health"), pending)  # a data owner, not an approver

    assert services.sharing.approvals_of([pending])[pending] == []


def test_an_approver_of_another_agency_cannot_see_the_request(services: Services, pending: str) -> None:
    with pytest.raises(NotFound):
        services.sharing.approve(person(services, "samira.social"), pending)


def test_one_person_gives_one_verdict(services: Services, pending: str) -> None:
    hamid = person(services, "hamid.health")
    services.sharing.approve(hamid, pending)

    with pytest.raises(Conflict, match=r"hamid\.health has already given a verdict"):
        services.sharing.approve(hamid, pending)


def test_a_steward_who_is_also_an_approver_still_needs_a_second_pair_of_eyes(services: Services, pending: str) -> None:
    # grace, an approver, is given the steward's role and named a steward too: her approval fills the steward's
    # part only, never both.
    services.people.set_roles(person(services, "alice.health"), "grace.health", ["APPROVER", "STEWARD"])
    services.registration.assign_steward(person(services, "alice.health"), ED, "grace.health")

    after = services.sharing.approve(person(services, "grace.health"), pending)

    assert after.status is ShareRequestStatus.PENDING_APPROVAL
    [approval] = services.sharing.approvals_of([pending])[pending]
    assert approval.fills == [f"steward:{ED}"]
    with pytest.raises(Conflict, match=r"needs no approval that hamid\.health can give; still open: second-approver"):
        services.sharing.approve(person(services, "hamid.health"), pending)


def test_a_rejection_is_final_and_says_why(services: Services, pending: str) -> None:
    with pytest.raises(InvalidInput, match="reason: is required"):
        services.sharing.reject(person(services, "grace.health"), pending, "  ")

    rejected = services.sharing.reject(person(services, "grace.health"), pending, "No ethics approval yet")

    assert (rejected.status, rejected.status_reason) == (ShareRequestStatus.REJECTED, "No ethics approval yet")
    [approval] = services.sharing.approvals_of([pending])[pending]
    assert (approval.verdict, approval.fills) == (ApprovalVerdict.REJECT, [])
    with pytest.raises(Conflict, match="is REJECTED; only a PENDING_APPROVAL request can be approved"):
        services.sharing.approve(person(services, "hamid.health"), pending)


def test_an_approved_or_denied_request_cannot_be_decided_again(services: Services, clock: Clock) -> None:
    denied = services.sharing.request(person(services, "rui.uni"), ed_request(clock)).id

    with pytest.raises(Conflict, match="is DENIED"):
        services.sharing.approve(person(services, "hamid.health"), denied)


def test_a_request_whose_window_has_passed_can_only_be_rejected(services: Services, clock: Clock, pending: str) -> None:
    clock.advance(91 * DAY)

    with pytest.raises(Conflict, match="which has passed; it can only be rejected"):
        services.sharing.approve(person(services, "hamid.health"), pending)
    assert services.sharing.reject(person(services, "hamid.health"), pending, "Too late").status is (
        ShareRequestStatus.REJECTED
    )


def test_a_withdrawn_dataset_is_never_approved_but_may_be_rejected(services: Services, pending: str) -> None:
    services.registration.update_dataset(
        person(services, "alice.health"), ED, {"status": "WITHDRAWN"}, reason="Coding errors found"
    )

    with pytest.raises(Forbidden, match="deny-approving-withdrawn-dataset"):
        services.sharing.approve(person(services, "hamid.health"), pending)
    assert services.sharing.reject(person(services, "hamid.health"), pending, "Withdrawn").status is (
        ShareRequestStatus.REJECTED
    )


def _decisions(services: Services) -> list[Decision]:
    page = services.store.read(lambda tx: tx.find_nodes(Label.DECISION, TRUE, first=10_000))
    return [from_props(Decision, props) for _, props in page.items]
