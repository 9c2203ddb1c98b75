"""`catalog ingest` and `catalog export dcat` as an operator runs them: in-process, and into a running catalog."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rdflib import RDF
from rdflib import namespace as ns

from catalog.client import CatalogClient
from connectors.dcat import parse_rdf
from tests.connectors.portal import Fault, Portal
from tests.e2e.conftest import StartServer, StoreUnderTest, catalog_env, run_catalog

pytestmark = pytest.mark.e2e
SURVEY = "civil-service-people-survey-2011"


def test_ingest_twice_then_export_from_the_command_line(
    store_env: StoreUnderTest, portal: Portal, tmp_path: Path
) -> None:
    env = catalog_env(store_env.env)

    first = run_catalog(env, "ingest", "ckan", portal.url)
    again = run_catalog(env, "ingest", "ckan", portal.url)
    out = tmp_path / "catalog.jsonld"
    exported = run_catalog(env, "export", "dcat", "--format", "jsonld", "--out", str(out))

    assert first.returncode == 0, first.stdout + first.stderr
    assert "  datasets: 6 created, 0 updated, 0 unchanged" in first.stdout.splitlines()
    assert "  agencies: 5 created, 0 updated, 0 unchanged" in first.stdout.splitlines()
    assert again.returncode == 0, again.stdout + again.stderr
    assert "  datasets: 0 created, 0 updated, 1 unchanged" in again.stdout.splitlines()  # incremental: only the newest
    assert exported.returncode == 0, exported.stderr
    graph = parse_rdf(out.read_bytes(), "json-ld")
    assert len(set(graph.subjects(RDF.type, ns.DCAT.Dataset))) == 5


def test_a_harvest_with_failures_prints_its_report_and_exits_1(store_env: StoreUnderTest, portal: Portal) -> None:
    portal.faults[("package_search", 2)] = Fault("bad-json")

    result = run_catalog(catalog_env(store_env.env), "ingest", "ckan", portal.url, "-o", "max_retries=0")

    assert result.returncode == 1
    assert "  datasets: 4 created, 0 updated, 0 unchanged" in result.stdout.splitlines()
    assert "  failures (1):" in result.stdout.splitlines()
    assert "Traceback" not in result.stderr


def test_a_bad_option_is_refused_in_one_line(store_env: StoreUnderTest) -> None:
    result = run_catalog(catalog_env(store_env.env), "ingest", "ckan", "http://127.0.0.1:9", "-o", "rows=0")

    assert result.returncode == 1
    assert result.stderr == "catalog: bad_user_input: rows: Input should be greater than or equal to 1\n"


def test_a_harvest_into_a_running_catalog_through_its_api(start_server: StartServer, portal: Portal) -> None:
    server = start_server(demo=True)
    token = server.run_cli("token", "issue", "--person", "admin").stdout.strip()

    first = server.run_cli("ingest", "ckan", portal.url, "--server", server.url, "--token", token)
    again = server.run_cli("ingest", "ckan", portal.url, "--server", server.url, "--token", token)

    assert first.returncode == 0, first.stdout + first.stderr
    assert "  datasets: 6 created, 0 updated, 0 unchanged" in first.stdout.splitlines()
    assert again.returncode == 0, again.stdout + again.stderr
    assert "  datasets: 0 created, 0 updated, 1 unchanged" in again.stdout.splitlines()  # incremental: only the newest
    portal.package(SURVEY)["resources"].pop()
    portal.package(SURVEY)["metadata_modified"] = "2021-01-05T10:00:00.000000"
    third = server.run_cli("ingest", "ckan", portal.url, "--server", server.url, "--token", token)
    assert "  datasets: 0 created, 1 updated, 1 unchanged" in third.stdout.splitlines(), third.stdout + third.stderr
    with CatalogClient(server.url, token=token) as client:
        survey = client.execute(
            "query($id: ID!) { dataset(id: $id) { owner { name } licence { id } distributions { format } } }",
            {"id": SURVEY},
        )["dataset"]
    assert survey == {
        "owner": {"name": "Cabinet Office"},
        "licence": {"id": "uk-ogl"},
        "distributions": [{"format": "PDF"}, {"format": "PDF"}, {"format": "XLS"}],
    }
    published = httpx.get(f"{server.url}/dcat/catalog.ttl", timeout=30)
    assert published.status_code == 200
    assert f"{server.url}/dataset/{SURVEY}" in published.text
