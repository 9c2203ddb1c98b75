"""Sharing agreements as ODRL 2.2 Agreements, on both backends: the document reads back as the agreement it came
from, conforms to an ODRL Agreement shape, and is shown only to those who may read the agreement."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyshacl import validate
from rdflib import RDF, Graph, Namespace, URIRef
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.domain import SharingAgreement
from catalog.principal import SYSTEM
from catalog.services import Services
from connectors.dcat import parse_rdf

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
DPV = Namespace("https://w3id.org/dpv#")
BASE = "http://testserver"
SHAPES = Path(__file__).with_name("odrl.shacl.ttl")
FROM, UNTIL = datetime(2026, 1, 5, 9, 0, tzinfo=UTC), datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
OBLIGATION = "output-checking: Outputs leave the secure setting only after a disclosure check by the provider."


@pytest.fixture
def agreement(services: Services) -> SharingAgreement:
    return services.agreements.register(
        SYSTEM,
        {
            "provider_agency_id": "health",
            "recipient_agency_id": "uni",
            "dataset_ids": ["health.admissions-deid"],
            "approved_fields": ["age_band", "region"],
            "purpose": "STATISTICS",
            "legal_basis": {"article6": "PUBLIC_TASK", "statute": "Health Records Act s. 28"},
            "access_method": "AGGREGATE_QUERY",
            "obligations": [OBLIGATION],
            "valid_from": FROM,
            "valid_until": UNTIL,
        },
    )


@pytest.fixture
def get(services: Services) -> Iterator[Any]:
    """GET a path (or, with `query`, POST it to /graphql) as a demo person, or anonymously."""
    with TestClient(create_app(services)) as client:

        def run(path: str, as_: str | None = None, query: str | None = None) -> Any:
            headers = {}
            if as_:
                token = issue_token(services.reads.person(SYSTEM, as_), services.ctx.settings.auth)
                headers["Authorization"] = f"Bearer {token}"
            if query is not None:
                return client.post(path, json={"query": query}, headers=headers).json()
            return client.get(path, headers=headers)

        yield run


def parse(text: str) -> Graph:
    return parse_rdf(text, "json-ld")


def test_the_odrl_agreement_reads_back_as_the_agreement(get: Any, agreement: SharingAgreement) -> None:
    response = get(f"/agreements/{agreement.id}.odrl.jsonld", as_="uma.uni")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/ld+json")
    graph = parse(response.text)

    policy = URIRef(f"{BASE}/agreements/{agreement.id}")
    assert (policy, RDF.type, ODRL.Agreement) in graph
    permission = graph.value(policy, ODRL.permission)
    assert graph.value(permission, ODRL.action) == ODRL.use
    assert graph.value(permission, ODRL.assigner) == URIRef(f"{BASE}/agencies/health")
    assert graph.value(permission, ODRL.assignee) == URIRef(f"{BASE}/agencies/uni")
    assert set(graph.objects(permission, ODRL.target)) == {URIRef(f"{BASE}/datasets/health.admissions-deid")}
    constraints: dict[tuple[str, str], set[Any]] = {}
    for node in graph.objects(permission, ODRL.constraint):
        left, operator = graph.value(node, ODRL.leftOperand), graph.value(node, ODRL.operator)
        key = (str(left).rsplit("/", 1)[-1].rsplit("#", 1)[-1], str(operator).rsplit("/", 1)[-1])
        values = graph.objects(node, ODRL.rightOperand)
        constraints[key] = {v if isinstance(v, URIRef) else v.toPython() for v in values}
    assert constraints == {
        ("purpose", "eq"): {DPV.ProvideOfficialStatistics},
        ("deliveryChannel", "eq"): {"AGGREGATE_QUERY"},
        ("field", "isAnyOf"): {"age_band", "region"},
        ("dateTime", "gteq"): {FROM},
        ("dateTime", "lt"): {UNTIL},
    }
    duty = graph.value(permission, ODRL.duty)
    assert str(graph.value(duty, ODRL.action)).endswith("#obligation-output-checking")
    legal = URIRef("https://w3id.org/dpv#hasLegalBasis")
    assert graph.value(policy, legal) == URIRef("https://w3id.org/dpv/legal/eu/gdpr#A6-1-e")


def test_the_odrl_agreement_conforms_to_the_odrl_agreement_shape(get: Any, agreement: SharingAgreement) -> None:
    graph = parse(get(f"/agreements/{agreement.id}.odrl.jsonld", as_="uma.uni").text)
    conforms, _, report = validate(graph, shacl_graph=Graph().parse(SHAPES, format="turtle"))
    assert conforms, report
    # The shape has teeth: the same document without its assignee does not conform.
    graph.remove((None, ODRL.assignee, None))
    assert not validate(graph, shacl_graph=Graph().parse(SHAPES, format="turtle"))[0]


def test_graphql_gives_the_same_document_to_a_party_only(get: Any, agreement: SharingAgreement) -> None:
    query = '{ agreement(id: "ID") { odrl(baseUrl: "http://testserver") } }'.replace("ID", agreement.id)
    body = get("/graphql", "alice.health", query)
    refused = get("/graphql", "ben.stats", query)
    served = get(f"/agreements/{agreement.id}.odrl.jsonld", as_="uma.uni").json()
    assert json.loads(body["data"]["agreement"]["odrl"]) == served
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["NOT_FOUND"]


@pytest.mark.parametrize("caller", [None, "ben.stats", "nora.social"])
def test_a_caller_who_may_not_read_it_gets_the_answer_for_a_missing_one(
    get: Any, agreement: SharingAgreement, caller: str | None
) -> None:
    hidden = get(f"/agreements/{agreement.id}.odrl.jsonld", as_=caller)
    missing = get("/agreements/agr-none.odrl.jsonld", as_=caller)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == json.loads(missing.text.replace("agr-none", agreement.id))
