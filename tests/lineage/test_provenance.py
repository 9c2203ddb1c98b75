"""Provenance export on every backend: W3C PROV-JSON and PROV-O Turtle, redacted to what the viewer may see."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rdflib import Graph, Namespace, URIRef

from catalog.domain import Identifiability
from catalog.principal import SYSTEM
from catalog.services import Services
from tests.lineage.conftest import acting, attest, dataset, derive

PROV = Namespace("http://www.w3.org/ns/prov#")
BASE = "https://catalog.example.gov"


def landscape(services: Services) -> None:
    """raw (PROTECTED, health) -> p-deid (attested) -> extract (health) -> p-agg -> tables (PUBLIC, stats)."""
    dataset(services, "raw", classification="PROTECTED")
    dataset(services, "extract", classification="OFFICIAL")
    dataset(services, "tables", owner="stats", classification="PUBLIC")
    derive(services, "p-deid", ["raw"], ["extract"], kind="DEIDENTIFY", run_id="r1")
    attest(services, "p-deid", Identifiability.DEIDENTIFIED, "checked")
    derive(services, "p-agg", ["extract"], ["tables"], kind="AGGREGATE")
    attest(services, "p-agg", Identifiability.AGGREGATE, "checked")


def test_prov_json_holds_entities_activities_agents_and_their_relations(services: Services) -> None:
    landscape(services)

    doc = json.loads(services.provenance.prov_json(SYSTEM, "tables", BASE))

    assert set(doc["entity"]) == {"dataset:raw", "dataset:extract", "dataset:tables"}
    assert doc["activity"]["process:p-deid"]["catalog:attestedIdentifiability"] == "DEIDENTIFIED"
    assert doc["agent"]["agency:stats"]["prov:type"]["$"] == "prov:Organization"
    derivations = {(d["prov:generatedEntity"], d["prov:usedEntity"]) for d in doc["wasDerivedFrom"].values()}
    assert derivations == {("dataset:extract", "dataset:raw"), ("dataset:tables", "dataset:extract")}
    assert {"prov:entity": "dataset:tables", "prov:agent": "agency:stats"} in doc["wasAttributedTo"].values()
    assert doc["prefix"]["dataset"] == f"{BASE}/datasets/"


def test_prov_o_turtle_parses_and_links_the_chain(services: Services) -> None:
    landscape(services)

    graph = Graph().parse(data=services.provenance.turtle(SYSTEM, "tables", BASE), format="turtle")

    tables, extract = URIRef(f"{BASE}/datasets/tables"), URIRef(f"{BASE}/datasets/extract")
    assert (tables, PROV.wasDerivedFrom, extract) in graph
    assert (tables, PROV.wasGeneratedBy, URIRef(f"{BASE}/processes/p-agg")) in graph
    assert (URIRef(f"{BASE}/processes/p-deid"), PROV.used, URIRef(f"{BASE}/datasets/raw")) in graph


def test_hidden_upstream_datasets_are_redacted_in_the_export(services: Services) -> None:
    landscape(services)

    doc = json.loads(services.provenance.prov_json(acting(services, "analyst.uni"), "tables", BASE))

    hidden = [id for id, attributes in doc["entity"].items() if attributes.get("catalog:redacted")]
    assert len(hidden) == 1 and hidden[0].startswith("dataset:redacted-")
    assert "raw" not in json.dumps(doc["entity"])


def test_provenance_through_graphql(services: Services, gql: Callable[..., dict[str, Any]]) -> None:
    landscape(services)

    body = gql(f'{{ provenance(datasetId: "tables", format: TURTLE, baseUrl: "{BASE}") }}')

    graph = Graph().parse(data=body["data"]["provenance"], format="turtle")
    assert (URIRef(f"{BASE}/datasets/tables"), PROV.wasDerivedFrom, URIRef(f"{BASE}/datasets/extract")) in graph
