"""Lineage end to end against `catalog serve`, on both backends.

The real openlineage-python client sends events (its own RunEvent objects, and the spec's full example event)
through its HTTP transport; GraphQL then shows the lineage. A correction is delivered to agencies' webhooks,
which are real HTTP servers on the loopback interface: one answers, one is down and is retried, every attempt
recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import column_lineage_dataset, schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpCompression, HttpConfig, HttpTransport

from catalog.client import CatalogClient
from catalog.config import load_settings
from catalog.store import open_store
from catalog.store.schema import Label

if TYPE_CHECKING:
    from tests.e2e.conftest import CatalogServer, StartServer

PRODUCER = "https://example.gov/etl"
RUN_ID = "0f2b7a3e-0c8d-4f39-9d0a-3c6d5e7f8a91"
OUTPUT = "ol:health:warehouse/research.admissions_by_age"
WAIT_S = 90.0  # bound on waiting for background deliveries; the assertions are on what was recorded


def token(server: CatalogServer, person: str) -> str:
    issued = server.run_cli("token", "issue", "--person", person)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def lineage_client(server: CatalogServer, api_key: str, *, gzip: bool = False) -> OpenLineageClient:
    config = HttpConfig(
        url=server.url,
        auth=ApiKeyTokenProvider({"apiKey": api_key}),
        compression=HttpCompression.GZIP if gzip else None,
    )
    return OpenLineageClient(transport=HttpTransport(config))


def admissions_run() -> RunEvent:
    """A job that reads the catalog's own admissions dataset and writes a new warehouse table, column by column."""
    column = column_lineage_dataset.Fields(
        inputFields=[
            column_lineage_dataset.InputField(namespace="catalog", name="health.admissions", field="date_of_birth")
        ],
        transformationDescription="age band from date of birth",
        transformationType="AGGREGATION",
    )
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-03-01T10:00:00Z",
        run=Run(runId=RUN_ID),
        job=Job(namespace="etl", name="admissions_by_age"),
        producer=PRODUCER,
        inputs=[InputDataset(namespace="catalog", name="health.admissions")],
        outputs=[
            OutputDataset(
                namespace="warehouse",
                name="research.admissions_by_age",
                facets={
                    "schema": schema_dataset.SchemaDatasetFacet(
                        fields=[schema_dataset.SchemaDatasetFacetFields(name="age_band", type="VARCHAR")]
                    ),
                    "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(fields={"age_band": column}),
                },
            )
        ],
    )


@pytest.fixture
def served(start_server: StartServer) -> CatalogServer:
    return start_server(demo=True)


def test_the_openlineage_client_records_lineage_that_graphql_shows(served: CatalogServer, fixtures_dir: Path) -> None:
    steward = token(served, "hamid.health")
    lineage_client(served, steward).emit(admissions_run())
    full_event = json.loads((fixtures_dir / "openlineage" / "events" / "example_full_event.json").read_text())
    # The spec's example is JSON already: the client's own HTTP transport sends it as it sends any event.
    lineage_client(served, steward, gzip=True).transport.emit(full_event)  # type: ignore[union-attr]

    with CatalogClient(served.url, token=steward) as client:
        graph = client.execute(
            """query($id: ID!) { lineage(datasetId: $id, direction: UPSTREAM, depth: 2, includeFields: true) {
                 nodes { id kind } edges { type source target } } }""",
            {"id": OUTPUT},
        )["lineage"]
        output = client.execute(
            """query($id: ID!) { dataset(id: $id) { placeholder ownerAgencyId effectiveClassification restrictedBy
                 fields { name } } }""",
            {"id": OUTPUT},
        )["dataset"]
        example = client.execute(
            """{ lineage(datasetId: "ol:health:my-datasource-namespace/instance.schema.table", depth: 1) {
                 nodes { id kind } } dataset(id: "ol:health:my-datasource-namespace/instance.schema.table") {
                 placeholder fields { name type } } }"""
        )

    edges = {(e["type"], e["source"], e["target"]) for e in graph["edges"]}
    assert ("USED", "ol:health:etl/admissions_by_age", "health.admissions") in edges
    assert ("GENERATED_BY", OUTPUT, "ol:health:etl/admissions_by_age") in edges
    assert ("DERIVED_FROM", f"{OUTPUT}#age_band", "health.admissions#date_of_birth") in edges
    assert output == {
        "placeholder": True,
        "ownerAgencyId": "health",
        "effectiveClassification": "PROTECTED",  # derived from admissions, so restricted like it
        "restrictedBy": "health.admissions via ol:health:etl/admissions_by_age",
        "fields": [{"name": "age_band"}],
    }
    assert {"id": "ol:health:my-scheduler-namespace/myjob.mytask", "kind": "PROCESS"} in example["lineage"]["nodes"]
    assert example["dataset"] == {"placeholder": True, "fields": [{"name": "column1", "type": "VARCHAR"}]}


def test_an_invalid_event_from_the_client_is_refused_with_its_path(served: CatalogServer) -> None:
    transport = lineage_client(served, token(served, "hamid.health")).transport
    # What a faulty producer sends: a run without its id.
    body = {
        "eventType": "COMPLETE",
        "eventTime": "2026-03-01T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {},
        "job": {"namespace": "etl", "name": "x"},
    }

    with pytest.raises(requests.HTTPError) as raised:
        transport.emit(body)  # type: ignore[union-attr,arg-type]

    response = raised.value.response
    assert response.status_code == 400
    assert response.json()["error"]["path"] == "$.run.runId"


# --- corrections and webhooks ------------------------------------------------------------------------------


class Receiver:
    """Agencies' webhooks on the loopback interface: `/ok/...` answers 200, `/down/...` always 503, and
    `/switch/...` 503 until `switched_on` is set. `deliveries` lists the X-Catalog-Delivery of every 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.hits: dict[str, int] = {}
        self.deliveries: list[str] = []
        self.switched_on = False
        lock, receiver = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                ok = self.path.startswith("/ok") or (self.path.startswith("/switch") and receiver.switched_on)
                with lock:
                    receiver.hits[self.path] = receiver.hits.get(self.path, 0) + 1
                    if ok:
                        receiver.received.append((self.path, body))
                        receiver.deliveries.append(self.headers.get("X-Catalog-Delivery", ""))
                self.send_response(200 if ok else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def set_webhooks(server: CatalogServer, urls: dict[str, str]) -> None:
    """Agencies' webhook URLs, written into the server's store (there is no mutation to change an agency yet)."""
    store = open_store(load_settings(store=server.env["CATALOG_STORE"]))
    try:
        for agency, url in urls.items():
            store.write(lambda tx, a=agency, u=url: tx.update_node(Label.AGENCY, a, {"webhook_url": u}))
    finally:
        store.close()


def wait_for_deliveries(client: CatalogClient, notice_id: str, done: int) -> list[dict[str, Any]]:
    """Poll the notice until `done` agencies have finished (delivered, or out of attempts); bounded."""
    query = """{ notices(first: 100) { edges { node {
                 id deliveries { agencyId attempt delivered statusCode error } } } } }"""
    deadline = time.monotonic() + WAIT_S
    while True:
        notices = {e["node"]["id"]: e["node"] for e in client.execute(query)["notices"]["edges"]}
        deliveries = notices[notice_id]["deliveries"]  # the demo has a notice of its own
        finished = {d["agencyId"] for d in deliveries if d["delivered"] or d["attempt"] == 4}
        if len(finished) >= done or time.monotonic() > deadline:
            return list(deliveries)
        time.sleep(0.2)


def test_a_correction_reaches_webhooks_and_a_failing_one_is_retried_and_recorded(
    served: CatalogServer, receiver: Receiver
) -> None:
    set_webhooks(served, {"uni": f"{receiver.url}/ok/uni", "stats": f"{receiver.url}/down/stats"})

    with CatalogClient(served.url, token=token(served, "hamid.health")) as steward:
        notice = steward.execute(
            """mutation { issueCorrection(datasetId: "health.admissions", severity: MAJOR,
                 description: "Admission dates were shifted by one day in the 2025-Q3 extract") {
                 id recipientAgencyIds agencyIds affectedDatasets { id } } }"""
        )["issueCorrection"]
    with CatalogClient(served.url, token=token(served, "auditor")) as auditor:
        deliveries = wait_for_deliveries(auditor, notice["id"], done=2)
        history = auditor.execute('{ dataset(id: "health.admissions") { history { action severity reason } } }')
    with CatalogClient(served.url, token=token(served, "uma.uni")) as recipient:
        addressed = recipient.execute('{ notices(agencyId: "uni", first: 100) { edges { node { id } } } }')["notices"]

    assert notice["recipientAgencyIds"] == ["stats", "uni"]  # the demo shares admissions with both
    assert {"id": "stats.hospital-activity"} in notice["affectedDatasets"]
    assert [(path, body["notice"]["id"]) for path, body in receiver.received] == [("/ok/uni", notice["id"])]
    by_agency = {(d["agencyId"], d["attempt"]): (d["delivered"], d["statusCode"]) for d in deliveries}
    assert by_agency[("uni", 1)] == (True, 200)
    assert [by_agency[("stats", n)] for n in (1, 2, 3, 4)] == [(False, 503)] * 4
    assert receiver.hits["/down/stats"] == 4
    assert history["dataset"]["history"][-1] == {
        "action": "issue_correction",
        "severity": "MAJOR",
        "reason": "Admission dates were shifted by one day in the 2025-Q3 extract",
    }
    assert notice["id"] in [edge["node"]["id"] for edge in addressed["edges"]]  # beside the demo's own notice
