"""GraphQL over HTTP: methods, media types and malformed requests, as the spec asks."""

from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.services import Services

GRAPHQL_RESPONSE = "application/graphql-response+json"


def test_post_json_runs_a_query(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": '{ dataset(id: "clinics") { title } }'})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"dataset": {"title": "Clinic locations"}}}


def test_get_runs_a_query_with_variables(client: TestClient) -> None:
    response = client.get(
        "/graphql",
        params={
            "query": "query Q($id: ID!) { dataset(id: $id) { title } }",
            "variables": json.dumps({"id": "population"}),
            "operationName": "Q",
        },
    )

    assert response.json() == {"data": {"dataset": {"title": "Population estimates"}}}


def test_mutation_over_get_is_405(client: TestClient) -> None:
    response = client.get(
        "/graphql", params={"query": 'mutation { registerAgency(input: {id: "x", name: "X"}) { id } }'}
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_graphql_response_media_type_when_accepted(client: TestClient) -> None:
    response = client.post(
        "/graphql",
        json={"query": "{ agencies { totalCount } }"},
        headers={"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"},
    )

    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"agencies": {"totalCount": 3}}}


def test_invalid_document_is_400_with_graphql_response_and_200_with_legacy_json(client: TestClient) -> None:
    body = {"query": "{ noSuchField }"}
    modern = client.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})
    legacy = client.post("/graphql", json=body)

    assert modern.status_code == 400
    assert legacy.status_code == 200
    assert "data" not in legacy.json()
    assert legacy.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "body: not valid JSON"),
        (b"[1, 2]", "body: expected a JSON object"),
        (b"{}", "query: a GraphQL document string is required"),
        (b'{"query": 42}', "query: a GraphQL document string is required"),
        (b'{"query": "{ agencies { totalCount } }", "variables": [1]}', "variables: must be a JSON object"),
        (b'{"query": "{ agencies { totalCount } }", "operationName": 7}', "operationName: must be a string"),
        (b'{"query": "query A { me { id } } query B { me { id } }"}', "operationName: does not name"),
    ],
)
def test_malformed_requests_are_400_naming_the_problem(client: TestClient, content: bytes, problem: str) -> None:
    response = client.post("/graphql", content=content, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(problem)


def test_wrong_content_type_is_415(client: TestClient) -> None:
    response = client.post("/graphql", content=b"{ me { id } }", headers={"Content-Type": "text/plain"})

    assert response.status_code == 415


def test_variables_of_the_wrong_type_are_rejected_before_running(client: TestClient) -> None:
    response = client.post(
        "/graphql",
        headers={"Accept": GRAPHQL_RESPONSE},
        json={"query": "query Q($n: Int) { datasets(first: $n) { totalCount } }", "variables": {"n": "many"}},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_browsers_get_a_console_that_needs_nothing_from_outside(services: Services) -> None:
    with TestClient(create_app(services)) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        script = client.get("/static/console.js")
        # What the console's script sends: the query as JSON, posted to the page's own address.
        answer = client.post("/graphql", json={"query": "{ datasets(first: 1) { totalCount } }"})

    assert page.status_code == 200 and "/static/console.js" in assets
    assert [url for url in assets if "//" in url or not url.startswith("/")] == []
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "https:" not in page.headers["content-security-policy"]
    assert script.status_code == 200 and "fetch(window.location.pathname" in script.text
    assert "//" not in script.text.replace("// ", "")  # no URL of another host in the script
    assert answer.json()["data"]["datasets"]["totalCount"] >= 0


def test_the_full_graphiql_when_opted_in_loads_each_asset_pinned_by_its_hash(services: Services) -> None:
    services.ctx.settings.api.graphiql_cdn = True
    services.ctx.settings.api.graphiql_assets_url = "https://assets.example.gov/npm"
    with TestClient(create_app(services)) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})

    external = re.findall(r'<(?:script|link)[^>]*"https://assets\.example\.gov/npm/[^>]*>', page.text)
    assert len(external) == 4  # React, ReactDOM, GraphiQL's script and its style sheet
    assert all(re.search(r'integrity="sha384-[A-Za-z0-9+/]{64}"', tag) for tag in external)
    assert "https://assets.example.gov/npm" in page.headers["content-security-policy"]


def test_graphiql_can_be_turned_off(services: Services) -> None:
    services.ctx.settings.api.graphiql = False
    with TestClient(create_app(services)) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == 404
    assert "CATALOG_API__GRAPHIQL" in page.json()["message"]


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    chosen = client.post("/graphql", json={"query": "{ me { id } }"}, headers={"X-Request-ID": "trace-123"})
    generated = client.post("/graphql", json={"query": "{ me { id } }"})

    assert chosen.headers["x-request-id"] == "trace-123"
    assert len(generated.headers["x-request-id"]) == 32
