"""Property: for every read rule over the catalog's own records, what a list returns is exactly what the engine
permits one record at a time, on both backends.

The list is filtered by a store predicate compiled from the `read_*` rules (policies/rules/15-records.yaml); the
single decision runs those rules through Casbin on the record's attributes (`RecordKind.resource`). Any gap
between the two would show someone a record the policy keeps from them, or hide one it grants.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.config import load_settings
from catalog.domain import utcnow
from catalog.policy.attributes import Environment, RequestAttributes
from catalog.policy.visibility import RECORDS
from catalog.principal import Principal
from catalog.services import Services
from catalog.services.facts import subject_of
from catalog.store.base import GraphStore, GraphTx
from tests.policy.test_visibility_property import AGENCIES, PEOPLE, principals

agency = st.sampled_from([*AGENCIES, ""])
person = st.sampled_from([*PEOPLE, "anonymous"])
records = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(sorted(RECORDS)),
            "person": person,
            "owner": agency,
            "other": agency,
            "addressed": st.lists(st.sampled_from(AGENCIES), unique=True, max_size=2),
        }
    ),
    min_size=1,
    max_size=8,
)


def stored_props(spec: dict[str, Any]) -> dict[str, Any]:
    """A record of the spec's kind with the properties its read rule looks at, as the services store them."""
    owner, other, by = spec["owner"] or None, spec["other"] or None, spec["person"]
    return {
        "read_decision": {"principal_id": by, "owner_agency_id": owner, "agency_id": other},
        "read_agreement": {"provider_agency_id": owner, "recipient_agency_id": other},
        "read_register": {"provider_agency_id": owner, "recipient_agency_id": other},
        "read_share_request": {"requester_id": by, "provider_agency_id": owner, "recipient_agency_id": other},
        "read_notice": {"issued_by": by, "agency_ids": spec["addressed"]},
        "read_person": {"agency_id": owner, "name": "someone"},
        "read_audit": {"principal_id": by, "sequence": 1},
    }[spec["kind"]]


def build(store: GraphStore, specs: list[dict[str, Any]]) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {kind: [] for kind in RECORDS}

    def work(tx: GraphTx) -> None:
        for i, spec in enumerate(specs):
            kind = RECORDS[spec["kind"]]
            id = spec["person"] if spec["kind"] == "read_person" else f"rec-{i:02d}"
            if id in ids[spec["kind"]] or id == "anonymous":
                continue
            props = {k: v for k, v in stored_props(spec).items() if v is not None}
            tx.create_node(kind.label, id, props)
            ids[spec["kind"]].append(id)

    store.clear()
    store.write(work)
    return ids


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=records, principal=principals)
def test_every_record_list_equals_the_records_permitted_one_by_one(
    store: GraphStore, specs: list[dict[str, Any]], principal: Principal
) -> None:
    ids = build(store, specs)
    services = Services(store, load_settings())
    subject = subject_of(principal, None, utcnow())

    for action, kind in RECORDS.items():
        where = services.decisions.readable(principal, action)
        listed = sorted(
            id for id, _ in store.read(lambda tx, w=where, k=kind: tx.find_nodes(k.label, w, first=100)).items
        )
        # Two actions may read one label (read_agreement and read_register): every record of it counts.
        stored = [id for other, k in RECORDS.items() if k.label == kind.label for id in ids[other]]
        found = store.read(lambda tx, k=kind, s=stored: tx.get_nodes(k.label, s))
        permitted = sorted(
            id
            for id, props in found.items()
            if services.decisions.permits(
                RequestAttributes(subject, kind.resource(id, props), Environment(action=action))
            )
        )
        assert listed == permitted, action
