"""An in-process app on a real SQLite store, with a small landscape and tokens for its people."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.config import Settings, load_settings
from catalog.domain import utcnow
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.sqlite import SqliteStore
from tests.support import app

# The app in process, and tokens for its people: fixtures offered to this folder, on its `services`.
client, token = app.client, app.token

PEOPLE = {
    "admin": {"agency_id": "stats", "roles": ["PLATFORM_ADMIN"]},
    "auditor": {"agency_id": "stats", "roles": ["AUDITOR"]},
    "owner.health": {"agency_id": "health", "roles": ["DATA_OWNER"]},
    "steward.health": {"agency_id": "health", "roles": ["STEWARD"]},
    "analyst.social": {"agency_id": "social", "roles": ["ANALYST"]},
}


def build_landscape(services: Services) -> None:
    reg = services.registration
    for agency, name in (("health", "Department of Health"), ("social", "Social Services"), ("stats", "Statistics")):
        reg.register_agency(SYSTEM, {"id": agency, "name": name})
    for pid, attrs in PEOPLE.items():
        reg.register_person(SYSTEM, {"id": pid, "name": pid.replace(".", " ").title(), **attrs})
    now = utcnow()
    reg.record_training(
        SYSTEM, "analyst.social", {"completed_at": now - timedelta(days=10), "expires_at": now + timedelta(days=300)}
    )
    datasets = [
        ("admissions", "Hospital admissions", "PROTECTED", "health", ["hospital", "health"]),
        ("clinics", "Clinic locations", "PUBLIC", "health", ["health", "geo"]),
        ("waiting", "Waiting times", "OFFICIAL", "health", ["hospital"]),
        ("cases", "Housing cases", "OFFICIAL_SENSITIVE", "social", ["housing"]),
        ("population", "Population estimates", "PUBLIC", "stats", ["census"]),
    ]
    for id, title, classification, owner, tags in datasets:
        reg.register_dataset(
            SYSTEM,
            {
                "id": id,
                "title": title,
                "classification": classification,
                "owner_agency_id": owner,
                "tags": tags,
                "fields": [{"name": "region"}, {"name": "person_id", "pii": "DIRECT_IDENTIFIER"}],
            },
        )
    reg.assign_steward(SYSTEM, "admissions", "steward.health")
    reg.assign_steward(SYSTEM, "clinics", "steward.health")
    services.lineage.record(
        SYSTEM,
        {
            "id": "p-agg",
            "name": "aggregate admissions",
            "kind": "AGGREGATE",
            "inputs": ["admissions"],
            "outputs": ["waiting"],
        },
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(store=f"sqlite:///{tmp_path / 'catalog.db'}")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    store = SqliteStore(settings.store.removeprefix("sqlite:///"))
    store.init_schema()
    built = Services(store, settings)
    build_landscape(built)
    yield built
    store.close()


@pytest.fixture
def gql(client: TestClient, token: Callable[[str], str]) -> Callable[..., dict[str, Any]]:
    """POST a GraphQL operation as a person (None = anonymous); returns the JSON body."""

    def run(query: str, variables: dict[str, Any] | None = None, *, as_: str | None = "admin") -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token(as_)}"} if as_ else {}
        response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        body: dict[str, Any] = response.json()
        return body

    return run


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]
