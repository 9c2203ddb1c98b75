"""Attesting de-identify and aggregate processes, on a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.config import load_settings
from catalog.domain import Identifiability, Process, Role
from catalog.errors import Forbidden, InvalidInput, NotFound
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.query import Eq
from catalog.store.records import from_props
from catalog.store.schema import Label
from catalog.store.sqlite import SqliteStore

STEWARD = Principal(id="hamid", agency_id="health", roles=frozenset({Role.STEWARD}))
OUTSIDER = Principal(id="uma", agency_id="uni", roles=frozenset({Role.ANALYST}))
NOTE = "Direct identifiers removed; k-anonymity of 10 verified."


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """raw -> (deid: DEIDENTIFY) -> extract; raw -> (copy: TRANSFORM) -> mirror; hamid stewards the outputs."""
    store = SqliteStore(tmp_path / "catalog.db")
    store.init_schema()
    services = Services(store, load_settings())
    reg = services.registration
    reg.register_agency(SYSTEM, {"id": "health", "name": "Department of Health"})
    reg.register_agency(SYSTEM, {"id": "uni", "name": "University"})
    reg.register_person(SYSTEM, {"id": "hamid", "name": "Hamid", "agency_id": "health", "roles": ["STEWARD"]})
    for id in ("raw", "extract", "mirror"):
        reg.register_dataset(SYSTEM, {"id": id, "title": id, "owner_agency_id": "health"})
    reg.assign_steward(SYSTEM, "extract", "hamid")
    reg.assign_steward(SYSTEM, "mirror", "hamid")
    services.lineage.record(
        SYSTEM, {"id": "deid", "name": "De-identify", "kind": "DEIDENTIFY", "inputs": ["raw"], "outputs": ["extract"]}
    )
    services.lineage.record(
        SYSTEM, {"id": "copy", "name": "Copy", "kind": "TRANSFORM", "inputs": ["raw"], "outputs": ["mirror"]}
    )
    yield services
    store.close()


def stored(services: Services, process_id: str) -> Process:
    props = services.store.read(lambda tx: tx.get_node(Label.PROCESS, process_id))
    assert props is not None
    return from_props(Process, props)


def attest_events(services: Services) -> int:
    where = Eq("action", "attest_process")
    page = services.store.read(lambda tx: tx.find_nodes(Label.AUDIT_EVENT, where, first=1, with_total=True))
    assert page.total is not None
    return page.total


def test_a_steward_attests_a_deidentify_process(services: Services) -> None:
    returned = services.lineage.attest(STEWARD, "deid", Identifiability.DEIDENTIFIED, NOTE)

    process = stored(services, "deid")
    assert returned.outputs == ["extract"]
    assert process.attested_identifiability is Identifiability.DEIDENTIFIED
    assert (process.attested_by, process.attestation_note) == ("hamid", NOTE)
    assert attest_events(services) == 1


def test_recording_the_process_again_keeps_the_attestation(services: Services) -> None:
    services.lineage.attest(STEWARD, "deid", Identifiability.DEIDENTIFIED, NOTE)

    services.lineage.record(
        SYSTEM, {"id": "deid", "name": "De-identify", "kind": "DEIDENTIFY", "inputs": ["raw"], "outputs": ["extract"]}
    )

    assert stored(services, "deid").attested_by == "hamid"


def test_only_deidentify_and_aggregate_processes_can_be_attested(services: Services) -> None:
    with pytest.raises(InvalidInput) as raised:
        services.lineage.attest(STEWARD, "copy", Identifiability.DEIDENTIFIED, NOTE)

    assert raised.value.field == "process_id"
    assert "TRANSFORM" in raised.value.rule
    assert stored(services, "copy").attested_identifiability is None
    assert attest_events(services) == 0


@pytest.mark.parametrize("identifiability", [Identifiability.PSEUDONYMISED, Identifiability.IDENTIFIED])
def test_only_deidentified_or_aggregate_can_be_attested(services: Services, identifiability: Identifiability) -> None:
    with pytest.raises(InvalidInput) as raised:
        services.lineage.attest(STEWARD, "deid", identifiability, NOTE)

    assert raised.value.field == "output_identifiability"
    assert stored(services, "deid").attested_identifiability is None


def test_an_attestation_needs_a_note(services: Services) -> None:
    with pytest.raises(InvalidInput) as raised:
        services.lineage.attest(STEWARD, "deid", Identifiability.DEIDENTIFIED, "  ")

    assert raised.value.field == "note"


def test_someone_not_accountable_for_the_outputs_may_not_attest(services: Services) -> None:
    with pytest.raises(Forbidden):
        services.lineage.attest(OUTSIDER, "deid", Identifiability.DEIDENTIFIED, NOTE)

    assert stored(services, "deid").attested_by is None


def test_attesting_an_unknown_process_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound):
        services.lineage.attest(STEWARD, "nope", Identifiability.DEIDENTIFIED, NOTE)
