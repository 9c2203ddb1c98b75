"""checkAccess and explainAccess on both backends: decided by policy, recorded with links, failing closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.domain import Outcome
from catalog.errors import CatalogError, NotFound, Unavailable
from catalog.policy.attributes import RequestAttributes
from catalog.policy.engine import Evaluation, PolicyEngine
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.query import TRUE
from catalog.store.schema import Label, Rel

RESEARCH_IN_ENCLAVE = {"dataset_id": "health.admissions-deid", "purpose": "RESEARCH", "access_method": "SECURE_ENCLAVE"}


@pytest.fixture
def services(store: GraphStore) -> Iterator[Services]:
    built = Services(store, load_settings())
    load_demo(built)
    yield built


def as_person(services: Services, person_id: str) -> Principal:
    person = services.reads.person(SYSTEM, person_id)
    return Principal(person.id, person.agency_id, frozenset(person.roles))


def decisions(store: GraphStore) -> list[dict[str, Any]]:
    """The recorded access decisions (loading the demo records the decisions of its registrations too)."""
    found = store.read(lambda tx: tx.find_nodes(Label.DECISION, TRUE, first=10_000)).items
    return [p for _, p in found if '"action":"access"' in str(p.get("request_json", ""))]


def test_check_records_the_decision_linked_to_dataset_requester_and_agreement(services: Services) -> None:
    decision = services.access.check(as_person(services, "uma.uni"), RESEARCH_IN_ENCLAVE)

    assert decision.outcome == Outcome.PERMIT
    assert decision.determining_rules == ["access-five-safes"]
    assert decision.reason.startswith("Permitted by rule access-five-safes")
    stored = services.access.get(SYSTEM, decision.id)
    assert stored == decision
    links = services.store.read(
        lambda tx: {
            rel: tx.neighbors(rel, [decision.id], "out")[decision.id]
            for rel in (Rel.ABOUT, Rel.REQUESTED_BY, Rel.UNDER)
        }
    )
    assert links == {
        Rel.ABOUT: ["health.admissions-deid"],
        Rel.REQUESTED_BY: ["uma.uni"],
        Rel.UNDER: [decision.agreement_id],
    }
    audit = services.store.read(lambda tx: tx.find_nodes(Label.AUDIT_EVENT, TRUE, first=10_000)).items
    recording = [p for _, p in audit if p.get("decision_id") == decision.id]
    assert [p["action"] for p in recording] == ["decide_access"]  # one event records it, in the same transaction


def test_a_denial_names_what_failed(services: Services) -> None:
    decision = services.access.check(as_person(services, "rui.uni"), RESEARCH_IN_ENCLAVE)

    assert (decision.outcome, decision.deny_kind) == (Outcome.DENY, "IMPLICIT")
    assert decision.reason == (
        "Access to health.admissions-deid is not permitted: rui.uni has no data-ethics training on record."
    )
    assert [r.text for r in decision.remedies] == ["complete data-ethics training"]
    safes = {s.safe: s.status for s in decision.safes}
    assert safes["safe people"] == "FAIL" and safes["safe project"] == "PASS"


def test_explain_decides_the_same_and_records_nothing(services: Services) -> None:
    before = decisions(services.store)
    explained = services.access.explain(as_person(services, "uma.uni"), RESEARCH_IN_ENCLAVE)

    assert explained.outcome == Outcome.PERMIT
    assert decisions(services.store) == before


def test_an_unknown_field_is_bad_input(services: Services) -> None:
    with pytest.raises(CatalogError, match=r"fields: dataset health\.admissions-deid has no field"):
        services.access.check(as_person(services, "uma.uni"), {**RESEARCH_IN_ENCLAVE, "fields": ["shoe_size"]})


class BreaksStoreAfterDeciding(PolicyEngine):
    """Decides normally, then makes the store unavailable before the decision can be recorded."""

    outcomes: list[Outcome]

    def __init__(self, store: GraphStore) -> None:
        super().__init__(load_settings().policy_dir)
        self.store = store
        self.outcomes = []

    def decide(self, request: RequestAttributes) -> Evaluation:
        evaluation = super().decide(request)
        if request.env.action == "access":  # not the visibility check that comes first
            self.outcomes.append(evaluation.outcome)
            self.store.close()
        return evaluation


def test_a_permit_that_cannot_be_recorded_is_unavailable_never_permit(store: GraphStore) -> None:
    setup = Services(store, load_settings())
    load_demo(setup)
    recorded = decisions(store)  # the demo's own
    engine = BreaksStoreAfterDeciding(store)
    services = Services(store, load_settings(), engine=engine)

    with pytest.raises(Unavailable):
        services.access.check(as_person(setup, "uma.uni"), RESEARCH_IN_ENCLAVE)

    assert engine.outcomes == [Outcome.PERMIT]  # the engine did decide PERMIT...
    with reopened(store) as fresh:
        assert decisions(fresh) == recorded  # ...but nothing was recorded, and the caller got UNAVAILABLE


def reopened(store: GraphStore) -> GraphStore:
    """A new connection to the same database (the test closed the old one)."""
    from catalog.store.neo4j import Neo4jStore
    from catalog.store.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        return SqliteStore(store.path)
    assert isinstance(store, Neo4jStore)
    return Neo4jStore(store.uri)


def test_asking_about_a_dataset_you_cannot_see_is_not_found_and_reveals_nothing(services: Services) -> None:
    before = decisions(services.store)

    with pytest.raises(NotFound) as err:
        services.access.check(
            as_person(services, "uma.uni"), {"dataset_id": "health.admissions", "purpose": "RESEARCH"}
        )

    assert err.value.message == "Dataset 'health.admissions' not found"
    assert decisions(services.store) == before
