"""Registering sharing agreements: validation, authorization and all-or-nothing writes, on a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog.config import load_settings
from catalog.domain import AgreementStatus, Role
from catalog.errors import Forbidden, InvalidInput, NotFound
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.services.audit import event_id
from catalog.store.query import TRUE
from catalog.store.schema import Label, Rel
from catalog.store.sqlite import SqliteStore

OWNER = Principal(id="alice", agency_id="health", roles=frozenset({Role.DATA_OWNER}))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    store = SqliteStore(tmp_path / "catalog.db")
    store.init_schema()
    services = Services(store, load_settings())
    services.registration.register_agency(SYSTEM, {"id": "health", "name": "Department of Health"})
    services.registration.register_agency(SYSTEM, {"id": "uni", "name": "University", "kind": "RESEARCH_PARTNER"})
    services.registration.register_dataset(SYSTEM, {"id": "deid", "title": "Extract", "owner_agency_id": "health"})
    yield services
    store.close()


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
    assert services.agreements.get(agreement.id) == agreement
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
        services.agreements.get("agr-bad")


def test_only_a_platform_admin_may_import_agreements(services: Services) -> None:
    with pytest.raises(Forbidden):
        services.agreements.register(OWNER, payload(services))

    assert count(services, Label.AGREEMENT) == 0


def test_get_unknown_agreement_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound):
        services.agreements.get("agr-missing")
