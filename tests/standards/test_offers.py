"""ODRL offers in the DCAT-AP 3 export, on both backends: each public dataset's distributions carry the offer the
access policy would make, the export still conforms to the DCAT-AP 3.0.1 shapes, and a DCAT import reads the
offered purposes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT

from catalog.config import load_settings
from catalog.principal import SYSTEM
from catalog.publish.dcat_ap import CatalogDescription, catalog_graph
from catalog.services import Services
from catalog.store.base import GraphStore
from connectors import ConnectorContext, ServiceSink, connector_class, run
from tests.connectors.test_dcat_export import violations

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
DPV = Namespace("https://w3id.org/dpv#")
BASE = "https://catalog.example.gov"
ODRL_SHAPES = Path(__file__).with_name("odrl.shacl.ttl")


@pytest.fixture(scope="module")
def dcat_ap_shapes(fixtures_dir: Path) -> Graph:
    """The DCAT-AP 3.0.1 shapes, as tests/connectors/test_dcat_export.py loads them."""
    shapes = Graph()
    for path in sorted((fixtures_dir / "dcat-ap" / "3.0.1").glob("*.ttl")):
        if "imports" not in path.name:
            shapes.parse(path)
    return shapes


def dataset(id: str, **attributes: Any) -> dict[str, Any]:
    return {
        "id": id,
        "title": id,
        "owner_agency_id": "health",
        "distributions": [{"access_url": f"https://data.example.gov/{id}.csv", "format": "CSV"}],
        **attributes,
    }


@pytest.fixture
def services(store: GraphStore) -> Services:
    return Services(store, load_settings())


@pytest.fixture
def export(services: Services) -> Graph:
    services.registration.register_agency(SYSTEM, {"id": "health", "name": "Department of Health"})
    services.registration.register_dataset(SYSTEM, dataset("open", classification="PUBLIC"))
    services.registration.register_dataset(
        SYSTEM,
        dataset(
            "survey",
            classification="PUBLIC",
            personal_data="PERSONAL",
            identifiability="DEIDENTIFIED",
            legal_basis={"article6": "PUBLIC_TASK", "statute": "Health Act s. 30"},
            permitted_purposes=["RESEARCH", "STATISTICS"],
        ),
    )
    services.registration.register_dataset(SYSTEM, dataset("internal", classification="OFFICIAL"))
    return catalog_graph(services, CatalogDescription(BASE))


def offer_of(graph: Graph, id: str) -> dict[str, Any]:
    """The offer on the dataset's distribution: per delivery channel, the purposes and the duties' actions."""
    distribution = graph.value(URIRef(f"{BASE}/dataset/{id}"), DCAT.distribution)
    offer = graph.value(distribution, ODRL.hasPolicy)
    assert (offer, RDF.type, ODRL.Offer) in graph
    grants = {}
    for permission in graph.objects(offer, ODRL.permission):
        assert graph.value(permission, ODRL.assigner) == URIRef(f"{BASE}/agency/health")
        assert graph.value(permission, ODRL.target) == URIRef(f"{BASE}/dataset/{id}")
        terms: dict[Any, set[Any]] = {}
        for constraint in graph.objects(permission, ODRL.constraint):
            terms[graph.value(constraint, ODRL.leftOperand)] = set(graph.objects(constraint, ODRL.rightOperand))
        channel = next(iter(terms.pop(ODRL.deliveryChannel, {Literal("any")})))
        duties = {str(graph.value(d, ODRL.action)).rsplit("#", 1)[-1] for d in graph.objects(permission, ODRL.duty)}
        grants[str(channel)] = {"purposes": terms.get(ODRL.purpose, set()), "duties": duties}
    return grants


def test_open_data_is_offered_to_anyone_without_constraints(export: Graph) -> None:
    assert offer_of(export, "open") == {"any": {"purposes": set(), "duties": set()}}


def test_personal_data_is_offered_for_its_purposes_where_outputs_are_checked(export: Graph) -> None:
    purposes = {DPV.ScientificResearch, DPV.ProvideOfficialStatistics}
    duties = {"obligation-output-checking", "obligation-no-reidentification", "obligation-purpose-only"}
    assert offer_of(export, "survey") == {
        "SECURE_ENCLAVE": {"purposes": purposes, "duties": duties},
        "AGGREGATE_QUERY": {"purposes": purposes, "duties": duties},
    }


def test_the_export_with_offers_conforms_to_dcat_ap_and_odrl(export: Graph, dcat_ap_shapes: Graph) -> None:
    assert f"{BASE}/dataset/internal" not in {str(s) for s in export.subjects(RDF.type, DCAT.Dataset)}
    assert len(set(export.subjects(RDF.type, ODRL.Offer))) == 2
    assert violations(export, dcat_ap_shapes) == []
    conforms, _, report = validate(export, shacl_graph=Graph().parse(ODRL_SHAPES, format="turtle"))
    assert conforms, report


def test_a_dcat_import_takes_the_offered_purposes_and_reports_the_rest(
    services: Services, export: Graph, tmp_path: Path
) -> None:
    purpose = next(c for c in export.subjects(ODRL.leftOperand, ODRL.purpose))
    export.add((purpose, ODRL.rightOperand, DPV.Marketing))  # a term no purpose of this catalog maps to
    source = tmp_path / "catalog.ttl"
    source.write_text(export.serialize(format="turtle"))

    context = ConnectorContext(ServiceSink(services, SYSTEM))
    report = run(connector_class("dcat").create({"source": str(source), "id_prefix": "copy."}, context))

    assert services.reads.dataset(SYSTEM, "copy.survey").permitted_purposes == ["RESEARCH", "STATISTICS"]
    assert services.reads.dataset(SYSTEM, "copy.open").permitted_purposes == []
    assert report.failures == []
    assert sorted(p.message for p in report.warnings) == [
        "odrl:deliveryChannel AGGREGATE_QUERY, SECURE_ENCLAVE: not imported; here the policy decides access methods",
        f"odrl:purpose {DPV.Marketing}: no purpose of this catalog maps to it; left out",
    ]
