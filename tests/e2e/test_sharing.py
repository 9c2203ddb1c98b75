"""The data-sharing workflow over real HTTP against `catalog serve`, on both backends.

The server runs on the real clock, so expiry is reached by asking for a short validity window and waiting it
out. Racing changes are sent from threads, to two server processes on the same store (two replicas), so the
compare-and-set has to hold in the database, not in any one process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from catalog.client import CatalogClient, RemoteError
from tests.sharing.conftest import ED, ed_ask
from tests.support.graphql import graphql_input
from tests.support.racing import race

if TYPE_CHECKING:
    from tests.e2e.conftest import CatalogServer, StartServer

# Long enough to make the agreement and use it once over HTTP, short enough to wait out.
WINDOW_S = 10.0
PEOPLE = ("alice.health", "hamid.health", "grace.health", "uma.uni", "auditor")

REQUEST = """mutation($i: RequestShareInput!) { requestShare(input: $i) { id status requiredApprovals { requirement }
             decisions { id outcome reason } } }"""
APPROVE = "mutation($id: ID!) { approveShare(requestId: $id) { status agreement { id status validUntil } } }"
CHECK = """mutation { checkAccess(input: {datasetId: "health.ed-presentations", purpose: "RESEARCH",
           accessMethod: SECURE_ENCLAVE, fields: ["region"]}) { id outcome denyKind determiningRules reason } }"""
RENEW = "mutation($id: ID!, $until: DateTime!) { renewAgreement(id: $id, validUntil: $until) { status version } }"
REVOKE = 'mutation($id: ID!) { revokeAgreement(id: $id, reason: "Breach BR-2026-7") { status version } }'


def tokens(server: CatalogServer) -> dict[str, str]:
    issued = {}
    for person in PEOPLE:
        result = server.run_cli("token", "issue", "--person", person)
        assert result.returncode == 0, result.stderr
        issued[person] = result.stdout.strip()
    return issued


def as_(server: CatalogServer, token: str) -> CatalogClient:
    return CatalogClient(server.url, token=token)


def register_ed_data(server: CatalogServer, token: str) -> None:
    """Health's data owner registers special-category data (a share of it needs four eyes) and names a steward."""
    with as_(server, token) as alice:
        alice.execute(
            "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { id } }",
            {
                "i": {
                    "id": ED,
                    "title": "Emergency Department Presentations",
                    "ownerAgencyId": "health",
                    "classification": "OFFICIAL",
                    "personalData": "SPECIAL_CATEGORY",
                    "identifiability": "PSEUDONYMISED",
                    "legalBasis": {"article6": "PUBLIC_TASK", "coversIdentified": True},
                    "permittedPurposes": ["RESEARCH"],
                    "fields": [{"name": "person_key"}, {"name": "triage"}, {"name": "region"}],
                }
            },
        )
        alice.execute(f'mutation {{ assignSteward(datasetId: "{ED}", personId: "hamid.health") {{ id }} }}')


def share_request(valid_until: datetime) -> dict[str, Any]:
    return graphql_input({**ed_ask(valid_until), "justification": "Emergency demand by region"})


def check(server: CatalogServer, token: str) -> dict[str, Any]:
    with as_(server, token) as uma:
        decision: dict[str, Any] = uma.execute(CHECK)["checkAccess"]
        return decision


def test_request_approvals_expiry_renewal_and_revocation_read_back_by_an_auditor(start_server: StartServer) -> None:
    served = start_server(demo=True)
    token = tokens(served)
    register_ed_data(served, token["alice.health"])
    valid_until = datetime.now(UTC) + timedelta(seconds=WINDOW_S)

    # 1-2. a request, PENDING_APPROVAL
    with as_(served, token["uma.uni"]) as uma:
        request = uma.execute(REQUEST, {"i": share_request(valid_until)})["requestShare"]
    # 3. the steward's approval, then a second approval
    with as_(served, token["hamid.health"]) as hamid:
        by_steward = hamid.execute(APPROVE, {"id": request["id"]})["approveShare"]
    with as_(served, token["grace.health"]) as grace:
        by_second = grace.execute(APPROVE, {"id": request["id"]})["approveShare"]
    # 4. an ACTIVE agreement, and access is PERMIT
    permitted = check(served, token["uma.uni"])
    # 5. the expiry passes, and access is an IMPLICIT DENY that names it
    time.sleep(max(0.0, (valid_until - datetime.now(UTC)).total_seconds()) + 0.5)
    expired = check(served, token["uma.uni"])
    agreement_id = by_second["agreement"]["id"]
    with as_(served, token["grace.health"]) as grace:
        status_expired = grace.execute("query($id: ID!) { agreement(id: $id) { status } }", {"id": agreement_id})
        # 6. a renewal
        until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        renewed = grace.execute(RENEW, {"id": agreement_id, "until": until})
    permitted_again = check(served, token["uma.uni"])
    # 7. a revocation, and access is an EXPLICIT DENY
    with as_(served, token["grace.health"]) as grace:
        revoked = grace.execute(REVOKE, {"id": agreement_id})["revokeAgreement"]
    refused = check(served, token["uma.uni"])

    assert request["status"] == "PENDING_APPROVAL"
    assert [r["requirement"] for r in request["requiredApprovals"]] == [f"steward:{ED}", "second-approver:health"]
    assert (by_steward["status"], by_steward["agreement"]) == ("PENDING_APPROVAL", None)
    assert (by_second["status"], by_second["agreement"]["status"]) == ("APPROVED", "ACTIVE")
    assert permitted["outcome"] == "PERMIT", permitted["reason"]
    assert (expired["outcome"], expired["denyKind"]) == ("DENY", "IMPLICIT")
    assert f"agreement {agreement_id} expired on" in expired["reason"]
    assert status_expired["agreement"]["status"] == "EXPIRED"
    assert renewed["renewAgreement"] == {"status": "ACTIVE", "version": 2}
    assert permitted_again["outcome"] == "PERMIT"
    assert revoked == {"status": "REVOKED", "version": 3}
    assert (refused["outcome"], refused["denyKind"], refused["determiningRules"]) == (
        "DENY",
        "EXPLICIT",
        ["deny-revoked-agreement"],
    )

    with as_(served, token["auditor"]) as auditor:
        trail = auditor.execute(
            """query($id: ID!) { agreement(id: $id) { status shareRequest { status }
               approvals { approverId fills decisions { outcome reason } }
               decisions { id request { action } outcome reason determiningRules policyVersion } } }""",
            {"id": agreement_id},
        )["agreement"]
        uses = auditor.execute(
            """query($f: DecisionFilterInput) { decisions(filter: $f, first: 50) {
               edges { node { id request { action } outcome denyKind reason } } } }""",
            {"f": {"dataset": ED, "requester": "uma.uni"}},
        )["decisions"]

    steps = [(d["request"]["action"], d["outcome"]) for d in trail["decisions"]]
    assert steps == [
        ("request_share", "PERMIT"),
        ("approve_share", "PERMIT"),
        ("approve_share", "PERMIT"),
        ("renew_agreement", "PERMIT"),
        ("revoke_agreement", "PERMIT"),
    ]
    assert all(d["reason"] and d["policyVersion"] and d["determiningRules"] for d in trail["decisions"])
    assert [a["approverId"] for a in trail["approvals"]] == ["hamid.health", "grace.health"]
    assert (trail["status"], trail["shareRequest"]["status"]) == ("REVOKED", "APPROVED")
    accesses = {e["node"]["id"]: e["node"] for e in uses["edges"] if e["node"]["request"]["action"] == "access"}
    for decision in (permitted, expired, permitted_again, refused):
        assert accesses[decision["id"]]["reason"] == decision["reason"]


def call(server: CatalogServer, token: str, query: str, variables: dict[str, Any]) -> Callable[[], Any]:
    def send() -> Any:
        with as_(server, token) as client:
            return client.execute(query, variables)

    return send


@pytest.mark.timeout(600)
def test_racing_approvals_and_revocations_on_two_replicas(start_server: StartServer) -> None:
    first = start_server(demo=True)
    second = start_server()  # a second process on the same store
    token = tokens(first)
    register_ed_data(first, token["alice.health"])
    with as_(first, token["uma.uni"]) as uma:
        request = uma.execute(REQUEST, {"i": share_request(datetime.now(UTC) + timedelta(days=90))})["requestShare"]

    # The steward and the second approver approve at the same moment, on different replicas.
    approvals = race(
        call(first, token["hamid.health"], APPROVE, {"id": request["id"]}),
        call(second, token["grace.health"], APPROVE, {"id": request["id"]}),
        refused=RemoteError,
    )
    with as_(first, token["auditor"]) as auditor:
        made = auditor.execute(
            "query($id: ID!) { shareRequest(id: $id) { status agreementId approvals { approverId } } }",
            {"id": request["id"]},
        )["shareRequest"]
        agreements = auditor.execute(f'{{ agreements(filter: {{dataset: "{ED}"}}) {{ totalCount }} }}')["agreements"]

    assert not any(isinstance(r, Exception) for r in approvals), approvals
    assert sorted(r["approveShare"]["status"] for r in approvals) == ["APPROVED", "PENDING_APPROVAL"]
    assert made["status"] == "APPROVED" and agreements["totalCount"] == 1
    assert sorted(a["approverId"] for a in made["approvals"]) == ["grace.health", "hamid.health"]

    # Five revocations and a renewal race on both replicas: one revocation wins, and the agreement ends REVOKED.
    agreement_id = made["agreementId"]
    until = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    calls = [call(server, token["grace.health"], REVOKE, {"id": agreement_id}) for server in (first, second) * 2]
    calls += [
        call(second, token["alice.health"], REVOKE, {"id": agreement_id}),
        call(first, token["alice.health"], RENEW, {"id": agreement_id, "until": until}),
    ]
    results = race(*calls, refused=RemoteError)
    revocations, renewal = results[:-1], results[-1]

    won = [r for r in revocations if not isinstance(r, Exception)]
    assert len(won) == 1, revocations
    assert all(r.code == "CONFLICT" and "is REVOKED" in r.message for r in revocations if isinstance(r, Exception))
    renewed = not isinstance(renewal, Exception)
    assert renewed or (renewal.code == "CONFLICT" and "is REVOKED" in renewal.message)
    with as_(second, token["auditor"]) as auditor:
        final = auditor.execute(
            "query($id: ID!) { agreement(id: $id) { status version decisions { request { action } } } }",
            {"id": agreement_id},
        )["agreement"]
    actions = [d["request"]["action"] for d in final["decisions"]]
    assert final["status"] == "REVOKED"
    assert final["version"] == 2 + renewed  # one step per change that went through, no more
    assert actions.count("revoke_agreement") == 1 and actions.count("renew_agreement") == renewed
