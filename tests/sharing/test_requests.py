"""Asking for a share, on both backends: a request is recorded with its decisions, PENDING_APPROVAL or DENIED."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.domain import DenyKind, Outcome, ShareRequestStatus
from catalog.errors import InvalidInput, Unauthenticated
from catalog.principal import ANONYMOUS, SYSTEM
from catalog.services import Services, ShareRequestFilter
from catalog.store.schema import Label, Rel
from tests.sharing.conftest import DAY, ED, SERVICE_REQUESTS, Clock, count, ed_request, person


def test_a_special_category_request_needs_its_steward_and_a_second_approver(services: Services, clock: Clock) -> None:
    request = services.sharing.request(person(services, "uma.uni"), ed_request(clock))

    assert request.status is ShareRequestStatus.PENDING_APPROVAL
    assert request.required_approvals == [f"steward:{ED}", "second-approver:health"]
    assert (request.requester_id, request.provider_agency_id) == ("uma.uni", "health")
    [decision] = services.sharing.decisions_by_ids(SYSTEM, request.decision_ids).values()
    assert (decision.outcome, decision.request.action, decision.request.dataset_id) == (
        Outcome.PERMIT,
        "request_share",
        ED,
    )
    assert decision.determining_rules == ["share-request-five-safes"]
    assert any(o.startswith("second-approval:") for o in decision.obligations)
    assert services.sharing.get(person(services, "uma.uni"), request.id) == request


def test_an_official_non_personal_request_needs_only_its_steward(services: Services, clock: Clock) -> None:
    payload = ed_request(clock, dataset_ids=[SERVICE_REQUESTS], purpose="STATISTICS", fields=[])

    request = services.sharing.request(person(services, "uma.uni"), payload)

    assert request.status is ShareRequestStatus.PENDING_APPROVAL
    assert request.required_approvals == [f"steward:{SERVICE_REQUESTS}"]


def test_the_request_is_linked_to_its_requester_datasets_and_decisions(services: Services, clock: Clock) -> None:
    events = count(services.store, Label.AUDIT_EVENT)

    request = services.sharing.request(person(services, "uma.uni"), ed_request(clock))

    links = services.store.read(
        lambda tx: {rel: tx.neighbors(rel, [request.id], "out")[request.id] for rel in (Rel.BY, Rel.FOR)}
    )
    assert links == {Rel.BY: ["uma.uni"], Rel.FOR: [ED]}
    decision_links = services.store.read(lambda tx: tx.neighbors(Rel.ABOUT, request.decision_ids, "out"))
    assert decision_links == {request.decision_ids[0]: [ED]}
    # One event for the decision and one for the request itself.
    assert count(services.store, Label.AUDIT_EVENT) == events + 2


def test_a_refusal_is_recorded_and_says_why_to_the_requester(services: Services, clock: Clock) -> None:
    rui = person(services, "rui.uni")  # never trained

    request = services.sharing.request(rui, ed_request(clock, access_method="DOWNLOAD"))

    assert request.status is ShareRequestStatus.DENIED
    assert request.required_approvals == []
    assert request.status_reason is not None
    assert f"[{ED}]" in request.status_reason
    assert "rui.uni has no data-ethics training on record" in request.status_reason
    assert "cannot be shared for download" not in request.status_reason  # OFFICIAL may be downloaded...
    # ...but special-category data may not leave the secure settings
    assert "SPECIAL_CATEGORY personal data is shared only for SECURE_ENCLAVE" in request.status_reason
    [decision] = services.sharing.decisions_by_ids(SYSTEM, request.decision_ids).values()
    assert (decision.outcome, decision.deny_kind) == (Outcome.DENY, DenyKind.IMPLICIT)
    # The requester reads the refusal back, decision and all.
    assert services.sharing.get(rui, request.id).status_reason == request.status_reason
    assert services.access.get(rui, decision.id).reason == decision.reason


def test_a_request_from_outside_the_recipient_agency_is_denied(services: Services, clock: Clock) -> None:
    request = services.sharing.request(person(services, "nora.social"), ed_request(clock))

    assert request.status is ShareRequestStatus.DENIED
    assert "nora.social is not staff of uni, the agency the share would be for" in (request.status_reason or "")


def test_identified_data_must_be_asked_for_field_by_field(services: Services, clock: Clock) -> None:
    request = services.sharing.request(person(services, "uma.uni"), ed_request(clock, fields=[]))

    assert request.status is ShareRequestStatus.DENIED
    assert "identifies people (PSEUDONYMISED), so a share of it must name the fields" in (request.status_reason or "")


def test_law_enforcement_requests_are_an_explicit_deny(services: Services, clock: Clock) -> None:
    payload = ed_request(clock, dataset_ids=[SERVICE_REQUESTS], purpose="LAW_ENFORCEMENT", fields=[])

    request = services.sharing.request(person(services, "uma.uni"), payload)

    [decision] = services.sharing.decisions_by_ids(SYSTEM, request.decision_ids).values()
    assert request.status is ShareRequestStatus.DENIED
    assert (decision.deny_kind, decision.determining_rules) == (DenyKind.EXPLICIT, ["deny-law-enforcement"])


def test_one_decision_per_dataset_each_about_its_own_fields(services: Services, clock: Clock) -> None:
    # uma may see the de-identified extract because uni holds an agreement for it.
    payload = ed_request(clock, dataset_ids=[ED, "health.admissions-deid"], fields=["triage", "region"])

    request = services.sharing.request(person(services, "uma.uni"), payload)

    decisions = services.sharing.decisions_by_ids(SYSTEM, request.decision_ids)
    by_dataset = {d.request.dataset_id: d for d in decisions.values()}
    assert by_dataset[ED].request.fields == ["triage", "region"]
    assert by_dataset["health.admissions-deid"].request.fields == ["region"]
    assert {d.outcome for d in by_dataset.values()} == {Outcome.PERMIT}
    assert request.status is ShareRequestStatus.PENDING_APPROVAL
    assert request.required_approvals == [
        f"steward:{ED}",
        "second-approver:health",
        "steward:health.admissions-deid",
    ]


def test_one_denied_dataset_denies_the_request_and_is_named(services: Services, clock: Clock) -> None:
    # The extract may be used for policy work; the ED data may not.
    payload = ed_request(clock, dataset_ids=[ED, "health.admissions-deid"], purpose="POLICY_AND_PROGRAMS")

    request = services.sharing.request(person(services, "uma.uni"), payload)

    decisions = services.sharing.decisions_by_ids(SYSTEM, request.decision_ids).values()
    outcomes = {d.request.dataset_id: d.outcome for d in decisions}
    assert outcomes == {ED: Outcome.DENY, "health.admissions-deid": Outcome.PERMIT}
    assert request.status is ShareRequestStatus.DENIED
    assert f"[{ED}]" in (request.status_reason or "")
    assert "[health.admissions-deid]" not in (request.status_reason or "")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dataset_ids": []}, "dataset_ids"),
        ({"dataset_ids": [ED, ED]}, "dataset_ids"),
        ({"dataset_ids": [ED, "no-such-dataset"]}, "dataset_ids.1"),
        ({"dataset_ids": ["health.admissions"]}, "dataset_ids.0"),  # exists, but uma may not see it
        ({"dataset_ids": [ED, SERVICE_REQUESTS]}, "dataset_ids"),  # two providers
        ({"recipient_agency_id": "nowhere"}, "recipient_agency_id"),
        ({"purpose": "MARKETING"}, "purpose"),
        ({"fields": ["triage", "shoe_size"]}, "fields.1"),
        ({"access_method": "EMAIL"}, "access_method"),
        ({"valid_until": "yesterday"}, "valid_until"),
        ({"status": "APPROVED"}, "status"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    services: Services, clock: Clock, changes: dict[str, Any], field: str
) -> None:
    events, requests = count(services.store, Label.AUDIT_EVENT), count(services.store, Label.SHARE_REQUEST)

    with pytest.raises(InvalidInput) as raised:
        services.sharing.request(person(services, "uma.uni"), ed_request(clock, **changes))

    assert raised.value.field == field
    assert count(services.store, Label.SHARE_REQUEST) == requests
    assert count(services.store, Label.AUDIT_EVENT) == events


def test_the_window_must_end_in_the_future_and_after_it_starts(services: Services, clock: Clock) -> None:
    uma = person(services, "uma.uni")

    with pytest.raises(InvalidInput, match="valid_until: must be in the future"):
        services.sharing.request(uma, ed_request(clock, valid_from=clock() - 9 * DAY, valid_until=clock() - DAY))
    with pytest.raises(InvalidInput, match="valid_until: must be after valid_from"):
        services.sharing.request(uma, ed_request(clock, valid_from=clock() + 9 * DAY, valid_until=clock() + DAY))


def test_anonymous_callers_cannot_ask(services: Services, clock: Clock) -> None:
    with pytest.raises(Unauthenticated):
        services.sharing.request(ANONYMOUS, ed_request(clock))


def test_requests_are_listed_to_the_parties_and_filtered_in_the_store(services: Services, clock: Clock) -> None:
    uma = person(services, "uma.uni")
    pending = services.sharing.request(uma, ed_request(clock))
    denied = services.sharing.request(person(services, "rui.uni"), ed_request(clock))

    def ids(as_: str, **criteria: Any) -> set[str]:  # on the ED data: the demo's own requests are on others
        listing = services.sharing.requests(person(services, as_), ShareRequestFilter(dataset=ED, **criteria), first=50)
        return {r.id for r in listing.items}

    assert ids("uma.uni") == {pending.id, denied.id}  # her agency's requests
    assert ids("grace.health") == {pending.id, denied.id}  # the provider's approver
    assert ids("nora.social") == set()  # a bystander agency
    assert ids("auditor", status=ShareRequestStatus.DENIED) == {denied.id}
    assert ids("hamid.health", requester="uma.uni", provider="health", recipient="uni") == {pending.id}
