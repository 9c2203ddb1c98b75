"""No hidden id in any answer, over HTTP on both backends: upstream paths, notices, one's own audit events, and
the decisions of a former recipient."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from catalog.domain import utcnow
from catalog.principal import SYSTEM
from tests.trust.conftest import FIELDS, HIDDEN, Trust, code, register_dataset


def agreement(trust: Trust, dataset: str, recipient: str = "social", **extra: Any) -> str:
    now = utcnow()
    return trust.services.agreements.register(
        SYSTEM,
        {
            "provider_agency_id": "health",
            "recipient_agency_id": recipient,
            "dataset_ids": [dataset],
            "purpose": "RESEARCH",
            "legal_basis": {"article6": "PUBLIC_TASK"},
            "access_method": "SECURE_ENCLAVE",
            "max_classification": "PROTECTED",
            "approved_fields": ["region", "age"],
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=100),
            **extra,
        },
    ).id


def mentions(answer: Any, id: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(id)}(?![\w-])", json.dumps(answer)) is not None


def test_restricted_by_never_names_a_hidden_upstream_dataset(trust: Trust) -> None:
    agreement(trust, "waiting")  # social may now see `waiting`, which comes from `admissions`; it may not see that
    query = '{ dataset(id: "waiting") { effectiveClassification restrictedBy } }'

    seen = trust.gql(query, as_="analyst.social")["data"]["dataset"]
    oversight = trust.gql(query, as_="auditor")["data"]["dataset"]
    page = trust.client.get("/datasets/waiting")  # anonymous: not even the dataset

    hidden = trust.services.redaction.redact(HIDDEN)
    assert seen == {"effectiveClassification": "PROTECTED", "restrictedBy": f"{hidden} via p-wait"}
    assert oversight["restrictedBy"] == f"{HIDDEN} via p-wait"
    assert page.status_code == 404


def test_a_notice_never_names_a_hidden_corrected_dataset(trust: Trust) -> None:
    agreement(trust, "waiting")
    trust.services.corrections.issue(trust.principal("steward.health"), HIDDEN, "ages off by one", "MAJOR")
    trust.services.corrections.deliverer.wait(10)

    notices = trust.gql(
        '{ notices(agencyId: "social") { edges { node { datasetId affectedDatasets { id redacted } } } } }',
        as_="analyst.social",
    )["data"]["notices"]["edges"]

    [notice] = [edge["node"] for edge in notices]
    assert notice["datasetId"] == trust.services.redaction.redact(HIDDEN)
    assert {"id": "waiting", "redacted": False} in notice["affectedDatasets"]
    assert not mentions(notices, HIDDEN)


def test_ones_own_audit_events_never_name_a_dataset_hidden_from_one(trust: Trust) -> None:
    # social derives its own sensitive table from health's public clinics: health's staff may not see it.
    register_dataset(
        trust.services,
        "social.clinic-visits",
        title="Visits",
        owner="social",
        fields=FIELDS,
        classification="OFFICIAL_SENSITIVE",
    )
    trust.services.lineage.record(
        SYSTEM, {"id": "p-visits", "name": "visits", "inputs": ["clinics"], "outputs": ["social.clinic-visits"]}
    )
    trust.services.registration.assign_steward(SYSTEM, "clinics", "steward.health")
    issued = trust.gql(
        'mutation { issueCorrection(datasetId: "clinics", description: "moved", severity: MINOR) { id '
        "affectedDatasets { id redacted } } }",
        as_="steward.health",
    )
    own = trust.gql("{ auditTrail(first: 100) { edges { node { action targetIds change } } } }", as_="steward.health")

    assert issued["data"]["issueCorrection"]["affectedDatasets"] == [
        {"id": trust.services.redaction.redact("social.clinic-visits"), "redacted": True}
    ]
    events = [edge["node"] for edge in own["data"]["auditTrail"]["edges"]]
    assert "issue_correction" in [e["action"] for e in events]
    assert not mentions(events, "social.clinic-visits")
    everything = trust.gql(
        '{ auditTrail(filter: {action: "issue_correction"}) { edges { node { change } } } }', as_="auditor"
    )
    assert mentions(everything, "social.clinic-visits")  # oversight reads the record as written


def test_a_former_recipient_keeps_the_outcome_and_reason_but_not_the_hidden_attributes(trust: Trust) -> None:
    granted = agreement(trust, HIDDEN, max_classification="OFFICIAL")  # its own terms the recipient knows
    trust.services.agreements.revoke(trust.principal("owner.health"), granted, "INC-0042: misuse")
    ask = f'{{datasetId: "{HIDDEN}", purpose: "RESEARCH", accessMethod: SECURE_ENCLAVE}}'
    query = (
        f"{{ explainAccess(input: {ask}) {{ outcome denyKind reason attributes evaluations {{ conditions {{ seen }} }} "
    )
    query += "safes { safe status evidence } } }"

    explained = trust.gql(query, as_="analyst.social")
    shown = trust.gql(f'{{ dataset(id: "{HIDDEN}") {{ id }} }}', as_="analyst.social")

    assert code(shown) == "NOT_FOUND"
    decision = explained["data"]["explainAccess"]
    assert (decision["outcome"], decision["denyKind"]) == ("DENY", "EXPLICIT")
    assert "revoked" in decision["reason"]
    attributes = json.loads(decision["attributes"])
    assert "obj" not in attributes  # the dataset's attributes: its fields, stewards, classification, purposes
    everything = json.dumps(decision)
    for secret in ("steward.health", "person_id", "PROTECTED", "permitted_purposes"):
        assert secret not in everything, secret
