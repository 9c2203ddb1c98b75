"""The OpenLineage connector: a JSON Lines replay, in-process and into a running catalog, one event a record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog.client import CatalogClient
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.query import TRUE
from catalog.store.schema import Label
from connectors import ConnectorContext, Report, ServiceSink, connector_class, run
from tests.e2e.conftest import StartServer
from tests.lineage.test_openlineage_api import run_event

SOURCE = "postgres://db:5432/hospital.admissions"


def replay_file(folder: Path) -> Path:
    """A good event, a blank line, a line that is not JSON and an event without its run id."""
    bad = run_event()
    bad["run"].pop("runId")
    path = folder / "events.jsonl"
    path.write_text("\n".join([json.dumps(run_event()), "", "{not json", json.dumps(bad)]) + "\n")
    return path


def replay(services: Services, file: Path, agency: str | None) -> Report:
    principal = Principal(id=SYSTEM.id, agency_id=agency, roles=SYSTEM.roles)
    context = ConnectorContext(ServiceSink(services, principal))
    return run(connector_class("openlineage").create({"file": str(file)}, context))


def processes(services: Services) -> int:
    page = services.store.read(lambda tx: tx.find_nodes(Label.PROCESS, TRUE, first=0, with_total=True))
    assert page.total is not None
    return page.total


def test_a_replay_records_each_event_once_and_reports_each_bad_line(services: Services, tmp_path: Path) -> None:
    services.registration.register_agency(SYSTEM, {"id": "health", "name": "Health"})
    file = replay_file(tmp_path)

    first = replay(services, file, "health")
    again = replay(services, file, "health")

    assert first.count("events") == 1
    assert [(p.item, p.message.split(" (")[0]) for p in first.failures] == [
        ("line 3", "not JSON"),
        ("line 4", "$.run.runId: is required"),
    ]
    assert "  1 events recorded, 2 failed" in first.lines()
    assert services.reads.dataset(SYSTEM, f"ol:health:{SOURCE}").placeholder
    assert again.count("events") == 1
    assert processes(services) == 1  # the run id makes the repeat add nothing


def test_without_an_agency_the_system_owns_no_placeholder_and_says_so(services: Services, tmp_path: Path) -> None:
    report = replay(services, replay_file(tmp_path), None)

    assert report.count("events") == 0
    assert report.failures[0].item == "line 1"
    assert "has no agency to own placeholder dataset" in report.failures[0].message


def test_a_file_that_cannot_be_read_is_reported(services: Services, tmp_path: Path) -> None:
    report = replay(services, tmp_path / "missing.jsonl", "health")

    assert [p.message for p in report.failures] == ["cannot be read: No such file or directory"]


@pytest.mark.e2e
def test_a_replay_into_a_running_catalog_posts_each_event_to_its_endpoint(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(demo=True)
    token = server.run_cli("token", "issue", "--person", "admin").stdout.strip()  # admin works for `stats`
    file = replay_file(tmp_path)

    result = server.run_cli("ingest", "openlineage", str(file), "--server", server.url, "--token", token)
    refused = server.run_cli(
        "ingest", "openlineage", str(file), "--server", server.url, "--token", token, "--agency", "health"
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "  1 events recorded, 2 failed" in result.stdout.splitlines()
    assert "    line 4: $.run.runId: is required" in result.stdout.splitlines()
    with CatalogClient(server.url, token=token) as client:
        found: dict[str, Any] = client.execute(
            "query($id: ID!) { dataset(id: $id) { id owner { id } } }", {"id": f"ol:stats:{SOURCE}"}
        )
    assert found["dataset"] == {"id": f"ol:stats:{SOURCE}", "owner": {"id": "stats"}}
    assert refused.returncode == 1
    assert refused.stderr == "catalog: bad_user_input: --agency: is for in-process runs; the token says who writes\n"
