"""The demo landscape, loaded into a real SQLite store: what a user trying the catalog first will meet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.domain import AgreementStatus, Identifiability, PersonalData, Process, Role, SharingAgreement
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.query import TRUE
from catalog.store.records import from_props
from catalog.store.schema import Label, Rel
from catalog.store.sqlite import SqliteStore


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    store = SqliteStore(tmp_path / "catalog.db")
    store.init_schema()
    yield Services(store, load_settings())
    store.close()


@pytest.fixture
def loaded(services: Services) -> tuple[Services, str]:
    return services, load_demo(services)


def count(services: Services, label: Label) -> int:
    page = services.store.read(lambda tx: tx.find_nodes(label, TRUE, first=1, with_total=True))
    assert page.total is not None
    return page.total


def test_summary_matches_what_the_store_holds(loaded: tuple[Services, str]) -> None:
    services, summary = loaded

    assert summary == "5 agencies, 14 people, 9 datasets, 4 processes, 3 agreements"
    counts = {label: count(services, label) for label in (Label.AGENCY, Label.PERSON, Label.DATASET)}
    assert counts == {Label.AGENCY: 5, Label.PERSON: 14, Label.DATASET: 9}
    assert count(services, Label.PROCESS) == 4
    assert count(services, Label.AGREEMENT) == 3


def test_admin_is_a_platform_admin(loaded: tuple[Services, str]) -> None:
    services, _ = loaded

    admin = services.reads.person(SYSTEM, "admin")

    assert Role.PLATFORM_ADMIN in admin.roles
    assert services.reads.person(SYSTEM, "auditor").roles == [Role.AUDITOR]


def test_agreements_cover_active_expired_and_revoked(loaded: tuple[Services, str]) -> None:
    services, _ = loaded
    now = services.ctx.clock()

    page = services.store.read(lambda tx: tx.find_nodes(Label.AGREEMENT, TRUE, first=10))
    agreements = {a.status: a for a in (from_props(SharingAgreement, p) for _, p in page.items)}

    assert set(agreements) == {AgreementStatus.ACTIVE, AgreementStatus.EXPIRED, AgreementStatus.REVOKED}
    active = agreements[AgreementStatus.ACTIVE]
    assert active.valid_from <= now < active.valid_until
    assert agreements[AgreementStatus.EXPIRED].valid_until < now
    assert agreements[AgreementStatus.REVOKED].status_reason
    covered = services.store.read(lambda tx: tx.neighbors(Rel.COVERS, [active.id], "out"))
    assert covered == {active.id: ["health.admissions-deid"]}


def test_analysts_with_current_expired_and_no_training(loaded: tuple[Services, str]) -> None:
    services, _ = loaded
    now = services.ctx.clock()

    people = services.reads.persons_by_ids(SYSTEM, ["ben.stats", "uma.uni", "dan.city", "rui.uni"])

    assert all(Role.ANALYST in p.roles for p in people.values())
    assert people["uma.uni"].training is not None and people["uma.uni"].training.is_current(now)
    assert people["ben.stats"].training is not None and people["ben.stats"].training.is_current(now)
    expired = people["dan.city"].training
    assert expired is not None and expired.expires_at < now
    assert people["rui.uni"].training is None


def test_open_statistics_trace_back_to_the_special_category_source(loaded: tuple[Services, str]) -> None:
    services, _ = loaded

    view = services.lineage.view(SYSTEM, "stats.hospital-activity", "UPSTREAM", 5)

    sources = {n.id: n.dataset for n in view.nodes if n.kind == "DATASET"}
    assert sources["stats.hospital-activity"] is not None
    assert sources["stats.hospital-activity"].classification == "PUBLIC"
    source = sources["health.admissions"]
    assert source is not None and source.personal_data is PersonalData.SPECIAL_CATEGORY


def test_deidentification_is_attested_by_a_steward_of_its_output(loaded: tuple[Services, str]) -> None:
    services, _ = loaded

    props = services.store.read(lambda tx: tx.get_node(Label.PROCESS, "proc.health-deidentify"))
    stewards = services.reads.stewards_of(["health.admissions-deid"])["health.admissions-deid"]

    assert props is not None
    process = from_props(Process, props)
    assert process.attested_identifiability is Identifiability.DEIDENTIFIED
    assert process.attested_by in stewards
    assert process.attestation_note


def test_loading_again_changes_nothing(loaded: tuple[Services, str]) -> None:
    services, _ = loaded
    events = count(services, Label.AUDIT_EVENT)

    assert load_demo(services) == "already loaded"
    assert count(services, Label.AUDIT_EVENT) == events
    assert count(services, Label.DATASET) == 9
