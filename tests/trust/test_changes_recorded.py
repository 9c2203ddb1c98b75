"""Changes that used to go unrecorded or unchecked, on both backends: re-recorded lineage, voided attestations,
requests with no fields named, and an agreement's status read two ways."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from catalog.domain import utcnow
from catalog.errors import Forbidden
from catalog.principal import SYSTEM
from catalog.store.query import Eq
from catalog.store.schema import Label
from tests.trust.conftest import HIDDEN, Trust, code, register_dataset
from tests.web.conftest import csrf_of


def recordings(trust: Trust, process_id: str) -> list[dict[str, Any]]:
    where = Eq("action", "record_lineage")
    page = trust.services.store.read(lambda tx: tx.find_nodes(Label.AUDIT_EVENT, where, first=10_000))
    changes = [json.loads(props["change_json"]) for _, props in page.items]
    return [c for c in changes if c["process"] == process_id]


def summary(trust: Trust, **extra: Any) -> None:
    register_dataset(trust.services, "summary", owner="health", **extra)
    trust.services.registration.assign_steward(SYSTEM, "summary", "steward.health")


def test_re_recording_a_run_with_changes_is_on_the_record_and_a_plain_repeat_is_not(trust: Trust) -> None:
    summary(trust)
    run = {"id": "p-sum", "name": "summary", "run_id": "r1", "inputs": ["clinics"], "outputs": ["summary"]}
    owner = trust.principal("owner.health")
    trust.services.lineage.record(owner, run)
    trust.services.lineage.record(owner, run)  # the same run again: nothing new
    trust.services.lineage.record(owner, {**run, "name": "summary v2", "kind": "AGGREGATE"})
    trust.services.lineage.record(owner, {**run, "name": "summary v2", "kind": "AGGREGATE", "inputs": ["waiting"]})

    first, renamed, widened = recordings(trust, "p-sum")
    assert "changes" not in first
    assert renamed["changes"] == {
        "name": {"before": "summary", "after": "summary v2"},
        "kind": {"before": "TRANSFORM", "after": "AGGREGATE"},
    }
    assert widened["changes"] == {"inputs": {"before": ["clinics"], "after": ["clinics", "waiting"]}}


def test_an_attestation_is_withdrawn_when_the_process_takes_a_new_input_and_restrictions_come_back(
    trust: Trust,
) -> None:
    summary(trust, classification="OFFICIAL")
    register_dataset(trust.services, "raw", owner="health", classification="OFFICIAL_SENSITIVE")
    run = {
        "id": "p-deid",
        "name": "deid",
        "kind": "DEIDENTIFY",
        "run_id": "r1",
        "inputs": ["raw"],
        "outputs": ["summary"],
    }
    trust.services.lineage.record(trust.principal("owner.health"), run)
    trust.services.lineage.attest(trust.principal("steward.health"), "p-deid", "DEIDENTIFIED", "checked k=10")
    assert trust.services.reads.dataset(SYSTEM, "summary").effective_classification == "OFFICIAL"

    # The same run now also reads the PROTECTED admissions: what the steward checked is no longer what runs.
    trust.services.lineage.record(trust.principal("owner.health"), {**run, "inputs": ["raw", HIDDEN]})

    process = trust.gql(
        '{ lineage(datasetId: "summary", direction: UPSTREAM, depth: 1) { nodes { id process { '
        "attestedIdentifiability attestedBy } } } }",
        as_="auditor",
    )["data"]["lineage"]["nodes"]
    assert {"id": "p-deid", "process": {"attestedIdentifiability": None, "attestedBy": None}} in process
    assert trust.services.reads.dataset(SYSTEM, "summary").effective_classification == "PROTECTED"
    withdrawn = recordings(trust, "p-deid")[-1]
    assert withdrawn["attestation_withdrawn"]["attested_by"] == "steward.health"
    assert "summary" in withdrawn["propagated"]


def test_an_attestation_is_withdrawn_when_the_process_kind_changes(trust: Trust) -> None:
    summary(trust)
    run = {
        "id": "p-agg",
        "name": "agg",
        "kind": "AGGREGATE",
        "run_id": "r1",
        "inputs": [HIDDEN],
        "outputs": ["summary"],
    }
    trust.services.lineage.record(SYSTEM, run)
    trust.services.lineage.attest(trust.principal("steward.health"), "p-agg", "AGGREGATE", "checked")

    trust.services.lineage.record(SYSTEM, {**run, "kind": "TRANSFORM"})

    assert "attestation_withdrawn" in recordings(trust, "p-agg")[-1]
    assert trust.services.reads.dataset(SYSTEM, "summary").effective_classification == "PROTECTED"


def test_nobody_attests_a_run_they_recorded(trust: Trust) -> None:
    summary(trust)
    steward = trust.principal("steward.health")
    trust.services.lineage.record(
        steward, {"id": "p-own", "name": "own", "kind": "DEIDENTIFY", "inputs": [HIDDEN], "outputs": ["summary"]}
    )

    with pytest.raises(Forbidden, match="deny-attesting-own-run"):
        trust.services.lineage.attest(steward, "p-own", "DEIDENTIFIED", "I checked my own work")


def agreement(trust: Trust, dataset: str, fields: list[str], **extra: Any) -> str:
    now = utcnow()
    return trust.services.agreements.register(
        SYSTEM,
        {
            "provider_agency_id": "health",
            "recipient_agency_id": "social",
            "dataset_ids": [dataset],
            "purpose": "RESEARCH",
            "legal_basis": {"article6": "PUBLIC_TASK"},
            "access_method": "SECURE_ENCLAVE",
            "max_classification": "PROTECTED",
            "approved_fields": fields,
            "valid_from": now - timedelta(days=10),
            "valid_until": now + timedelta(days=100),
            **extra,
        },
    ).id


CHECK = """mutation($f: [String!]) { checkAccess(input: {datasetId: "DATASET", purpose: "RESEARCH",
           accessMethod: SECURE_ENCLAVE, fields: $f}) { outcome reason request { fields } } }"""


def check(trust: Trust, dataset: str, fields: list[str] | None) -> dict[str, Any]:
    body = trust.gql(CHECK.replace("DATASET", dataset), {"f": fields}, as_="analyst.social")
    return body if "errors" in body else body["data"]["checkAccess"]


def test_asking_for_no_fields_means_the_fields_the_agreement_approves_and_says_so(trust: Trust) -> None:
    agreement(trust, HIDDEN, ["region", "age"])

    for asked in (None, []):
        decided = check(trust, HIDDEN, asked)
        assert decided["outcome"] == "PERMIT"
        assert decided["request"]["fields"] == ["region", "age"]  # what was released is on the record
    outside = check(trust, HIDDEN, ["region", "person_id"])
    assert outside["outcome"] == "DENY"
    assert "does not approve the field(s) person_id; it approves region and age" in outside["reason"]


def test_a_dataset_with_no_fields_is_decided_on_the_agreements_list(trust: Trust) -> None:
    register_dataset(
        trust.services,
        "bare",
        owner="health",
        classification="PROTECTED",
        permitted_purposes=["RESEARCH"],
        legal_basis={"article6": "PUBLIC_TASK"},
    )
    trust.services.registration.assign_steward(SYSTEM, "bare", "steward.health")
    agreement(trust, "bare", ["a", "b"])

    assert check(trust, "bare", None)["request"]["fields"] == ["a", "b"]
    assert check(trust, "bare", ["a"])["outcome"] == "PERMIT"
    assert code(check(trust, "bare", ["zzz"])) == "BAD_USER_INPUT"


def test_impact_reads_an_agreements_status_as_everything_else_does(trust: Trust) -> None:
    now = utcnow()
    expired = agreement(trust, "clinics", [], valid_from=now - timedelta(days=30), valid_until=now - timedelta(days=1))

    impact = trust.gql('{ impact(datasetId: "clinics", depth: 2) { agreements { id status } } }', as_="auditor")
    one = trust.gql(f'{{ agreement(id: "{expired}") {{ status }} }}', as_="auditor")
    csrf = csrf_of(trust.client.get("/signin").text)
    trust.client.post("/signin", data={"csrf_token": csrf, "token": trust.token("auditor")})
    page = trust.client.get("/datasets/clinics/impact")

    assert {"id": expired, "status": "EXPIRED"} in impact["data"]["impact"]["agreements"]
    assert one["data"]["agreement"]["status"] == "EXPIRED"
    assert "EXPIRED" in page.text and ">ACTIVE<" not in page.text
