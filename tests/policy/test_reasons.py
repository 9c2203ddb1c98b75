"""Reasons a person can act on: every refusal says, in plain words, why and what would have to change.

The demo's people and the policy's own test cases, on both backends: each refusal's reason is checked for the
sentence a person would read and for code (attribute paths, `saw`, Python literals), and each has a remedy.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.domain import Decision, Outcome, utcnow
from catalog.policy.engine import PolicyEngine
from catalog.policy.testing import _merge, attributes_from
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.base import GraphStore
from tests.conftest import REPO

# What code looks like in a sentence: attribute paths, "saw", brackets, quoted literals, Python constants.
CODE = re.compile(r"\br\.(sub|obj|env)\b|\b(sub|obj|env)\.[a-z_]+|\bsaw\b|[\[\]{}\"]|'[^' ]*'|\b(True|False|None)\b")
DEID = {"dataset_id": "health.admissions-deid", "purpose": "RESEARCH", "access_method": "SECURE_ENCLAVE"}
HOUSING = {"dataset_id": "social.housing-cases", "access_method": "API"}


def no_code(text: str) -> bool:
    return CODE.search(text) is None


@pytest.fixture
def demo(store: GraphStore) -> Services:
    services = Services(store, load_settings(policy_reload_interval_s=0))
    load_demo(services)
    return services


def explain(services: Services, who: str, request: dict[str, Any]) -> Decision:
    return services.access.explain(services.people.principal(who), request)


def test_every_refusal_the_demo_people_meet_says_why_and_what_would_change(demo: Services) -> None:
    now = utcnow()
    grace = demo.people.principal("grace.health")
    # DOWNLOAD of PROTECTED data: uni gets an agreement for PROTECTED tables that (wrongly) allows downloads.
    demo.registration.register_dataset(
        SYSTEM,
        {
            "id": "stats.protected-tables",
            "title": "Protected tables",
            "owner_agency_id": "stats",
            "classification": "PROTECTED",
            "permitted_purposes": ["RESEARCH"],
            "legal_basis": {"article6": "PUBLIC_TASK"},
        },
    )
    demo.agreements.register(
        SYSTEM,
        {
            "id": "agr.stats-uni-tables",
            "provider_agency_id": "stats",
            "recipient_agency_id": "uni",
            "dataset_ids": ["stats.protected-tables"],
            "purpose": "RESEARCH",
            "legal_basis": {"article6": "PUBLIC_TASK"},
            "access_method": "DOWNLOAD",
            "max_classification": "PROTECTED",
            "max_personal_data": "SPECIAL_CATEGORY",
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=100),
        },
    )
    cases = {
        "untrained": ("rui.uni", DEID),
        "expired agreement": ("dan.city", {**HOUSING, "purpose": "SERVICE_DELIVERY"}),
        "revoked agreement": ("ben.stats", {**HOUSING, "purpose": "STATISTICS", "access_method": "SECURE_ENCLAVE"}),
        "a field outside the approved set": ("uma.uni", {**DEID, "fields": ["record_id", "region"]}),
        "a wrong purpose": ("uma.uni", {**DEID, "purpose": "STATISTICS"}),
        "DOWNLOAD of PROTECTED data": (
            "uma.uni",
            {"dataset_id": "stats.protected-tables", "purpose": "RESEARCH", "access_method": "DOWNLOAD"},
        ),
    }
    said = {name: explain(demo, *case) for name, case in cases.items()}
    demo.agreements.suspend(grace, "agr.health-uni-research", "INC-0042: enclave audit")
    said["a suspended agreement"] = explain(demo, "uma.uni", DEID)
    asked = demo.sharing.request(
        demo.people.principal("uma.uni"),
        {
            "dataset_ids": ["city.service-requests"],
            "recipient_agency_id": "uni",
            "purpose": "STATISTICS",
            "legal_basis": {"article6": "PUBLIC_TASK"},
            "access_method": "SECURE_ENCLAVE",
            "valid_until": now + timedelta(days=90),
        },
    )
    assert asked.status.value == "PENDING_APPROVAL", asked.status_reason
    pending = {**DEID, "dataset_id": "city.service-requests", "purpose": "STATISTICS"}
    said["a pending request"] = explain(demo, "uma.uni", pending)

    expected = {
        "untrained": ("rui.uni has no data-ethics training on record", "complete data-ethics training"),
        "expired agreement": ("agreement agr.social-city-tenancy-support expired on ", "ask social to renew"),
        "revoked agreement": (
            "agreement agr.social-stats-housing-statistics was revoked: An identified copy was kept",
            "a revoked agreement is final",
        ),
        "a field outside the approved set": (
            "agreement agr.health-uni-research does not approve the field(s) record_id",
            "ask only for the fields agreement agr.health-uni-research approves: age_group, sex, region,",
        ),
        "a wrong purpose": (
            "agreement agr.health-uni-research covers RESEARCH only, not STATISTICS",
            "ask health for an agreement covering STATISTICS",
        ),
        "DOWNLOAD of PROTECTED data": (
            "PROTECTED data may be used only in SECURE_ENCLAVE, not by DOWNLOAD",
            "use SECURE_ENCLAVE: PROTECTED data may be used there only",
        ),
        "a suspended agreement": (
            "agreement agr.health-uni-research is suspended: INC-0042: enclave audit",
            "ask health to resume agreement agr.health-uni-research",
        ),
        "a pending request": (
            "no sharing agreement covers city.service-requests for uni",
            f"wait for your agency's share request {asked.id}: it is waiting for a steward of city.service-requests",
        ),
    }
    for name, decision in said.items():
        because, remedy = expected[name]
        assert decision.outcome == Outcome.DENY, name
        assert because in decision.reason, (name, decision.reason)
        assert any(remedy in r.text for r in decision.remedies), (name, [r.text for r in decision.remedies])
        assert no_code(decision.reason) and all(no_code(r.text) for r in decision.remedies), (name, decision.reason)


def policy_deny_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted((REPO / "policies" / "tests").glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        for case in document["cases"]:
            request = _merge(document.get("defaults") or {}, case.get("request") or {})
            action = request.get("env", {}).get("action", "access")
            # Read rules filter lists; nobody is ever shown their reason, so they carry no sentences.
            if case["expect"]["outcome"] == "DENY" and not action.startswith("read_"):
                cases.append((f"{path.name}: {case['name']}", request))
    return cases


def test_every_deny_path_of_the_policy_tests_reads_as_plain_words_with_a_remedy() -> None:
    engine = PolicyEngine(load_settings().policy_dir)
    cases = policy_deny_cases()
    assert len(cases) > 30
    faults = {}
    for name, request in cases:
        evaluation = engine.decide(attributes_from(request, name))
        if not no_code(evaluation.reason):
            faults[name] = f"code in the reason: {evaluation.reason}"
        elif not evaluation.remedies:
            faults[name] = f"no remedy: {evaluation.reason}"
    assert faults == {}


def test_a_remedy_that_changes_the_access_method_also_asks_for_the_agreement_to_allow_it() -> None:
    """Personal data asked for by API under an agreement for API: "use an enclave" alone would then be refused
    for a method the agreement does not allow, so the remedy names that too, and doing both permits."""
    engine = PolicyEngine(load_settings().policy_dir)
    document = yaml.safe_load((REPO / "policies" / "tests" / "access.yaml").read_text())
    asked = {
        "obj": {"classification": "OFFICIAL", "classification_rank": 1, "personal_data": "PERSONAL"},
        "env": {"access_method": "API", "agreement": {"access_method": "API", "max_personal_data_rank": 1}},
    }
    request = _merge(document["defaults"], asked)
    (remedy,) = engine.decide(attributes_from(request, "api")).remedies
    assert remedy.conditions == [
        "access-five-safes/outputs.checked_release",
        "access-five-safes/settings.agreed_method",
    ]
    assert "for agreement agr-1 to allow the access method you change to" in remedy.text, remedy.text
    done = _merge(
        request, {"env": {"access_method": "AGGREGATE_QUERY", "agreement": {"access_method": "AGGREGATE_QUERY"}}}
    )
    assert engine.decide(attributes_from(done, "both")).outcome == Outcome.PERMIT


@pytest.mark.parametrize(
    ("agreement", "asks", "never"),
    [
        (
            {"access_method": "API"},
            "ask health for agreement agr-1 to allow the access method you change to",
            "use API",
        ),
        ({"id": "", "status": "NONE", "active": False, "access_method": ""}, "to allow SECURE_ENCLAVE", "DOWNLOAD;"),
    ],
    ids=["agreement-for-api", "no-agreement"],
)
def test_a_remedy_never_asks_for_a_method_that_another_of_its_parts_rules_out(
    agreement: dict[str, Any], asks: str, never: str
) -> None:
    """PROTECTED data asked for by DOWNLOAD: the person must move to an enclave, so the agreement's part of the
    remedy asks for the agreement to follow, not "use API" (or "allow DOWNLOAD") beside "use SECURE_ENCLAVE"."""
    engine = PolicyEngine(load_settings().policy_dir)
    document = yaml.safe_load((REPO / "policies" / "tests" / "access.yaml").read_text())
    asked = {
        "obj": {"classification": "PROTECTED", "classification_rank": 3},
        "env": {"access_method": "DOWNLOAD", "agreement": {**agreement, "max_classification_rank": 3}},
    }
    (remedy,) = engine.decide(attributes_from(_merge(document["defaults"], asked), "download")).remedies
    assert "access-five-safes/settings.agreed_method" in remedy.conditions
    assert "use SECURE_ENCLAVE" in remedy.text, remedy.text
    assert asks in remedy.text, remedy.text
    assert never not in remedy.text, remedy.text


def test_a_permit_lists_no_failed_conditions_and_keeps_other_rules_in_its_evaluations(demo: Services) -> None:
    token = issue_token(demo.reads.person(SYSTEM, "uma.uni"), demo.ctx.settings.auth)
    query = """mutation($i: AccessInput!) { checkAccess(input: $i) { outcome failedConditions remedies { text }
               evaluations { ruleId conditions { passed } } } }"""
    variables = {"i": {"datasetId": DEID["dataset_id"], "purpose": "RESEARCH", "accessMethod": "SECURE_ENCLAVE"}}
    with TestClient(create_app(demo)) as client:
        body = client.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
        ).json()

    permitted = body["data"]["checkAccess"]
    assert (permitted["outcome"], permitted["failedConditions"], permitted["remedies"]) == ("PERMIT", [], [])
    assert any(not c["passed"] for e in permitted["evaluations"] for c in e["conditions"])
