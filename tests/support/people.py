"""People for a small landscape: each registered with their roles and a current data-ethics training."""

from __future__ import annotations

from datetime import timedelta

from catalog.domain import utcnow
from catalog.principal import SYSTEM
from catalog.services import Services

# person id: (their agency, their roles)
Roster = dict[str, tuple[str, list[str]]]


def register_trained(services: Services, people: Roster) -> None:
    """Register each person, named after their id, with a training completed 10 days ago that runs 300 more."""
    now = utcnow()
    for person_id, (agency, roles) in people.items():
        services.registration.register_person(
            SYSTEM, {"id": person_id, "name": person_id.title(), "agency_id": agency, "roles": roles}
        )
        training = {"completed_at": now - timedelta(days=10), "expires_at": now + timedelta(days=300)}
        services.registration.record_training(SYSTEM, person_id, training)
