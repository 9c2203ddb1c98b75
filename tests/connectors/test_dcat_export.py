"""The DCAT-AP 3 export: it conforms to the official SHACL shapes and publishes only what anonymous readers see."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import RDF, Graph, Namespace
from rdflib import namespace as ns
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.principal import SYSTEM
from catalog.publish.dcat_ap import CatalogDescription, Format, catalog_graph, serialize
from catalog.services import Services
from connectors.dcat import parse_rdf
from tests.connectors.conftest import Harvest

SH = Namespace("http://www.w3.org/ns/shacl#")
SECRET_TITLE = "Child protection case notes"


@pytest.fixture(scope="module")
def dcat_ap_shapes(fixtures_dir: Path) -> Graph:
    """Every DCAT-AP 3.0.1 shape file: core, ranges, controlled vocabularies, deprecations, recommendations."""
    shapes = Graph()
    for path in sorted((fixtures_dir / "dcat-ap" / "3.0.1").glob("*.ttl")):
        if "imports" not in path.name:  # the imports files only point at vocabularies on the web
            shapes.parse(path)
    return shapes


def violations(data: Graph, shapes: Graph) -> list[str]:
    """The report's top-level results of severity Violation (warnings are recommendations, not conformance)."""
    conforms, results, _ = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    report = next(results.subjects(RDF.type, SH.ValidationReport))
    found = [
        f"{results.value(r, SH.focusNode)} {results.value(r, SH.resultPath)}: {results.value(r, SH.resultMessage)}"
        for r in results.objects(report, SH.result)
        if results.value(r, SH.resultSeverity) == SH.Violation
    ]
    assert conforms == (not found)
    return found


@pytest.fixture
def landscape(harvest: Harvest, services: Services) -> Services:
    """The harvested portal, plus a protected dataset of a local agency that must never be published."""
    harvest()
    services.registration.register_agency(SYSTEM, {"id": "social", "name": "Department of Social Services"})
    services.registration.register_dataset(
        SYSTEM,
        {
            "id": "social.child-protection",
            "title": SECRET_TITLE,
            "description": "Case worker notes on children at risk.",
            "owner_agency_id": "social",
            "classification": "PROTECTED",
            "personal_data": "SPECIAL_CATEGORY",
        },
    )
    return services


@pytest.mark.parametrize(("fmt", "rdf_format"), [("ttl", "turtle"), ("jsonld", "json-ld")])
def test_the_export_conforms_to_the_dcat_ap_3_shapes(
    landscape: Services, dcat_ap_shapes: Graph, fmt: Format, rdf_format: str
) -> None:
    body = serialize(catalog_graph(landscape, CatalogDescription("https://catalog.example.gov")), fmt)

    graph = parse_rdf(body, rdf_format)

    assert violations(graph, dcat_ap_shapes) == []
    assert len(set(graph.subjects(RDF.type, ns.DCAT.Dataset))) == 5
    assert len(set(graph.subjects(RDF.type, ns.DCAT.Distribution))) == 14


def test_an_export_missing_a_mandatory_property_would_be_caught(landscape: Services, dcat_ap_shapes: Graph) -> None:
    graph = catalog_graph(landscape, CatalogDescription("https://catalog.example.gov"))
    graph.remove((None, ns.DCTERMS.description, None))

    assert violations(graph, dcat_ap_shapes) != []


def test_only_what_anonymous_readers_may_see_is_published(landscape: Services) -> None:
    body = serialize(catalog_graph(landscape, CatalogDescription("https://catalog.example.gov")), "ttl").decode()

    assert SECRET_TITLE not in body
    assert "social.child-protection" not in body
    assert "Department of Social Services" not in body
    # Not open upstream, so OFFICIAL here: staff may see it, the public may not.
    assert "uk-continental-shelf-seabed-sediments" not in body
    assert "civil-service-people-survey-2011" in body


def test_the_catalogue_is_served_over_http_in_both_formats(landscape: Services) -> None:
    with TestClient(create_app(landscape)) as client:
        turtle = client.get("/dcat/catalog.ttl")
        jsonld = client.get("/dcat/catalog.jsonld")

    assert turtle.status_code == jsonld.status_code == 200
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    from_turtle = parse_rdf(turtle.text, "turtle")
    from_jsonld = parse_rdf(jsonld.text, "json-ld")
    assert len(from_turtle) == len(from_jsonld) > 0
    # IRIs are minted from the address the catalogue was asked at.
    assert [str(c) for c in from_turtle.subjects(RDF.type, ns.DCAT.Catalog)] == ["http://testserver/dcat/catalog"]
