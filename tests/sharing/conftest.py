"""The demo landscape on each backend, a clock the tests move by hand, and a few people to act as.

Besides the demo, health registers `health.ed-presentations`: OFFICIAL (so partner staff can find it) but
special-category and pseudonymised, so a share of it needs four eyes: its steward hamid.health and a second
approver of health, grace.health.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.query import TRUE
from catalog.store.schema import Label

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ED = "health.ed-presentations"
SERVICE_REQUESTS = "city.service-requests"


class Clock:
    """The services' clock: stands still until a test moves it, so expiry is exact."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def services(store: GraphStore, clock: Clock) -> Iterator[Services]:
    built = Services(store, load_settings(), clock=clock)
    load_demo(built)
    alice = person(built, "alice.health")
    built.registration.register_dataset(
        alice,
        {
            "id": ED,
            "title": "Emergency Department Presentations",
            "owner_agency_id": "health",
            "classification": "OFFICIAL",
            "personal_data": "SPECIAL_CATEGORY",
            "identifiability": "PSEUDONYMISED",
            "legal_basis": {"article6": "PUBLIC_TASK", "statute": "Health Act s. 30", "covers_identified": True},
            "permitted_purposes": ["RESEARCH", "STATISTICS"],
            "fields": [{"name": "person_key", "pii": "QUASI_IDENTIFIER"}, {"name": "triage"}, {"name": "region"}],
        },
    )
    built.registration.assign_steward(alice, ED, "hamid.health")
    yield built


def person(services: Services, person_id: str) -> Principal:
    found = services.reads.person(SYSTEM, person_id)
    return Principal(found.id, found.agency_id, frozenset(found.roles))


def ed_ask(valid_until: datetime) -> dict[str, Any]:
    """uma.uni's ask of the ED data as the services take it: two fields, for research in the enclave."""
    return {
        "dataset_ids": [ED],
        "recipient_agency_id": "uni",
        "purpose": "RESEARCH",
        "legal_basis": {"article6": "PUBLIC_TASK", "statute": "Research Act s. 5", "covers_identified": True},
        "access_method": "SECURE_ENCLAVE",
        "fields": ["triage", "region"],
        "valid_until": valid_until,
    }


def ed_request(clock: Clock, **changes: Any) -> dict[str, Any]:
    """uma.uni asks for two fields of the ED data, for research in the enclave, for 90 days."""
    return {**ed_ask(clock() + 90 * DAY), "justification": "Emergency demand by region, 2020-2025", **changes}


def count(store: GraphStore, label: Label) -> int:
    page = store.read(lambda tx: tx.find_nodes(label, TRUE, first=0, with_total=True))
    assert page.total is not None
    return page.total
