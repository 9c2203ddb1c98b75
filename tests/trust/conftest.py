"""A small landscape on each backend, served in-process over HTTP, to try the catalog's promises as an attacker would.

Agencies health, social and stats. health holds `admissions` (PROTECTED, hidden from other agencies), `clinics`
(PUBLIC) and `waiting` (OFFICIAL, derived from admissions). social holds `cases` (OFFICIAL_SENSITIVE). People:
the platform admin and an auditor (stats), health's data owner, steward and approver, social's data owner,
steward and analyst.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.config import load_settings
from catalog.domain import Dataset, Person
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.query import TRUE
from catalog.store.schema import Label
from tests.support.people import Roster, register_trained

PEOPLE: Roster = {
    "admin": ("stats", ["PLATFORM_ADMIN"]),
    "auditor": ("stats", ["AUDITOR"]),
    "owner.health": ("health", ["DATA_OWNER"]),
    "steward.health": ("health", ["STEWARD"]),
    "approver.health": ("health", ["APPROVER"]),
    "owner.social": ("social", ["DATA_OWNER"]),
    "steward.social": ("social", ["STEWARD"]),
    "analyst.social": ("social", ["ANALYST"]),
}
HIDDEN, MISSING = "admissions", "no-such-dataset"
FIELDS = [{"name": "region"}, {"name": "age"}, {"name": "person_id", "pii": "DIRECT_IDENTIFIER"}]


def register_dataset(services: Services, id: str, *, owner: str, **extra: Any) -> Dataset:
    """Register dataset `id`, held by `owner`, as the system: titled after its id unless `extra` gives a title."""
    return services.registration.register_dataset(
        SYSTEM, {"id": id, "title": id.title(), "owner_agency_id": owner, **extra}
    )


def build(services: Services) -> None:
    reg = services.registration
    for agency in ("health", "social", "stats"):
        reg.register_agency(SYSTEM, {"id": agency, "name": agency.title()})
    register_trained(services, PEOPLE)
    legal = {"article6": "PUBLIC_TASK", "statute": "Health Act s. 4"}
    for id, classification, owner in (
        (HIDDEN, "PROTECTED", "health"),
        ("clinics", "PUBLIC", "health"),
        ("waiting", "OFFICIAL", "health"),
        ("cases", "OFFICIAL_SENSITIVE", "social"),
    ):
        register_dataset(
            services,
            id,
            owner=owner,
            classification=classification,
            fields=FIELDS,
            permitted_purposes=["RESEARCH", "STATISTICS"],
            legal_basis=legal,
        )
    reg.assign_steward(SYSTEM, HIDDEN, "steward.health")
    reg.assign_steward(SYSTEM, "waiting", "steward.health")
    reg.assign_steward(SYSTEM, "cases", "steward.social")
    services.lineage.record(
        SYSTEM,
        {"id": "p-wait", "name": "waiting times", "kind": "TRANSFORM", "inputs": [HIDDEN], "outputs": ["waiting"]},
    )


@dataclass
class Trust:
    """The landscape's services and an HTTP client to its app, with helpers to act as its people."""

    services: Services
    client: TestClient

    def principal(self, person_id: str) -> Principal:
        return Principal.acting_as(self.services.reads.person(SYSTEM, person_id))

    def token(self, person_id: str) -> str:
        return issue_token(Person(id=person_id, name=person_id, agency_id="x"), self.services.ctx.settings.auth)

    def gql(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(as_)}"} if as_ else {}
        response = self.client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        body: dict[str, Any] = response.json()
        body["_status"] = response.status_code
        return body

    def count(self, label: Label) -> int:
        page = self.services.store.read(lambda tx: tx.find_nodes(label, TRUE, first=0, with_total=True))
        assert page.total is not None
        return page.total


@pytest.fixture
def trust(store: GraphStore) -> Iterator[Trust]:
    services = Services(store, load_settings(policy_reload_interval_s=0))
    build(services)
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        yield Trust(services, client)


def run_event(job: tuple[str, str], read: tuple[str, str], written: tuple[str, str]) -> dict[str, Any]:
    """A completed OpenLineage run of `job` reading one dataset and writing one, each named (namespace, name); its
    producer is https://example.gov/<the job's name>."""
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-03-01T10:00:00Z",
        "producer": f"https://example.gov/{job[1]}",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"},
        "job": {"namespace": job[0], "name": job[1]},
        "inputs": [{"namespace": read[0], "name": read[1], "facets": {}}],
        "outputs": [{"namespace": written[0], "name": written[1], "facets": {}}],
    }


def code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


Gql = Callable[..., dict[str, Any]]
