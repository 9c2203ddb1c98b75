"""Policy decisions over real HTTP on both backends: checkAccess records, an auditor reads the reasons back."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from catalog.client import CatalogClient
from tests.conftest import REPO

if TYPE_CHECKING:
    from tests.e2e.conftest import CatalogServer, StartServer

CHECK = """mutation($i: AccessInput!) { checkAccess(input: $i) { id outcome denyKind determiningRules reason
           safes { safe status evidence } policyVersion } }"""
DEID = {"datasetId": "health.admissions-deid", "purpose": "RESEARCH", "accessMethod": "SECURE_ENCLAVE"}


def token(server: CatalogServer, person: str) -> str:
    issued = server.run_cli("token", "issue", "--person", person)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def check(server: CatalogServer, person: str, request: dict[str, Any], issued: str | None = None) -> dict[str, Any]:
    with CatalogClient(server.url, token=issued or token(server, person)) as client:
        decision: dict[str, Any] = client.execute(CHECK, {"i": request})["checkAccess"]
        return decision


def safes(decision: dict[str, Any]) -> dict[str, str]:
    return {s["safe"].removeprefix("safe "): s["status"] for s in decision["safes"]}


def test_permit_and_every_kind_of_deny_read_back_by_an_auditor(start_server: StartServer) -> None:
    served = start_server(demo=True)
    access_decisions = '{ decisions(filter: {action: "access"}) { totalCount } }'
    with CatalogClient(served.url, token=token(served, "auditor")) as auditor:
        told = auditor.execute(access_decisions)["decisions"]["totalCount"]  # the demo's own story
    cases = {
        "permit": check(served, "uma.uni", DEID),
        "project": check(served, "uma.uni", {**DEID, "purpose": "STATISTICS"}),
        "people": check(served, "rui.uni", DEID),
        "settings": check(served, "uma.uni", {**DEID, "accessMethod": "DOWNLOAD"}),
        "data": check(served, "uma.uni", {**DEID, "fields": ["record_id", "region"]}),
        "outputs": check(served, "uma.uni", {**DEID, "accessMethod": "API"}),
        "explicit": check(
            served,
            "ben.stats",
            {"datasetId": "social.housing-cases", "purpose": "STATISTICS", "accessMethod": "SECURE_ENCLAVE"},
        ),
        "implicit": check(
            served,
            "dan.city",
            {"datasetId": "social.housing-cases", "purpose": "SERVICE_DELIVERY", "accessMethod": "SECURE_ENCLAVE"},
        ),
    }

    assert cases["permit"]["outcome"] == "PERMIT"
    assert cases["permit"]["determiningRules"] == ["access-five-safes"]
    for safe in ("project", "people", "settings", "data", "outputs"):
        assert (cases[safe]["outcome"], cases[safe]["denyKind"]) == ("DENY", "IMPLICIT"), safe
        assert safes(cases[safe])[safe] == "FAIL", (safe, cases[safe]["reason"])
    assert (cases["explicit"]["denyKind"], cases["explicit"]["determiningRules"]) == (
        "EXPLICIT",
        ["deny-revoked-agreement"],
    )
    assert "expired on" in cases["implicit"]["reason"]

    with CatalogClient(served.url, token=token(served, "auditor")) as auditor:
        listed = auditor.execute("""{ decisions(first: 100, filter: {action: "access"}) { totalCount edges { node {
                                     id outcome denyKind reason
                                     determiningRules failedConditions requester { id } policyVersion
                                     safes { safe status evidence } } } } }""")["decisions"]
        one = auditor.execute(
            "query($id: ID!) { decision(id: $id) { reason attributes engineVersion } }", {"id": cases["people"]["id"]}
        )["decision"]
        denied = auditor.execute(
            '{ decisions(filter: {outcome: DENY, ruleId: "deny-revoked-agreement"}) { totalCount } }'
        )["decisions"]

    recorded = {edge["node"]["id"]: edge["node"] for edge in listed["edges"]}
    assert listed["totalCount"] == told + len(cases)  # each check recorded once, nothing else
    for name, decision in cases.items():
        stored = recorded[decision["id"]]
        assert stored["reason"] == decision["reason"] and stored["reason"].strip(), name
        assert stored["policyVersion"] == decision["policyVersion"]
    assert "access-five-safes/people.training_current" in recorded[cases["people"]["id"]]["failedConditions"]
    assert '"training_current": false' in one["attributes"]
    assert one["engineVersion"].startswith("catalog-")
    assert denied["totalCount"] >= 1


def test_a_policy_edit_changes_decisions_without_a_restart(start_server: StartServer, tmp_path: Path) -> None:
    policy_dir = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policy_dir)
    served = start_server({"CATALOG_POLICY_DIR": str(policy_dir), "CATALOG_POLICY_RELOAD_INTERVAL_S": "0.2"}, demo=True)
    before = check(served, "uma.uni", DEID)

    (policy_dir / "rules" / "40-moratorium.yaml").write_text(
        "rules:\n"
        "  - id: deny-research-moratorium\n"
        "    effect: deny\n"
        "    actions: [access]\n"
        "    description: Research use of hospital extracts is paused while the ethics committee reviews it.\n"
        "    conditions:\n"
        "      project.research_paused: r.env.purpose == 'RESEARCH' and r.obj.owner == 'health'\n"
    )
    after = _wait_for_new_version(served, "uma.uni", DEID, before["policyVersion"])

    assert before["outcome"] == "PERMIT"
    assert (after["outcome"], after["determiningRules"]) == ("DENY", ["deny-research-moratorium"])
    assert after["policyVersion"] != before["policyVersion"]


def test_sighup_reloads_and_a_broken_edit_keeps_the_old_policy(start_server: StartServer, tmp_path: Path) -> None:
    policy_dir = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policy_dir)
    served = start_server({"CATALOG_POLICY_DIR": str(policy_dir), "CATALOG_POLICY_RELOAD_INTERVAL_S": "0"}, demo=True)
    uma = token(served, "uma.uni")  # issued now: the CLI itself refuses to start on a broken policy
    before = check(served, "uma.uni", DEID, uma)

    (policy_dir / "rules" / "40-broken.yaml").write_text("rules:\n  - id: broken\n    effect: maybe\n")
    os.kill(served.process.pid, signal.SIGHUP)
    time.sleep(1.0)
    still = check(served, "uma.uni", DEID, uma)

    assert still["policyVersion"] == before["policyVersion"] and still["outcome"] == "PERMIT"
    assert "policy reload refused" in served.log_tail()
    (policy_dir / "rules" / "40-broken.yaml").unlink()
    (policy_dir / "rules" / "40-extra.yaml").write_text(
        "rules:\n  - id: extra\n    effect: allow\n    actions: [administer]\n    description: Harmless.\n"
        "    conditions:\n      never: r.sub.id == 'nobody'\n"
    )
    os.kill(served.process.pid, signal.SIGHUP)
    assert _wait_for_new_version(served, "uma.uni", DEID, before["policyVersion"], uma)["outcome"] == "PERMIT"


def _wait_for_new_version(
    served: CatalogServer, person: str, request: dict[str, Any], old: str, issued: str | None = None
) -> dict[str, Any]:
    issued = issued or token(served, person)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        decision = check(served, person, request, issued)
        if decision["policyVersion"] != old:
            return decision
        time.sleep(0.3)
    pytest.fail(f"policy version stayed {old} for 20 s; server log:\n{served.log_tail()}")
