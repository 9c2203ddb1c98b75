"""The demo landscape, loaded into a real SQLite store: what a user trying the catalog first will meet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.domain import (
    AgreementStatus,
    DenyKind,
    Identifiability,
    Outcome,
    PersonalData,
    Process,
    Role,
    ShareRequestStatus,
)
from catalog.principal import SYSTEM, Principal
from catalog.services import AgreementFilter, DecisionFilter, Services, ShareRequestFilter
from catalog.services.audit_trail import verify_store
from catalog.store.base import GraphStore
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

    assert summary == (
        "5 agencies, 14 people, 9 datasets, 4 processes, 4 agreements imported, 6 share requests, "
        "10 access decisions, 1 correction"
    )
    counts = {label: count(services, label) for label in (Label.AGENCY, Label.PERSON, Label.DATASET)}
    assert counts == {Label.AGENCY: 5, Label.PERSON: 14, Label.DATASET: 9}
    assert count(services, Label.PROCESS) == 4
    assert count(services, Label.SHARE_REQUEST) == 6
    assert count(services, Label.AGREEMENT) == 4 + 3  # imported, then made by three approved requests
    assert count(services, Label.NOTICE) == 1


def test_admin_is_a_platform_admin(loaded: tuple[Services, str]) -> None:
    services, _ = loaded

    admin = services.reads.person(SYSTEM, "admin")

    assert Role.PLATFORM_ADMIN in admin.roles
    assert services.reads.person(SYSTEM, "auditor").roles == [Role.AUDITOR]


def test_agreements_are_active_expired_suspended_and_revoked_as_of_now(loaded: tuple[Services, str]) -> None:
    services, _ = loaded
    now = services.ctx.clock()

    agreements = services.agreements.list(SYSTEM, AgreementFilter(), first=20).items
    status = {a.id: a.status for a in agreements}

    assert status["agr.health-uni-research"] == AgreementStatus.ACTIVE
    assert status["agr.health-stats-linkage-run2"] == AgreementStatus.ACTIVE
    assert status["agr.social-stats-housing-statistics"] == AgreementStatus.REVOKED
    assert status["agr.city-social-service-requests"] == AgreementStatus.SUSPENDED
    # Made through the workflow with the clock set back; its window has since ended, so it reads as expired.
    expired = next(a for a in agreements if a.id == "agr.city-stats-service-requests")
    assert expired.status == AgreementStatus.EXPIRED and expired.valid_until < now and expired.share_request_id
    covered = services.store.read(lambda tx: tx.neighbors(Rel.COVERS, ["agr.health-uni-research"], "out"))
    assert covered == {"agr.health-uni-research": ["health.admissions-deid"]}


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


@pytest.fixture
def demo(store: GraphStore) -> Services:
    """The demo on a fresh store of each backend, loaded as `catalog demo` loads it."""
    services = Services(store, load_settings())
    load_demo(services)
    return services


def test_an_auditor_meets_a_decision_log_and_share_requests_in_every_state(demo: Services) -> None:
    auditor = Principal.acting_as(demo.reads.person(SYSTEM, "auditor"))

    decisions = demo.access.list(auditor, DecisionFilter(), first=500, after=None).items
    by_people = [d for d in decisions if d.principal_id != SYSTEM.id]
    requests = demo.sharing.requests(auditor, ShareRequestFilter(), first=50).items

    assert len(by_people) >= 10
    assert {d.request.action for d in by_people} >= {
        "access",
        "request_share",
        "approve_share",
        "reject_share",
        "suspend_agreement",
        "revoke_agreement",
    }
    assert {(d.outcome, d.deny_kind) for d in by_people if d.request.action == "access"} == {
        (Outcome.PERMIT, None),
        (Outcome.DENY, DenyKind.IMPLICIT),
        (Outcome.DENY, DenyKind.EXPLICIT),
    }
    assert {r.status for r in requests} == set(ShareRequestStatus)
    four_eyes = next(r for r in requests if r.agreement_id == "agr.health-stats-linkage-run2")
    assert len(four_eyes.filled_approvals) == 2
    notices = demo.corrections.notices(auditor, None, first=10, after=None).items
    assert len(notices) == 1 and {"uni", "stats"} <= set(notices[0].notice.agency_ids)
    assert verify_store(demo.store).intact
