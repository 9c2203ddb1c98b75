"""The sharing workflow through GraphQL (in process), on both backends: the contract a client sees."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.principal import SYSTEM
from catalog.services import Services
from tests.sharing.conftest import DAY, ED, SERVICE_REQUESTS, Clock, ed_ask
from tests.support.graphql import graphql_input, trips_of

Gql = Callable[..., dict[str, Any]]
REQUEST = """mutation($i: RequestShareInput!) { requestShare(input: $i) { id status statusReason
    requiredApprovals { requirement kind datasetId agencyId filledBy } decisions { outcome reason } } }"""
APPROVE = """mutation($id: ID!, $note: String) { approveShare(requestId: $id, note: $note) { status
    agreement { id status approvedFields } approvals { approver { id } fills verdict } } }"""


@pytest.fixture
def gql(services: Services) -> Iterator[Gql]:
    with TestClient(create_app(services), raise_server_exceptions=False) as client:

        def run(query: str, variables: dict[str, Any] | None = None, *, as_: str) -> dict[str, Any]:
            token = issue_token(services.reads.person(SYSTEM, as_), services.ctx.settings.auth)
            response = client.post(
                "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
            )
            body: dict[str, Any] = response.json()
            return body

        yield run


def ask(clock: Clock, **changes: Any) -> dict[str, Any]:
    return {**graphql_input(ed_ask(clock() + 90 * DAY)), **changes}


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def agreement_of(gql: Gql, clock: Clock) -> str:
    request = gql(REQUEST, {"i": ask(clock)}, as_="uma.uni")["data"]["requestShare"]["id"]
    gql(APPROVE, {"id": request}, as_="hamid.health")
    approved = gql(APPROVE, {"id": request}, as_="grace.health")["data"]["approveShare"]
    return str(approved["agreement"]["id"])


def test_request_then_two_approvals_through_graphql(gql: Gql, clock: Clock) -> None:
    asked = gql(REQUEST, {"i": ask(clock)}, as_="uma.uni")["data"]["requestShare"]
    first = gql(APPROVE, {"id": asked["id"], "note": "Minimal"}, as_="hamid.health")["data"]["approveShare"]
    second = gql(APPROVE, {"id": asked["id"]}, as_="grace.health")["data"]["approveShare"]

    assert asked["status"] == "PENDING_APPROVAL" and asked["decisions"][0]["outcome"] == "PERMIT"
    assert asked["requiredApprovals"] == [
        {"requirement": f"steward:{ED}", "kind": "STEWARD", "datasetId": ED, "agencyId": None, "filledBy": None},
        {
            "requirement": "second-approver:health",
            "kind": "SECOND_APPROVER",
            "datasetId": None,
            "agencyId": "health",
            "filledBy": None,
        },
    ]
    assert (first["status"], first["agreement"]) == ("PENDING_APPROVAL", None)
    assert second["status"] == "APPROVED"
    assert second["agreement"]["status"] == "ACTIVE" and second["agreement"]["approvedFields"] == ["triage", "region"]
    assert [a["approver"]["id"] for a in second["approvals"]] == ["hamid.health", "grace.health"]


def test_an_auditor_reads_the_agreement_with_every_decision_approval_and_dataset(gql: Gql, clock: Clock) -> None:
    agreement_id = agreement_of(gql, clock)
    gql(
        'mutation($id: ID!) { suspendAgreement(id: $id, reason: "Audit") { status } }',
        {"id": agreement_id},
        as_="grace.health",
    )

    read = gql(
        """query($id: ID!) { agreement(id: $id) { status statusReason version provider { id } recipient { id }
           datasets { id } approvals { approverId } shareRequest { requester { id } }
           decisions { request { action } outcome reason policyVersion } } }""",
        {"id": agreement_id},
        as_="auditor",
    )["data"]["agreement"]

    assert (read["status"], read["statusReason"], read["version"]) == ("SUSPENDED", "Audit", 2)
    assert (read["provider"]["id"], read["recipient"]["id"], read["datasets"]) == ("health", "uni", [{"id": ED}])
    assert read["shareRequest"]["requester"]["id"] == "uma.uni"
    assert [d["request"]["action"] for d in read["decisions"]] == [
        "request_share",
        "approve_share",
        "approve_share",
        "suspend_agreement",
    ]
    assert all(d["reason"] and d["policyVersion"] for d in read["decisions"])


def test_errors_carry_their_codes_and_name_the_field(gql: Gql, clock: Clock) -> None:
    bad = gql(REQUEST, {"i": ask(clock, datasetIds=[ED, "nope"])}, as_="uma.uni")
    agreement_id = agreement_of(gql, clock)
    revoke = 'mutation($id: ID!) { revokeAgreement(id: $id, reason: "Breach") { status } }'
    gql(revoke, {"id": agreement_id}, as_="grace.health")
    again = gql(revoke, {"id": agreement_id}, as_="grace.health")
    hidden = gql("query($id: ID!) { agreement(id: $id) { id } }", {"id": agreement_id}, as_="nora.social")
    mine = gql(REQUEST, {"i": ask(clock)}, as_="uma.uni")["data"]["requestShare"]["id"]
    own = gql(APPROVE, {"id": mine}, as_="uma.uni")

    assert codes(bad) == ["BAD_USER_INPUT"] and bad["errors"][0]["extensions"]["field"] == "datasetIds.1"
    assert codes(again) == ["CONFLICT"] and "is REVOKED" in again["errors"][0]["message"]
    assert codes(hidden) == ["NOT_FOUND"]
    assert codes(own) == ["FORBIDDEN"] and "deny-self-approval" in own["errors"][0]["message"]


def test_lists_filter_by_status_as_of_now_and_the_register_lists_current_agreements(gql: Gql, clock: Clock) -> None:
    agreement_id = agreement_of(gql, clock)
    query = """query($f: AgreementFilterInput, $a: ID!) { agreements(filter: $f) { totalCount edges { node { id } } }
               agreementRegister(agencyId: $a) { edges { node { id status } } } }"""

    def read(status: str, agency: str = "uni") -> tuple[set[str], set[str]]:
        data = gql(query, {"f": {"status": status, "dataset": ED}, "a": agency}, as_="auditor")["data"]
        listed = {e["node"]["id"] for e in data["agreements"]["edges"]}
        return listed, {e["node"]["id"] for e in data["agreementRegister"]["edges"]}

    assert read("ACTIVE") == ({agreement_id}, {agreement_id, "agr.health-uni-research"})
    clock.advance(91 * DAY)
    # Ours has expired; the demo's own health -> uni agreement runs for a year, so it is still current.
    assert read("EXPIRED") == ({agreement_id}, {"agr.health-uni-research"})
    requests = gql('{ shareRequests(filter: {requester: "uma.uni", status: APPROVED}) { totalCount } }', as_="uma.uni")[
        "data"
    ]["shareRequests"]
    assert requests["totalCount"] == 1


def test_listing_agreements_with_their_details_costs_the_same_round_trips_for_one_or_many(
    services: Services, gql: Gql, clock: Clock
) -> None:
    query = """{ agreements(first: 50) { edges { node { id provider { name } datasets { id } approvals { fills }
                decisions { outcome } shareRequest { status } } } } }"""

    agreement_of(gql, clock)
    one = trips_of(gql, services, query)  # the auditor's record is read on the first run, then remembered
    for dataset in (SERVICE_REQUESTS, SERVICE_REQUESTS):
        changes = {"datasetIds": [dataset], "purpose": "STATISTICS", "fields": []}
        request = gql(REQUEST, {"i": ask(clock, **changes)}, as_="uma.uni")["data"]["requestShare"]["id"]
        gql(APPROVE, {"id": request}, as_="carla.city")

    assert trips_of(gql, services, query) == one
