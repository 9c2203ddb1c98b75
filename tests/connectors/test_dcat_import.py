"""Importing DCAT and DCAT-AP catalogues in Turtle, RDF/XML and JSON-LD, from files and over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rdflib import Graph

from catalog.principal import SYSTEM
from catalog.publish.dcat_ap import CatalogDescription, catalog_graph, serialize
from catalog.services import DatasetFilter, Services
from catalog.store.base import GraphStore
from connectors import Change
from tests.connectors.conftest import Harvest, audit_events

DATA = Path(__file__).parent / "data"
AIR = "air-quality-2023"


def titles(services: Services) -> dict[str, str]:
    return {d.id: d.title for d in services.reads.datasets(SYSTEM, DatasetFilter(), first=100).items}


@pytest.fixture
def catalogue_server() -> Iterator[str]:
    """The sample catalogue served over loopback HTTP as text/turtle, at a path with no telling suffix."""

    class Handler(SimpleHTTPRequestHandler):
        extensions_map = {".ttl": "text/turtle"}

        def log_message(self, format: str, *args: object) -> None:
            pass

        def translate_path(self, path: str) -> str:
            return str(DATA / "catalogue.ttl")

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(DATA)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/catalog"
    server.shutdown()
    server.server_close()


def test_a_turtle_catalogue_becomes_agencies_and_datasets(ingest: Harvest, services: Services) -> None:
    report = ingest("dcat", source=str(DATA / "catalogue.ttl"))

    assert report.failures == []
    assert titles(services) == {
        AIR: "Air quality measurements 2023",
        "road-traffic-counts": "Road traffic counts",
        "staff-survey-microdata": "Staff survey microdata",
    }
    agencies = {a.id: a.name for a in services.reads.agencies(first=100).items}
    assert agencies == {"environment-agency": "Environment Agency", "statistics-office": "Statistics Office"}
    air = services.reads.dataset(SYSTEM, AIR)
    assert air.owner_agency_id == "environment-agency"
    assert air.classification == "PUBLIC"
    assert air.tags == ["air quality", "pollution"]
    assert air.source_url == "https://data.example.gov/air-quality"
    assert air.harvest_source == "https://data.example.gov/catalog"
    assert air.source_modified == datetime(2024, 2, 1, 9, 30, tzinfo=UTC)
    assert air.licence is not None and air.licence.url == "https://creativecommons.org/licenses/by/4.0/"
    assert [(d.format, d.media_type, d.access_url) for d in air.distributions] == [
        ("JSON", "", "https://api.example.gov/air-quality/v1"),
        ("CSV", "text/csv", "https://data.example.gov/files/air-quality-2023.csv"),
    ]
    # No publisher of its own: the catalogue's publisher is taken.
    assert services.reads.dataset(SYSTEM, "road-traffic-counts").owner_agency_id == "statistics-office"
    assert services.reads.dataset(SYSTEM, "staff-survey-microdata").classification == "OFFICIAL"


@pytest.mark.parametrize(("suffix", "rdf_format"), [(".rdf", "xml"), (".jsonld", "json-ld")])
def test_the_same_catalogue_in_rdf_xml_or_json_ld_imports_the_same(
    ingest: Harvest, services: Services, tmp_path: Path, suffix: str, rdf_format: str
) -> None:
    converted = tmp_path / f"catalogue{suffix}"
    converted.write_text(Graph().parse(DATA / "catalogue.ttl").serialize(format=rdf_format))

    report = ingest("dcat", source=str(converted))

    assert report.failures == []
    assert report.count("datasets", Change.CREATED) == 3
    assert services.reads.dataset(SYSTEM, AIR).title == "Air quality measurements 2023"


def test_a_json_ld_catalogue_with_its_own_context(ingest: Harvest, services: Services) -> None:
    report = ingest("dcat", source=str(DATA / "catalogue.jsonld"))

    assert report.failures == []
    bikes = services.reads.dataset(SYSTEM, "bike-stations")
    assert (bikes.title, bikes.owner_agency_id, sorted(bikes.tags)) == (
        "Bike sharing stations",
        "city",
        ["bikes", "mobility"],
    )
    assert [d.format for d in bikes.distributions] == ["GeoJSON"]


def test_a_catalogue_over_http_is_recognised_by_its_content_type(
    ingest: Harvest, services: Services, catalogue_server: str
) -> None:
    report = ingest("dcat", source=catalogue_server)

    assert report.failures == []
    assert len(titles(services)) == 3


def test_a_second_import_changes_nothing(ingest: Harvest, services: Services, store: GraphStore) -> None:
    ingest("dcat", source=str(DATA / "catalogue.ttl"))
    events = audit_events(store)

    again = ingest("dcat", source=str(DATA / "catalogue.ttl"))

    assert again.failures == []
    assert again.changed == 0
    assert audit_events(store) == events


def test_a_dataset_that_cannot_be_mapped_is_reported_and_the_others_imported(
    ingest: Harvest, services: Services, tmp_path: Path
) -> None:
    broken = tmp_path / "catalogue.ttl"
    text = (DATA / "catalogue.ttl").read_text()
    broken.write_text(text.replace('dct:title "Road traffic counts"@en ;', ""))

    report = ingest("dcat", source=str(broken))

    assert [(f.item, f.message) for f in report.failures] == [
        ("dataset https://data.example.gov/dataset/road-traffic-counts", "dct:title: is required")
    ]
    assert set(titles(services)) == {AIR, "staff-survey-microdata"}


def test_a_file_that_is_not_rdf_is_reported_without_a_traceback(ingest: Harvest, tmp_path: Path) -> None:
    broken = tmp_path / "catalogue.ttl"
    broken.write_text("@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<a> a dcat:Dataset ; dct:title ")

    report = ingest("dcat", source=str(broken))

    assert len(report.failures) == 1
    assert report.failures[0].message.startswith(f"{broken} is not valid turtle")


def test_the_catalog_s_own_export_imports_back(
    harvest: Harvest, ingest: Harvest, services: Services, tmp_path: Path
) -> None:
    harvest()
    path = tmp_path / "export.ttl"
    path.write_bytes(serialize(catalog_graph(services, CatalogDescription("https://catalog.example.gov")), "ttl"))

    report = ingest("dcat", source=str(path), id_prefix="copy.")

    assert report.failures == []
    copy = services.reads.dataset(SYSTEM, "copy.civil-service-people-survey-2011")
    original = services.reads.dataset(SYSTEM, "civil-service-people-survey-2011")
    assert (copy.title, copy.description, copy.tags) == (original.title, original.description, original.tags)
    assert copy.owner_agency_id == "copy.cabinet-office"
    assert {d.access_url for d in copy.distributions} == {d.access_url for d in original.distributions}
