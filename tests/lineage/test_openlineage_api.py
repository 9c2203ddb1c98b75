"""POST /api/v1/lineage on every backend: the spec's own example events, validation paths, and atomic writes.

The spec's JSON Schemas (in the shared fixtures) say which examples are valid; the server itself does not read
them, so these tests check that what the schema accepts, the server accepts too.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from starlette.testclient import TestClient

from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.query import TRUE
from catalog.store.schema import Label, Rel
from tests.lineage.conftest import dataset

PRODUCER = "https://example.gov/producer"
FACET = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/Facet.json"}


def spec(fixtures_dir: Path) -> tuple[dict[str, Any], Registry]:
    """The OpenLineage schema and a registry resolving every OpenLineage.json and facet schema it names."""
    folder = fixtures_dir / "openlineage" / "spec"
    core = json.loads((folder / "OpenLineage.json").read_text())

    def retrieve(uri: str) -> Resource:
        if uri.endswith("/OpenLineage.json"):
            return Resource.from_contents(core)
        return Resource.from_contents(json.loads((folder / "facets" / uri.rsplit("/", 1)[1]).read_text()))

    return core, Registry(retrieve=retrieve)  # type: ignore[call-arg]


def valid(schema: dict[str, Any], registry: Registry, instance: Any) -> bool:
    return not list(Draft202012Validator(schema, registry=registry).iter_errors(instance))


def example_events(fixtures_dir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    folder = fixtures_dir / "openlineage"
    for path in sorted([*(folder / "events").glob("*.json"), folder / "spec" / "tests" / "example_full_event.json"]):
        yield path.name, json.loads(path.read_text())


def facet_events(fixtures_dir: Path) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each facet example, with its facet schema, placed where its kind goes in a RunEvent."""
    folder = fixtures_dir / "openlineage" / "spec"
    for path in sorted((folder / "tests").glob("*/*.json")):
        facet_schema = json.loads((folder / "facets" / f"{path.parent.name}.json").read_text())
        facets = json.loads(path.read_text())
        kind = json.dumps(facet_schema).split("OpenLineage.json#/$defs/")[1].split('"')[0]
        event: dict[str, Any] = {
            "eventType": "COMPLETE",
            "eventTime": "2026-01-01T00:00:00Z",
            "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": "0e4ac1a6-2d5d-4a0a-9a89-6a0d4b0c2b11", "facets": {}},
            "job": {"namespace": "facet-tests", "name": path.parent.name, "facets": {}},
            "inputs": [{"namespace": "facet-tests", "name": "input", "facets": {}}],
            "outputs": [{"namespace": "facet-tests", "name": "output", "facets": {}}],
        }
        slot = {
            "RunFacet": event["run"]["facets"],
            "JobFacet": event["job"]["facets"],
            "DatasetFacet": event["outputs"][0]["facets"],
            "InputDatasetFacet": event["inputs"][0].setdefault("inputFacets", {}),
            "OutputDatasetFacet": event["outputs"][0].setdefault("outputFacets", {}),
        }[kind]
        slot.update(facets)
        yield f"{path.parent.name}/{path.name}", facet_schema, event


def post(client: TestClient, token: str, event: Any, **headers: str) -> Any:
    return client.post(
        "/api/v1/lineage",
        content=json.dumps(event),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", **headers},
    )


def run_event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventType": "COMPLETE",
        "eventTime": "2026-03-01T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"},
        "job": {"namespace": "etl", "name": "daily.admissions"},
        "inputs": [
            {
                "namespace": "postgres://db:5432",
                "name": "hospital.admissions",
                "facets": {"schema": {**FACET, "fields": [{"name": "age", "type": "INT"}]}},
            }
        ],
        "outputs": [
            {
                "namespace": "postgres://db:5432",
                "name": "hospital.admissions_by_age",
                "facets": {
                    "schema": {**FACET, "fields": [{"name": "age_band", "type": "VARCHAR"}]},
                    "columnLineage": {
                        **FACET,
                        "fields": {
                            "age_band": {
                                "inputFields": [
                                    {"namespace": "postgres://db:5432", "name": "hospital.admissions", "field": "age"}
                                ]
                            }
                        },
                    },
                },
            }
        ],
    }
    event.update(changes)
    return event


def count(services: Services, label: Label) -> int:
    page = services.store.read(lambda tx: tx.find_nodes(label, TRUE, first=0, with_total=True))
    assert page.total is not None
    return page.total


@pytest.fixture
def steward(token: Callable[[str], str]) -> str:
    return token("steward.health")


def test_every_example_event_the_schema_accepts_is_recorded(
    client: TestClient, steward: str, fixtures_dir: Path, services: Services
) -> None:
    schema, registry = spec(fixtures_dir)
    accepted = []
    for name, event in example_events(fixtures_dir):
        if not valid(schema, registry, event):
            continue
        response = post(client, steward, event)
        assert response.status_code == 201, (name, response.text)
        accepted.append(name)

    assert "example_full_event.json" in accepted and len(accepted) >= 4
    full = services.store.read(
        lambda tx: tx.get_node(Label.DATASET, "ol:health:my-datasource-namespace/instance.schema.table")
    )
    assert full is not None and full["placeholder"] is True and full["owner_agency_id"] == "health"


def test_every_facet_example_the_schema_accepts_is_recorded(
    client: TestClient, steward: str, fixtures_dir: Path
) -> None:
    schema, registry = spec(fixtures_dir)
    tried = 0
    for name, facet_schema, event in facet_events(fixtures_dir):
        if not valid(schema, registry, event):
            continue
        facet_valid = all(
            valid(facet_schema, registry, {key: value})
            for slot in (
                event["run"]["facets"],
                event["job"]["facets"],
                event["outputs"][0]["facets"],
                event["inputs"][0].get("inputFacets", {}),
                event["outputs"][0].get("outputFacets", {}),
            )
            for key, value in slot.items()
        )
        if not facet_valid:
            continue
        response = post(client, steward, event)
        assert response.status_code == 201, (name, response.text)
        tried += 1

    assert tried >= 20


def test_a_run_event_becomes_datasets_fields_a_process_and_column_lineage(
    client: TestClient, steward: str, services: Services
) -> None:
    response = post(client, steward, run_event())

    assert response.status_code == 201, response.text
    body = response.json()
    source, output = sorted(body["datasets"])
    assert (source, output) == (
        "ol:health:postgres://db:5432/hospital.admissions",
        "ol:health:postgres://db:5432/hospital.admissions_by_age",
    )
    process = services.store.read(lambda tx: tx.get_node(Label.PROCESS, body["process"]))
    assert process is not None and process["run_id"] == "3f5e83fa-3480-44ff-99c5-ff943904e5e8"
    lineage = services.store.read(lambda tx: tx.lineage(output, "UPSTREAM", 1))
    assert source in lineage.datasets
    derived = services.store.read(lambda tx: tx.neighbors(Rel.DERIVED_FROM, [f"{output}#age_band"], "out"))
    assert derived == {f"{output}#age_band": [f"{source}#age"]}


def test_the_same_run_twice_is_recorded_once(client: TestClient, steward: str, services: Services) -> None:
    post(client, steward, run_event())
    events_before = actions(services)

    assert post(client, steward, run_event()).status_code == 201
    added = actions(services)[len(events_before) :]
    # The repeat changes nothing in the lineage; it is still a request the policy decided, and that is recorded.
    assert added and set(added) == {"decide_record_lineage"}


def actions(services: Services) -> list[str]:
    page = services.store.read(lambda tx: tx.find_nodes(Label.AUDIT_EVENT, TRUE, first=10_000))
    return [str(props["action"]) for _, props in page.items]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda e: e["run"].pop("runId"), "$.run.runId"),
        (lambda e: e["run"].update(runId="not-a-uuid"), "$.run.runId"),
        (lambda e: e.pop("eventTime"), "$.eventTime"),
        (lambda e: e["outputs"][0].pop("name"), "$.outputs[0].name"),
        (
            lambda e: e["inputs"][0]["facets"]["schema"]["fields"][0].pop("name"),
            "$.inputs[0].facets.schema.fields[0].name",
        ),
        (
            lambda e: e["outputs"][0]["facets"]["columnLineage"].pop("_producer"),
            "$.outputs[0].facets.columnLineage._producer",
        ),
        (lambda e: e.update(eventType="FINISHED"), "$.eventType"),
        (lambda e: (e.pop("run"), e.pop("job")), "$"),
    ],
)
def test_an_invalid_event_is_refused_naming_the_json_path_and_nothing_is_written(
    client: TestClient, steward: str, services: Services, mutate: Callable[[dict[str, Any]], Any], path: str
) -> None:
    event = copy.deepcopy(run_event())
    mutate(event)
    before = count(services, Label.DATASET), count(services, Label.AUDIT_EVENT)

    response = post(client, steward, event)

    assert response.status_code == 400
    assert response.json()["error"]["path"] == path
    assert (count(services, Label.DATASET), count(services, Label.AUDIT_EVENT)) == before


def test_an_event_the_sender_may_not_write_is_refused_whole(
    client: TestClient, token: Callable[[str], str], services: Services
) -> None:
    dataset(services, "stats.tables", owner="stats")
    event = run_event(outputs=[{"namespace": "catalog", "name": "stats.tables"}])
    before = count(services, Label.DATASET)

    response = post(client, token("steward.health"), event)

    assert response.status_code == 403
    assert count(services, Label.DATASET) == before  # the input's placeholder was not left behind


def test_events_need_a_bearer_token_and_json(client: TestClient, steward: str) -> None:
    anonymous = client.post("/api/v1/lineage", json=run_event())
    text = client.post(
        "/api/v1/lineage", content="x", headers={"Authorization": f"Bearer {steward}", "Content-Type": "text/plain"}
    )

    assert anonymous.status_code == 401
    assert text.status_code == 415


def test_a_gzipped_event_is_accepted(client: TestClient, steward: str) -> None:
    response = client.post(
        "/api/v1/lineage",
        content=gzip.compress(json.dumps(run_event()).encode()),
        headers={"Authorization": f"Bearer {steward}", "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )

    assert response.status_code == 201, response.text


def test_a_catalog_namespace_names_a_registered_dataset(client: TestClient, steward: str, services: Services) -> None:
    dataset(services, "health.admissions", classification="PROTECTED")
    event = run_event(inputs=[{"namespace": "catalog", "name": "health.admissions"}])

    response = post(client, steward, event)

    output = next(d for d in response.json()["datasets"] if d != "health.admissions")
    props = services.store.read(lambda tx: tx.get_node(Label.DATASET, output))
    assert props is not None and props["effective_classification"] == "PROTECTED"
    assert props["restricted_by"] == f"health.admissions via {response.json()['process']}"


def test_names_an_id_cannot_hold_map_to_a_stable_hashed_id(client: TestClient, steward: str) -> None:
    event = run_event(inputs=[], outputs=[{"namespace": "s3://bucket", "name": "reports/2026 Q1 (final).csv"}])

    first = post(client, steward, event).json()["datasets"]
    again = post(client, steward, event).json()["datasets"]

    assert first == again
    assert first[0].startswith("ol:health:s3://bucket/reports/2026-Q1--final-.csv.")


def test_only_who_may_record_lineage_describes_a_placeholder(
    client: TestClient, token: Callable[[str], str], services: Services
) -> None:
    services.registration.register_person(
        SYSTEM, {"id": "analyst.health", "name": "Analyst", "agency_id": "health", "roles": ["ANALYST"]}
    )
    dataset_event = {
        "eventTime": "2026-03-01T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {"namespace": "s3://lake", "name": "admissions", "facets": {"schema": {**FACET, "fields": []}}},
    }
    post(client, token("steward.health"), dataset_event)
    dataset_event["dataset"]["facets"]["schema"]["fields"] = [{"name": "age", "type": "INT"}]

    analyst = post(client, token("analyst.health"), dataset_event).json()
    own = post(client, token("steward.health"), dataset_event).json()

    assert "not yours to describe" in analyst["warnings"][0]
    assert own["warnings"] == []
    fields = services.store.read(lambda tx: tx.neighbors(Rel.HAS_FIELD, ["ol:health:s3://lake/admissions"], "out"))
    assert fields == {"ol:health:s3://lake/admissions": ["ol:health:s3://lake/admissions#age"]}
    history = services.reads.dataset(SYSTEM, "ol:health:s3://lake/admissions").id
    assert history  # the fields came with an update_dataset event: see test_every_write_has_its_event


def test_another_agency_naming_the_same_dataset_gets_its_own_placeholder(
    client: TestClient, token: Callable[[str], str], services: Services
) -> None:
    # Names are in the sending agency's own space, so an event can never reach (or reveal) another agency's.
    dataset_event = {
        "eventTime": "2026-03-01T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {"namespace": "s3://lake", "name": "admissions", "facets": {}},
    }
    health = post(client, token("steward.health"), dataset_event).json()
    stats = post(client, token("steward.stats"), dataset_event).json()

    assert health["placeholders"] == ["ol:health:s3://lake/admissions"]
    assert stats["placeholders"] == ["ol:stats:s3://lake/admissions"]
    owners = services.reads.datasets_by_ids(SYSTEM, [*health["placeholders"], *stats["placeholders"]])
    assert {d.owner_agency_id for d in owners.values()} == {"health", "stats"}
