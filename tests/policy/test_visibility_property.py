"""Property: a principal's dataset list is exactly the datasets the engine permits one by one, on both backends.

The list is filtered by a store predicate compiled from the read_metadata rules; the single decision runs the
rules through Casbin on attributes read from the graph. Any gap between the two would leak or hide data.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.config import load_settings
from catalog.domain import DEFAULT_CLASSIFICATIONS, Outcome, Role
from catalog.errors import NotFound
from catalog.principal import ANONYMOUS, Principal
from catalog.services import DatasetFilter, Services
from catalog.store.base import GraphStore, GraphTx
from catalog.store.schema import Label, Rel

AGENCIES = ["health", "social", "stats"]
PEOPLE = ["p1", "p2", "p3"]

datasets = st.lists(
    st.fixed_dictionaries(
        {
            "owner": st.sampled_from(AGENCIES),
            "classification": st.sampled_from(DEFAULT_CLASSIFICATIONS),
            "status": st.sampled_from(["ACTIVE", "DEPRECATED", "WITHDRAWN"]),
            "stewards": st.lists(st.sampled_from(PEOPLE), unique=True, max_size=2),
            "agreements": st.lists(
                st.tuples(st.sampled_from(AGENCIES), st.sampled_from(["ACTIVE", "REVOKED", "EXPIRED"])), max_size=2
            ),
        }
    ),
    min_size=1,
    max_size=6,
)
principals = st.one_of(
    st.just(ANONYMOUS),
    st.builds(
        lambda pid, agency, roles: Principal(pid, agency, frozenset(roles)),
        st.sampled_from([*PEOPLE, "outsider"]),
        st.sampled_from(AGENCIES),
        st.lists(st.sampled_from(list(Role)), unique=True, max_size=2),
    ),
)


def build(store: GraphStore, landscape: list[dict[str, Any]]) -> None:
    def work(tx: GraphTx) -> None:
        for agency in AGENCIES:
            tx.create_node(Label.AGENCY, agency, {"name": agency})
        for person in PEOPLE:
            tx.create_node(Label.PERSON, person, {"name": person, "agency_id": AGENCIES[0]})
        for i, spec in enumerate(landscape):
            ds = f"ds-{i}"
            tx.create_node(
                Label.DATASET,
                ds,
                {
                    "title": ds,
                    "owner_agency_id": spec["owner"],
                    "classification": spec["classification"],
                    "effective_classification": spec["classification"],
                    "status": spec["status"],
                },
            )
            for person in spec["stewards"]:
                tx.merge_edge(Rel.STEWARD_OF, person, ds)
            for j, (recipient, status) in enumerate(spec["agreements"]):
                agr = f"agr-{i}-{j}"
                tx.create_node(
                    Label.AGREEMENT,
                    agr,
                    {
                        "recipient_agency_id": recipient,
                        "provider_agency_id": spec["owner"],
                        "status": status,
                        "purpose": "RESEARCH",
                        "valid_from": "2000-01-01T00:00:00.000000Z",
                        "valid_until": "2999-01-01T00:00:00.000000Z",
                        "dataset_ids": [ds],
                    },
                )
                tx.merge_edge(Rel.COVERS, agr, ds)

    store.clear()
    store.write(work)


def explained_permit(services: Services, principal: Principal, dataset_id: str) -> bool:
    """The engine's one-by-one answer. A dataset hidden from a stranger is NOT_FOUND, so nothing about it leaks;
    a former recipient gets a DENY with its reasons."""
    try:
        decision = services.access.explain(principal, {"dataset_id": dataset_id, "action": "read_metadata"})
    except NotFound:
        return False
    return decision.outcome == Outcome.PERMIT


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(landscape=datasets, principal=principals)
def test_list_equals_the_datasets_permitted_one_by_one(
    store: GraphStore, landscape: list[dict[str, Any]], principal: Principal
) -> None:
    build(store, landscape)
    services = Services(store, load_settings())

    listed = [d.id for d in services.reads.datasets(principal, DatasetFilter(), first=100).items]
    permitted = [f"ds-{i}" for i in range(len(landscape)) if explained_permit(services, principal, f"ds-{i}")]

    assert listed == permitted
    for dataset_id in permitted:
        assert services.reads.dataset(principal, dataset_id).id == dataset_id
