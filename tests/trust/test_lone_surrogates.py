"""A JSON escape can spell a lone UTF-16 surrogate (`"\\ud800"`), which is not text: neither store can keep it and
UTF-8 cannot carry it back. Sent as an id it answered INTERNAL; as a key inside an input, a bare 500. Wherever a
client sends one, the answer is now a 400 naming where it is, on both backends, and nothing runs."""

from __future__ import annotations

import json

import httpx
import pytest

from catalog.store.schema import Label
from tests.trust.conftest import Trust, run_event

DATASET = "query($id: ID!) { dataset(id: $id) { id } }"
AGENCY = "mutation($i: RegisterAgencyInput!) { registerAgency(input: $i) { id } }"


def sent(query: str, variables: str) -> str:
    """The body as the client sends it, `variables` being JSON text with its escapes spelled out."""
    return f'{{"query": {json.dumps(query)}, "variables": {variables}}}'


def post_raw(trust: Trust, route: str, body: str, *, as_: str) -> httpx.Response:
    """POST `body` as it is: a JSON client would send a lone surrogate only as the escape written in it."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {trust.token(as_)}"}
    return trust.client.post(route, content=body.encode(), headers=headers)


# A raw string keeps each escape's backslash, as it travels.
GRAPHQL = [
    ("an-id", sent(DATASET, r'{"id": "\ud800"}'), "variables.id"),
    ("a-key-in-an-input", sent(AGENCY, r'{"i": {"id": "x", "name": "X", "\udc00": 1}}'), r'variables.i["\udc00"]'),
    ("a-literal-in-the-document", r'{"query": "{ dataset(id: \"\ud800\") { id } }"}', "query"),
]


@pytest.mark.parametrize(("body", "where"), [c[1:] for c in GRAPHQL], ids=[c[0] for c in GRAPHQL])
def test_graphql_refuses_a_lone_surrogate_naming_where_it_is(trust: Trust, body: str, where: str) -> None:
    agencies = trust.count(Label.AGENCY)

    response = post_raw(trust, "/graphql", body, as_="admin")

    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"].startswith(f"{where}: must be Unicode text"), error
    assert trust.count(Label.AGENCY) == agencies


def test_a_graphql_get_refuses_a_lone_surrogate_in_its_variables(trust: Trust) -> None:
    response = trust.client.get("/graphql", params={"query": DATASET, "variables": r'{"id": "\ud800"}'})

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["message"].startswith("variables.id: must be Unicode text")


def test_the_openlineage_endpoint_refuses_a_lone_surrogate_in_a_facet_key(trust: Trust) -> None:
    event = run_event(("health", "job"), ("health", "clinics"), ("health", "derived"))
    body = json.dumps(event).replace('"facets": {}', r'"facets": {"\udc00": {}}', 1)
    processes = trust.count(Label.PROCESS)

    response = post_raw(trust, "/api/v1/lineage", body, as_="owner.health")

    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(r'$.inputs[0].facets["\udc00"]: must be Unicode text')
    assert trust.count(Label.PROCESS) == processes
