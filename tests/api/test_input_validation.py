"""Every bad input is BAD_USER_INPUT naming its field, and nothing is written: URLs, emails, dates, names, text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from starlette.testclient import TestClient

from catalog.domain import utcnow
from catalog.services import Services
from catalog.store.schema import Label

Gql = Callable[..., dict[str, Any]]
AGENCY = "mutation($i: RegisterAgencyInput!) { registerAgency(input: $i) { id } }"
PERSON = "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { id } }"
TRAINING = "mutation($t: TrainingInput!) { recordTraining(personId: \"analyst.social\", training: $t) { id } }"
DATASET = "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { id } }"
LINEAGE = "mutation($i: RecordLineageInput!) { recordLineage(input: $i) { id } }"
PROVENANCE = '{ provenance(datasetId: "clinics", format: TURTLE, baseUrl: "not a url") }'
FUTURE = utcnow() + timedelta(days=30)


def dataset(**changes: Any) -> dict[str, Any]:
    return {"i": {"id": "new", "title": "New", "ownerAgencyId": "health", **changes}}


CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("provenance-base-url", PROVENANCE, {}, "baseUrl"),
    ("webhook-javascript", AGENCY, {"i": {"id": "x", "name": "X", "webhookUrl": "javascript:alert(1)"}}, "webhookUrl"),
    ("source-url", DATASET, dataset(sourceUrl="javascript:alert(1)"), "sourceUrl"),
    ("access-url", DATASET, dataset(distributions=[{"accessUrl": "javascript:alert(1)"}]), "distributions.0.accessUrl"),
    (
        "download-url",
        DATASET,
        dataset(distributions=[{"accessUrl": "https://x.example/a", "downloadUrl": "ftp://x.example/a.csv"}]),
        "distributions.0.downloadUrl",
    ),
    ("licence-url", DATASET, dataset(licence={"url": "data:text/html,hi"}), "licence.url"),
    ("email", PERSON, {"i": {"id": "p", "name": "P", "agencyId": "health", "email": "not-an-email"}}, "email"),
    (
        "training-in-the-future",
        TRAINING,
        {"t": {"completedAt": FUTURE.isoformat(), "expiresAt": (FUTURE + timedelta(days=365)).isoformat()}},
        "training.completedAt",
    ),
    ("field-name-hash", DATASET, dataset(fields=[{"name": "a#b"}]), "fields.0.name"),
    ("self-loop", LINEAGE, {"i": {"id": "p", "name": "L", "inputs": ["clinics"], "outputs": ["clinics"]}}, "outputs"),
    ("control-in-title", DATASET, dataset(title="bad\u0007title"), "title"),
    ("newline-in-tag", DATASET, dataset(tags=["two\nlines"]), "tags.0"),
    ("control-in-description", DATASET, dataset(description="line one\n\u001b[31mred"), "description"),
    ("control-in-agency-name", AGENCY, {"i": {"id": "x", "name": "X\u0000"}}, "name"),
]


@pytest.mark.parametrize(("query", "variables", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_naming_the_field(gql: Gql, query: str, variables: dict[str, Any], field: str) -> None:
    body = gql(query, variables)

    assert body.get("data") is None or not any(body["data"].values()), body
    error = body["errors"][0]
    assert (error["extensions"]["code"], error["extensions"].get("field")) == ("BAD_USER_INPUT", field), error


def test_a_refused_dataset_is_not_written(gql: Gql) -> None:
    gql(DATASET, dataset(sourceUrl="javascript:alert(1)"))

    assert gql('{ dataset(id: "new") { id } }')["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_a_stored_javascript_url_never_reaches_the_dcat_export(services: Services, client: TestClient) -> None:
    """A record stored before URLs were checked: the export leaves the URL out rather than publish it."""
    bad = {"source_url": "javascript:alert(1)"}
    services.store.write(lambda tx: tx.update_node(Label.DATASET, "clinics", bad))

    turtle = client.get("/dcat/catalog.ttl")

    assert turtle.status_code == 200
    assert "Clinic locations" in turtle.text
    assert "javascript:" not in turtle.text


def test_a_stored_control_character_still_draws_valid_svg(services: Services, client: TestClient) -> None:
    """A title stored before text was checked: the drawing replaces the character and stays well-formed XML."""
    bad = {"title": "Clinic\u0007locations"}
    services.store.write(lambda tx: tx.update_node(Label.DATASET, "clinics", bad))

    svg = client.get("/datasets/clinics/lineage.svg")

    assert svg.status_code == 200
    ElementTree.fromstring(svg.content)


def test_an_explicit_null_depth_is_refused_naming_it(gql: Callable[..., dict[str, Any]]) -> None:
    """Found by schemathesis (tests/e2e/test_faults.py): `depth: null` answered INTERNAL."""
    for query in ('{ impact(datasetId: "clinics", depth: null) { datasetCount } }',
                  '{ lineage(datasetId: "clinics", depth: null) { nodes { id } } }'):
        body = gql(query)

        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert body["errors"][0]["extensions"]["field"] == "depth"
