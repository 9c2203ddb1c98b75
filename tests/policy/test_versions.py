"""The policy as it was, on both backends: every version a decision was made under is kept in the store the first
time it is used, so its rules can be read, and compared, long after the files have changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from starlette.testclient import TestClient
from typer.testing import CliRunner

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.cli import cli
from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.query import TRUE
from catalog.store.schema import Label
from tests.conftest import REPO

OLD = "A partner agency's trained analyst may use a dataset for an agreed purpose when all Five Safes hold."
NEW = "A trained analyst of a partner agency may use a dataset for an agreed purpose under all Five Safes."
DEID = {"dataset_id": "health.admissions-deid", "purpose": "RESEARCH", "access_method": "SECURE_ENCLAVE"}


def test_a_decision_names_its_policy_and_that_policy_is_kept_as_it_was(store: GraphStore, tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(REPO / "policies", folder)
    settings = load_settings(policy_dir=folder, policy_reload_interval_s=0)
    first = Services(store, settings)
    load_demo(first)
    decided = first.access.check(first.people.principal("uma.uni"), DEID)
    old_version = decided.policy_version
    kept = store.read(lambda tx: tx.find_nodes(Label.POLICY_VERSION, TRUE, first=10)).items
    rules = folder / "rules" / "20-access.yaml"
    rules.write_text(rules.read_text().replace(OLD, NEW))

    # A server started after the edit never served the old version: it reads it back from the store.
    later = Services(store, settings)
    token = issue_token(later.reads.person(SYSTEM, "auditor"), settings.auth)
    query = """query($v: ID) { policy(version: $v) { version rules { id description } } }"""
    with TestClient(create_app(later)) as client:

        def policy(version: str | None) -> dict[str, str]:
            body = client.post(
                "/graphql",
                json={"query": query, "variables": {"v": version}},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            rules = body["data"]["policy"]
            return {"version": rules["version"], **{r["id"]: r["description"] for r in rules["rules"]}}

        then, now = policy(old_version), policy(None)
        missing = client.post("/graphql", json={"query": query, "variables": {"v": "0123456789abcdef"}}).json()
        page = client.get(f"/policy/{old_version}")

    assert [id for id, _ in kept] == [old_version]
    assert then["version"] == old_version and then["access-five-safes"] == OLD
    assert now["version"] != old_version and now["access-five-safes"] == NEW
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert page.status_code == 200 and "use a dataset for an agreed purpose when all Five Safes" in page.text

    uri = getattr(store, "uri", None) or f"sqlite:///{getattr(store, 'path', '')}"
    diff = CliRunner().invoke(
        cli, ["policy", "diff", old_version, "current"], env={"CATALOG_STORE": uri, "CATALOG_POLICY_DIR": str(folder)}
    )

    assert diff.exit_code == 0, (diff.output, diff.exception)
    lines = diff.output.splitlines()
    assert lines[0] == f"policy {old_version} -> {now['version']}: 1 change(s)"
    assert lines[1] == f"~ rule access-five-safes: description: {OLD} -> {NEW}"
