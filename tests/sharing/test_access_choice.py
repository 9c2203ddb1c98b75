"""Which agreement checkAccess consults, on both backends: the recipient's ACTIVE one that covers the request."""

from __future__ import annotations

from typing import Any

from catalog.domain import DenyKind, Outcome
from catalog.principal import SYSTEM
from catalog.services import Services
from tests.sharing.conftest import DAY, ED, Clock, person


def import_agreement(services: Services, clock: Clock, id: str, **changes: Any) -> None:
    services.agreements.register(
        SYSTEM,
        {
            "id": id,
            "provider_agency_id": "health",
            "recipient_agency_id": "uni",
            "dataset_ids": [ED],
            "approved_fields": ["triage"],
            "purpose": "RESEARCH",
            "legal_basis": {"article6": "PUBLIC_TASK", "covers_identified": True},
            "access_method": "SECURE_ENCLAVE",
            "max_classification": "OFFICIAL",
            "max_personal_data": "SPECIAL_CATEGORY",
            "allows_identified": True,
            "valid_from": clock() - DAY,
            "valid_until": clock() + 300 * DAY,
            **changes,
        },
    )


def check(services: Services, **request: Any) -> Any:
    payload = {"dataset_id": ED, "purpose": "RESEARCH", "access_method": "SECURE_ENCLAVE", **request}
    return services.access.check(person(services, "uma.uni"), payload)


def test_the_agreement_that_covers_the_fields_asked_for_is_the_one_used(services: Services, clock: Clock) -> None:
    import_agreement(services, clock, "agr.triage")
    import_agreement(services, clock, "agr.region", approved_fields=["region"], valid_until=clock() + 30 * DAY)

    by_region = check(services, fields=["region"])
    by_triage = check(services, fields=["triage"])

    assert (by_region.outcome, by_region.agreement_id) == (Outcome.PERMIT, "agr.region")
    assert (by_triage.outcome, by_triage.agreement_id) == (Outcome.PERMIT, "agr.triage")


def test_the_agreement_for_the_access_method_asked_for_is_the_one_used(services: Services, clock: Clock) -> None:
    import_agreement(services, clock, "agr.enclave", valid_until=clock() + 30 * DAY)
    import_agreement(services, clock, "agr.aggregate", access_method="AGGREGATE_QUERY")

    assert check(services, fields=["triage"]).agreement_id == "agr.enclave"
    assert check(services, fields=["triage"], access_method="AGGREGATE_QUERY").agreement_id == "agr.aggregate"


def test_an_active_agreement_wins_over_a_revoked_one_and_without_it_the_revocation_is_the_reason(
    services: Services, clock: Clock
) -> None:
    import_agreement(services, clock, "agr.revoked", status="REVOKED", valid_until=clock() + 900 * DAY)
    import_agreement(services, clock, "agr.active", valid_until=clock() + 10 * DAY)

    assert check(services, fields=["triage"]).agreement_id == "agr.active"
    clock.advance(11 * DAY)
    refused = check(services, fields=["triage"])
    assert (refused.outcome, refused.deny_kind) == (Outcome.DENY, DenyKind.EXPLICIT)
    assert refused.agreement_id == "agr.revoked"
