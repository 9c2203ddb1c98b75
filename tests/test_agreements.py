"""Importing sharing agreements, on both backends: validation, authorization and all-or-nothing writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from catalog.audit.append import event_id
from catalog.config import load_settings
from catalog.domain import AgreementStatus, Role
from catalog.errors import Forbidden, InvalidInput, NotFound
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.query import TRUE
from catalog.store.schema import Label, Rel

OWNER = Principal(id="alice", agency_id="health", roles=frozenset({Role.DATA_OWNER}))


@pytest.fixture
def services(store: GraphStore) -> Services:
    services = Services(store, load_settings())
    services.registration.register_agency(SYSTEM, {"id": "health", "name": "Department of Health"})
    services.registration.register_agency(SYSTEM, {"id": "uni", "name": "University", "kind": "RESEARCH_PARTNER"})
    services.registration.register_dataset(SYSTEM, {"id": "deid", "title": "Extract", "owner_agency_id": "health"})
    return services


def payload(services: Services, **changes: Any) -> dict[str, Any]:
    now = services.ctx.clock()
    return {
        "provider_agency_id": "health",
        "recipient_agency_id": "uni",
        "dataset_ids": ["deid"],
        "purpose": "RESEARCH",
        "legal_basis": {"article6": "PUBLIC_TASK", "statute": "Health Records Act s. 28"},
        "access_method": "SECURE_ENCLAVE",
        "valid_from": now,
        "valid_until": now + timedelta(days=365),
        **changes,
    }


def count(services: Services, label: Label) -> int:
    page = services.store.read(lambda tx: tx.find_nodes(label, TRUE, first=1, with_total=True))
    assert page.total is not None
    return page.total


def test_register_stores_the_agreement_with_its_edges_and_an_audit_event(services: Services) -> None:
    agreement = services.agreements.register(SYSTEM, payload(services))

    assert agreement.id.startswith("agr-")
    assert services.agreements.get(SYSTEM, agreement.id) == agreement
    assert agreement.status is AgreementStatus.ACTIVE
    rels = (Rel.PROVIDER, Rel.RECIPIENT, Rel.COVERS)
    edges = services.store.read(lambda tx: [tx.neighbors(rel, [agreement.id], "out")[agreement.id] for rel in rels])
    assert edges == [["health"], ["uni"], ["deid"]]
    last = event_id(count(services, Label.AUDIT_EVENT))
    event = services.store.read(lambda tx: tx.get_node(Label.AUDIT_EVENT, last))
    assert event is not None
    assert event["action"] == "register_agreement"
    assert agreement.id in event["target_ids"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dataset_ids": ["deid", "no-such-dataset"]}, "dataset_ids.1"),
        ({"recipient_agency_id": "nowhere"}, "recipient_agency_id"),
        ({"purpose": "MARKETING"}, "purpose"),
        ({"max_classification": "TOP_SECRET"}, "max_classification"),
        ({"dataset_ids": []}, "dataset_ids"),
        ({"access_method": "EMAIL"}, "access_method"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(services: Services, changes: dict[str, Any], field: str) -> None:
    events = count(services, Label.AUDIT_EVENT)

    with pytest.raises(InvalidInput) as raised:
        services.agreements.register(SYSTEM, payload(services, id="agr-bad", **changes))

    assert raised.value.field == field
    assert count(services, Label.AGREEMENT) == 0
    assert count(services, Label.AUDIT_EVENT) == events
    with pytest.raises(NotFound):
        services.agreements.get(SYSTEM, "agr-bad")


def test_only_a_platform_admin_may_import_agreements(services: Services) -> None:
    with pytest.raises(Forbidden):
        services.agreements.register(OWNER, payload(services))

    assert count(services, Label.AGREEMENT) == 0


def test_get_unknown_agreement_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound):
        services.agreements.get(SYSTEM, "agr-missing")


def test_an_agreement_is_read_only_by_its_parties_and_oversight(services: Services) -> None:
    services.registration.register_agency(SYSTEM, {"id": "city", "name": "City Council"})
    agreement = services.agreements.register(SYSTEM, payload(services))
    health = Principal(id="hana", agency_id="health", roles=frozenset({Role.ANALYST}))
    uni = Principal(id="uma", agency_id="uni", roles=frozenset({Role.ANALYST}))
    city = Principal(id="carla", agency_id="city", roles=frozenset({Role.DATA_OWNER}))
    auditor = Principal(id="olu", agency_id="city", roles=frozenset({Role.AUDITOR}))

    assert services.agreements.get(health, agreement.id).id == agreement.id
    assert services.agreements.get(uni, agreement.id).id == agreement.id
    assert services.agreements.get(auditor, agreement.id).id == agreement.id
    with pytest.raises(NotFound):
        services.agreements.get(city, agreement.id)


def test_an_imported_agreement_past_its_end_reads_as_expired(services: Services) -> None:
    now = services.ctx.clock()
    agreement = services.agreements.register(
        SYSTEM, payload(services, valid_from=now - timedelta(days=30), valid_until=now - timedelta(days=1))
    )

    assert agreement.status is AgreementStatus.ACTIVE  # as the importer wrote it...
    assert services.agreements.get(SYSTEM, agreement.id).status is AgreementStatus.EXPIRED  # ...as it is today
