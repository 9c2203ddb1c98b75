"""Every change to the graph has its audit event, on both backends: a walk through every mutation of the API and
every writing CLI command, comparing the whole graph before and after each step with the audit trail."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from catalog.api.sdl import schema_sdl
from catalog.cli import cli
from catalog.principal import SYSTEM
from catalog.services.audit_trail import verify_store
from catalog.services.corrections import WebhookDeliverer
from catalog.store.base import GraphStore
from catalog.store.query import TRUE
from catalog.store.schema import Label
from tests.connectors.test_dcat_import import DATA
from tests.trust.conftest import Trust, run_event

WINDOW = 'validUntil: "2999-01-01T00:00:00Z"'


def graph(store: GraphStore) -> set[str]:
    """Every node and edge with its properties, read past the store contract (counters left out: they are
    bookkeeping, not the catalog)."""
    if hasattr(store, "path"):
        with sqlite3.connect(store.path) as conn:
            rows = conn.execute("SELECT label, id, props FROM nodes").fetchall()
            rows += conn.execute("SELECT rel, source, target, props FROM edges").fetchall()
        return {json.dumps(row) for row in rows}
    driver = store._driver  # type: ignore[attr-defined]
    with driver.session() as session:
        nodes = session.run("MATCH (n) WHERE NOT n:Counter RETURN labels(n) AS l, properties(n) AS p").data()
        edges = session.run("MATCH (a)-[r]->(b) RETURN type(r) AS t, a.id AS s, b.id AS d, properties(r) AS p").data()
    return {json.dumps(row, sort_keys=True, default=str) for row in nodes + edges}


def events(store: GraphStore) -> int:
    page = store.read(lambda tx: tx.find_nodes(Label.AUDIT_EVENT, TRUE, first=0, with_total=True))
    assert page.total is not None
    return page.total


def mutations_in_the_schema() -> set[str]:
    body = schema_sdl().split("type Mutation {", 1)[1].split("\n}", 1)[0]
    return set(re.findall(r"^  ([a-zA-Z]+)[(:]", body, flags=re.MULTILINE))


def test_every_mutation_and_every_cli_write_appends_its_audit_event(
    trust: Trust, store: GraphStore, tmp_path: Path
) -> None:
    services = trust.services
    services.corrections.deliverer = WebhookDeliverer(store, services.ctx.clock, attempts=2, backoff_s=0.01)
    services.store.write(lambda tx: tx.update_node(Label.AGENCY, "social", {"webhook_url": "http://127.0.0.1:9/"}))
    # Special-category data of health that social may discover: a share of it needs four eyes.
    services.registration.register_dataset(
        SYSTEM,
        {
            "id": "shared",
            "title": "Shared",
            "owner_agency_id": "health",
            "personal_data": "SPECIAL_CATEGORY",
            "permitted_purposes": ["RESEARCH"],
            "legal_basis": {"article6": "PUBLIC_TASK"},
        },
    )
    services.registration.assign_steward(SYSTEM, "shared", "steward.health")
    request_id: dict[str, str] = {}

    def gql(query: str, as_: str, *, refused: bool = False) -> Callable[[], Any]:
        def step() -> Any:
            body = trust.gql(query.replace("REQUEST", request_id.get("id", "")), as_=as_)
            if refused:
                assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
            else:
                assert "errors" not in body, body
            if "requestShare" in (body.get("data") or {}):
                request_id["id"] = body["data"]["requestShare"]["id"]
            return body

        return step

    share = f"""mutation {{ requestShare(input: {{datasetIds: ["shared"], recipientAgencyId: "social",
        purpose: "RESEARCH", legalBasis: {{article6: PUBLIC_TASK}}, accessMethod: SECURE_ENCLAVE, {WINDOW}}})
        {{ id status }} }}"""
    agreement: dict[str, str] = {}

    def lifecycle(verb: str, as_: str, extra: str = 'reason: "INC-1"') -> Callable[[], Any]:
        def step() -> Any:
            if not agreement:
                found = services.agreements.list(SYSTEM, services_filter(), 1).items
                agreement["id"] = found[0].id
            body = trust.gql(f'mutation {{ {verb}(id: "{agreement["id"]}", {extra}) {{ status }} }}', as_=as_)
            assert "errors" not in body, body
            return body

        return step

    steps: dict[str, Callable[[], Any]] = {
        "registerAgency": gql(
            'mutation { registerAgency(input: {id: "transport", name: "Transport"}) { id } }', "admin"
        ),
        "registerPerson": gql(
            'mutation { registerPerson(input: {id: "olu", name: "Olu", agencyId: "transport", roles: [DATA_OWNER]}) '
            "{ id } }",
            "admin",
        ),
        "recordTraining": gql(
            'mutation { recordTraining(personId: "steward.social", training: {completedAt: "2026-01-01T00:00:00Z", '
            'expiresAt: "2027-01-01T00:00:00Z"}) { id } }',
            "owner.social",
        ),
        "registerDataset": gql(
            'mutation { registerDataset(input: {id: "health.summary", title: "Summary", ownerAgencyId: "health", '
            'fields: [{name: "region"}]}) { id } }',
            "owner.health",
        ),
        "updateDataset": gql(
            'mutation { updateDataset(id: "health.summary", input: {description: "d"}) { id } }', "owner.health"
        ),
        "updateDataset refused": gql(
            'mutation { updateDataset(id: "clinics", input: {description: "mine now"}) { id } }',
            "analyst.social",
            refused=True,
        ),
        "assignSteward": gql(
            'mutation { assignSteward(datasetId: "health.summary", personId: "steward.health") { id } }', "owner.health"
        ),
        "unassignSteward": gql(
            'mutation { unassignSteward(datasetId: "health.summary", personId: "steward.health") { id } }',
            "owner.health",
        ),
        "setRoles": gql(
            'mutation { setRoles(personId: "approver.health", roles: [APPROVER, STEWARD]) { id } }', "owner.health"
        ),
        "deactivatePerson": gql(
            'mutation { deactivatePerson(personId: "approver.health", reason: "leave") { id } }', "owner.health"
        ),
        "reactivatePerson": gql(
            'mutation { reactivatePerson(personId: "approver.health", reason: "back") { id } }', "admin"
        ),
        "recordLineage": gql(
            'mutation { recordLineage(input: {id: "p-sum", name: "sum", kind: DEIDENTIFY, runId: "r1", '
            'inputs: ["clinics"], outputs: ["health.summary"]}) { id } }',
            "owner.health",
        ),
        "recordLineage again, with a new input": gql(
            'mutation { recordLineage(input: {id: "p-sum", name: "sum", kind: DEIDENTIFY, runId: "r1", '
            'inputs: ["clinics", "waiting"], outputs: ["health.summary"]}) { id } }',
            "owner.health",
        ),
        "attestProcess": lambda: (
            services.registration.assign_steward(SYSTEM, "health.summary", "steward.health"),
            gql(
                'mutation { attestProcess(processId: "p-sum", outputIdentifiability: DEIDENTIFIED, note: "ok") '
                "{ id } }",
                "steward.health",
            )(),
        ),
        "issueCorrection": lambda: (
            gql(
                'mutation { issueCorrection(datasetId: "clinics", description: "moved", severity: MINOR) { id } }',
                "admin",
            )(),
            services.corrections.deliverer.wait(30),  # the deliveries it sets off are writes too
        ),
        "checkAccess": gql(
            'mutation { checkAccess(input: {datasetId: "clinics", purpose: "RESEARCH", accessMethod: API}) '
            "{ outcome } }",
            "analyst.social",
        ),
        "requestShare": gql(share, "analyst.social"),
        "approveShare": gql('mutation { approveShare(requestId: "REQUEST") { status } }', "steward.health"),
        "approveShare, the second pair of eyes": gql(
            'mutation { approveShare(requestId: "REQUEST") { status } }', "approver.health"
        ),
        "suspendAgreement": lifecycle("suspendAgreement", "approver.health"),
        "resumeAgreement": lifecycle("resumeAgreement", "approver.health"),
        "renewAgreement": lifecycle("renewAgreement", "owner.health", 'validUntil: "2999-06-01T00:00:00Z"'),
        "revokeAgreement": lifecycle("revokeAgreement", "approver.health"),
        "requestShare, to be rejected": gql(share, "analyst.social"),
        "rejectShare": gql('mutation { rejectShare(requestId: "REQUEST", reason: "no") { status } }', "steward.health"),
        "catalog ingest openlineage": cli_write(
            store, "ingest", "openlineage", str(ol_file(tmp_path)), "--agency", "social"
        ),
        "catalog ingest dcat": cli_write(store, "ingest", "dcat", str(DATA / "catalogue.ttl")),
    }
    covered = {name.split(",")[0].split(" ")[0] for name in steps}
    assert mutations_in_the_schema() <= covered, "a mutation has no step in this walk"

    unrecorded, unchanged = [], []
    for name, step in steps.items():
        before, count = graph(store), events(store)
        step()
        changed, grew = graph(store) != before, events(store) > count
        if changed and not grew:
            unrecorded.append(name)
        if not changed:
            unchanged.append(name)
    assert unrecorded == []
    assert unchanged == [], "each step was meant to change the graph; one that does not proves nothing here"
    assert verify_store(store).intact


def services_filter() -> Any:
    from catalog.services import AgreementFilter

    return AgreementFilter(dataset="shared")


def cli_write(store: GraphStore, *args: str) -> Callable[[], Any]:
    uri = getattr(store, "uri", None) or f"sqlite:///{getattr(store, 'path', '')}"

    def step() -> Any:
        result = CliRunner().invoke(cli, list(args), env={"CATALOG_STORE": uri})
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    return step


def ol_file(folder: Path) -> Path:
    path = folder / "events.jsonl"
    path.write_text(json.dumps(OL_EVENT) + "\n")
    return path


OL_EVENT = run_event(("etl", "walk"), read=("s3://lake", "in"), written=("s3://lake", "out"))
