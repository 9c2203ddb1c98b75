"""The GraphQL API over real HTTP against `catalog serve`, on both backends: a data owner's first day."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from catalog.client import CatalogClient, RemoteError

if TYPE_CHECKING:
    from tests.e2e.conftest import CatalogServer, StartServer


def token(server: CatalogServer, person: str) -> str:
    issued = server.run_cli("token", "issue", "--person", person)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


@pytest.fixture
def served(start_server: StartServer) -> CatalogServer:
    return start_server(demo=True)


def test_register_and_read_back_through_graphql(served: CatalogServer) -> None:
    with CatalogClient(served.url, token=token(served, "admin")) as admin:
        admin.execute('mutation { registerAgency(input: {id: "transport", name: "Department of Transport"}) { id } }')
        admin.execute("""mutation { registerPerson(input: {id: "olu.transport", name: "Olu Bello",
                         agencyId: "transport", roles: [DATA_OWNER, STEWARD]}) { id } }""")
    with CatalogClient(served.url, token=token(served, "olu.transport")) as owner:
        for dataset_id, title in (
            ("transport.trips", "Public transport trips"),
            ("transport.trips-daily", "Daily trip counts"),
        ):
            owner.execute(
                "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { id } }",
                {
                    "i": {
                        "id": dataset_id,
                        "title": title,
                        "ownerAgencyId": "transport",
                        "classification": "OFFICIAL",
                        "tags": ["transport"],
                        "fields": [{"name": "stop_id"}, {"name": "card_id", "pii": "DIRECT_IDENTIFIER"}],
                    }
                },
            )
        owner.execute('mutation { assignSteward(datasetId: "transport.trips", personId: "olu.transport") { id } }')
        owner.execute("""mutation { recordLineage(input: {id: "job.daily-counts", name: "daily counts",
                         kind: AGGREGATE, runId: "2026-11-24", inputs: ["transport.trips"],
                         outputs: ["transport.trips-daily"]}) { id } }""")
        me = owner.execute("{ me { id agency { name } roles } }")
        trips = owner.execute("""{ dataset(id: "transport.trips") { title owner { name } stewards { id }
                                  fields { name pii } } }""")
        lineage = owner.execute("""{ lineage(datasetId: "transport.trips-daily", direction: UPSTREAM, depth: 2) {
                                    nodes { id kind } edges { type source target } } }""")
        found = owner.execute('{ datasets(filter: {text: "trip", agencyId: "transport"}) { totalCount } }')

    assert me == {
        "me": {"id": "olu.transport", "agency": {"name": "Department of Transport"}, "roles": ["DATA_OWNER", "STEWARD"]}
    }
    assert trips["dataset"] == {
        "title": "Public transport trips",
        "owner": {"name": "Department of Transport"},
        "stewards": [{"id": "olu.transport"}],
        "fields": [{"name": "stop_id", "pii": "NONE"}, {"name": "card_id", "pii": "DIRECT_IDENTIFIER"}],
    }
    assert {(n["id"], n["kind"]) for n in lineage["lineage"]["nodes"]} == {
        ("transport.trips-daily", "DATASET"),
        ("job.daily-counts", "PROCESS"),
        ("transport.trips", "DATASET"),
    }
    assert len(lineage["lineage"]["edges"]) == 2
    assert found["datasets"]["totalCount"] == 2


def test_anonymous_callers_see_only_public_metadata(served: CatalogServer) -> None:
    with CatalogClient(served.url) as anonymous:
        listed = anonymous.execute("{ datasets(first: 50) { edges { node { classification } } } }")
        with pytest.raises(RemoteError) as hidden:
            anonymous.execute('{ dataset(id: "health.admissions") { id } }')

    assert {e["node"]["classification"] for e in listed["datasets"]["edges"]} == {"PUBLIC"}
    assert hidden.value.code == "NOT_FOUND"


def test_errors_over_http_carry_codes(served: CatalogServer) -> None:
    with CatalogClient(served.url, token=token(served, "nora.social")) as analyst:
        with pytest.raises(RemoteError) as forbidden:
            analyst.execute('mutation { registerAgency(input: {id: "x", name: "X"}) { id } }')
        with pytest.raises(RemoteError) as bad_input:
            analyst.execute("{ datasets(first: 100000) { totalCount } }")
    expired = httpx.post(
        f"{served.url}/graphql",
        json={"query": "{ me { id } }"},
        headers={"Authorization": "Bearer not.a.token"},
        timeout=10,
    )

    assert forbidden.value.code == "FORBIDDEN"
    assert bad_input.value.code == "BAD_USER_INPUT"
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_metrics_count_requests_by_operation(served: CatalogServer) -> None:
    with CatalogClient(served.url) as anonymous:
        anonymous.execute("query Landing { agencies { totalCount } }", operation_name="Landing")

    metrics = httpx.get(f"{served.url}/metrics", timeout=10).text

    assert 'catalog_graphql_requests_total{operation="Landing",status="200"} 1.0' in metrics
