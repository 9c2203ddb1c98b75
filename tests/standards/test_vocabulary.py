"""policies/vocabulary.yaml: every configured purpose, classification and legal basis as a DPV term, checked at
start-up, and readable by anyone through GraphQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.policy.rules import PolicyError
from catalog.policy.vocabulary import load_vocabulary
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.base import GraphStore
from tests.conftest import REPO

QUERY = "{ vocabulary { purposes { id label iri } classifications { id iri } legalBases { id label iri } } }"
GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    return tmp_path / "policies"


def edit(policy_dir: Path, old: str, new: str) -> str:
    path = policy_dir / "vocabulary.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return str(path)


def test_the_served_vocabulary_names_dpv_terms_for_anyone(store: GraphStore) -> None:
    services = Services(store, load_settings())
    load_demo(services)
    token = issue_token(services.reads.person(SYSTEM, "uma.uni"), services.ctx.settings.auth)
    with TestClient(create_app(services)) as client:
        anonymous = client.post("/graphql", json={"query": QUERY}).json()
        signed_in = client.post("/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"})
    assert signed_in.json() == anonymous
    vocabulary = anonymous["data"]["vocabulary"]
    assert [p["id"] for p in vocabulary["purposes"]] == load_settings().purposes
    research = next(p for p in vocabulary["purposes"] if p["id"] == "RESEARCH")
    assert research["iri"] == "https://w3id.org/dpv#ScientificResearch"
    assert [c["id"] for c in vocabulary["classifications"]] == load_settings().classifications
    bases = {b["id"]: b["iri"] for b in vocabulary["legalBases"]}
    assert bases["PUBLIC_TASK"] == GDPR + "A6-1-e" and bases["CONSENT"] == GDPR + "A6-1-a" and len(bases) == 6


def test_a_configured_purpose_without_a_term_stops_the_start(store: GraphStore, policy_dir: Path) -> None:
    settings = load_settings(policy_dir=policy_dir, purposes=["RESEARCH", "AUDIT"])
    with pytest.raises(PolicyError, match=r"vocabulary\.yaml: purposes\.AUDIT: configured but not mapped"):
        Services(store, settings)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "iri: https://w3id.org/dpv#ScientificResearch",
            "iri: https://w3id.org/dpv#Scientific Research",
            r"purposes\.RESEARCH\.iri: expected an absolute http\(s\) IRI",
        ),
        ("iri: https://w3id.org/dpv#ProvideOfficialStatistics", "iri: dpv:Stats", r"purposes\.STATISTICS\.iri"),
        (
            f"iri: {GDPR}A6-1-e",
            "iri: https://example.org/public-task",
            r"legal_bases\.PUBLIC_TASK\.iri: expected a DPV term",
        ),
        ("  CONTRACT:\n", "  CONTRACTS:\n", r"legal_bases\.CONTRACT: configured but not mapped"),
        ("    label: Official\n", "    label: ''\n", r"classifications\.OFFICIAL\.label: expected a non-empty text"),
    ],
)
def test_a_malformed_entry_is_named_with_its_file(policy_dir: Path, old: str, new: str, problem: str) -> None:
    source = edit(policy_dir, old, new)
    settings = load_settings()
    with pytest.raises(PolicyError, match=problem) as raised:
        load_vocabulary(policy_dir, settings.purposes, settings.classifications)
    assert str(raised.value).startswith(source)


def test_a_missing_vocabulary_file_is_named(policy_dir: Path) -> None:
    (policy_dir / "vocabulary.yaml").unlink()
    with pytest.raises(PolicyError, match=r"vocabulary\.yaml: missing"):
        load_vocabulary(policy_dir, ["RESEARCH"], ["PUBLIC"])


def test_policy_check_names_an_unmapped_purpose() -> None:
    from tests.policy.test_policy_cli import catalog

    checked = catalog("policy", "check", env={"CATALOG_PURPOSES": '["RESEARCH","AUDIT"]'})
    assert checked.returncode != 0
    assert "vocabulary.yaml: purposes.AUDIT: configured but not mapped" in checked.stderr
