"""Classification propagation through lineage, on every backend: effective values, attestation, paths, cycles.

The last test replays random sequences of lineage changes, attestations and reclassifications and checks, after
every step, that what the store holds equals a plain fixpoint computed here from the whole graph.
"""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta

import pytest

from catalog.config import DEFAULT_CLASSIFICATIONS
from catalog.domain import Identifiability, utcnow
from catalog.errors import InvalidInput
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.query import Eq
from catalog.store.schema import Label
from tests.lineage.conftest import acting, attest, dataset, derive, effective, stored

PERSONAL = ("NONE", "PERSONAL", "SPECIAL_CATEGORY")
NOTE = "Identifiers removed; k-anonymity of 10 checked on this run."


def test_a_derived_dataset_is_as_restricted_as_its_most_restricted_input(services: Services) -> None:
    dataset(services, "raw", classification="PROTECTED", personal_data="SPECIAL_CATEGORY")
    dataset(services, "side", classification="OFFICIAL_SENSITIVE", personal_data="PERSONAL")
    dataset(services, "linked")

    derive(services, "p-link", ["raw", "side"], ["linked"], kind="LINK")

    assert effective(services, "linked") == ("PROTECTED", "SPECIAL_CATEGORY", "raw via p-link")
    assert stored(services, "linked")["classification"] == "OFFICIAL"  # its own value is untouched


def test_restrictions_travel_the_whole_chain_and_name_the_path(services: Services) -> None:
    dataset(services, "raw", classification="PROTECTED")
    for id in ("mid", "out"):
        dataset(services, id)

    derive(services, "p-1", ["raw"], ["mid"])
    derive(services, "p-2", ["mid"], ["out"])

    assert effective(services, "out") == ("PROTECTED", "NONE", "raw via p-1 -> mid -> p-2")


def test_a_dataset_is_never_less_restricted_than_itself(services: Services) -> None:
    dataset(services, "open", classification="PUBLIC")
    dataset(services, "secret", classification="PROTECTED", personal_data="PERSONAL")

    derive(services, "p", ["open"], ["secret"])

    assert effective(services, "secret") == ("PROTECTED", "PERSONAL", None)


def test_an_attested_deidentification_stops_restrictions_from_that_process_on(services: Services) -> None:
    dataset(services, "raw", classification="PROTECTED", personal_data="SPECIAL_CATEGORY")
    dataset(services, "extract", classification="OFFICIAL_SENSITIVE")
    dataset(services, "tables", classification="PUBLIC")
    derive(services, "p-deid", ["raw"], ["extract"], kind="DEIDENTIFY")
    derive(services, "p-tables", ["extract"], ["tables"])
    assert effective(services, "tables")[:2] == ("PROTECTED", "SPECIAL_CATEGORY")  # not attested yet

    attest(services, "p-deid", Identifiability.DEIDENTIFIED, NOTE)

    assert effective(services, "extract") == ("OFFICIAL_SENSITIVE", "NONE", None)
    assert effective(services, "tables") == ("OFFICIAL_SENSITIVE", "NONE", "extract via p-tables")


def test_an_unattested_aggregate_does_not_stop_restrictions(services: Services) -> None:
    dataset(services, "raw", classification="PROTECTED")
    dataset(services, "counts", classification="PUBLIC")

    derive(services, "p-agg", ["raw"], ["counts"], kind="AGGREGATE")

    assert effective(services, "counts")[0] == "PROTECTED"


def test_an_attested_process_stops_only_its_own_path(services: Services) -> None:
    dataset(services, "raw", classification="PROTECTED")
    dataset(services, "other", classification="OFFICIAL_SENSITIVE", personal_data="PERSONAL")
    dataset(services, "counts", classification="PUBLIC")
    derive(services, "p-agg", ["raw"], ["counts"], kind="AGGREGATE")
    derive(services, "p-join", ["other"], ["counts"])

    attest(services, "p-agg", Identifiability.AGGREGATE, NOTE)

    assert effective(services, "counts") == ("OFFICIAL_SENSITIVE", "PERSONAL", "other via p-join")


def test_reclassifying_upstream_moves_everything_downstream_in_the_same_change(services: Services) -> None:
    dataset(services, "raw", classification="OFFICIAL_SENSITIVE")
    dataset(services, "mid")
    dataset(services, "out")
    derive(services, "p-1", ["raw"], ["mid"])
    derive(services, "p-2", ["mid"], ["out"])

    services.registration.update_dataset(SYSTEM, "raw", {"classification": "PROTECTED"}, reason="re-assessed")
    assert effective(services, "out")[0] == "PROTECTED"

    services.registration.update_dataset(SYSTEM, "raw", {"classification": "PUBLIC"}, reason="published")
    assert effective(services, "out") == ("OFFICIAL", "NONE", None)
    event = services.store.read(
        lambda tx: tx.find_nodes(Label.AUDIT_EVENT, Eq("action", "update_dataset"), first=100)
    ).items[-1][1]
    propagated = json.loads(event["change_json"])["propagated"]
    assert propagated["out"]["effective_classification"] == {"before": "PROTECTED", "after": "OFFICIAL"}


def test_update_returns_the_recomputed_effective_values(services: Services) -> None:
    dataset(services, "raw", classification="PROTECTED")
    dataset(services, "out", classification="PUBLIC")
    derive(services, "p", ["raw"], ["out"])

    updated = services.registration.update_dataset(SYSTEM, "out", {"title": "Renamed"})

    assert (updated.effective_classification, updated.restricted_by) == ("PROTECTED", "raw via p")


def test_effective_values_cannot_be_set_by_hand(services: Services) -> None:
    dataset(services, "raw")

    with pytest.raises(InvalidInput) as raised:
        services.registration.update_dataset(SYSTEM, "raw", {"effective_classification": "PUBLIC"})

    assert raised.value.field == "effective_classification"
    assert effective(services, "raw")[0] == "OFFICIAL"


def test_a_cycle_terminates_with_everything_as_restricted_as_its_most_restricted_member(services: Services) -> None:
    dataset(services, "a")
    dataset(services, "b")
    dataset(services, "c", classification="PROTECTED")
    derive(services, "p-ab", ["a"], ["b"])
    derive(services, "p-bc", ["b"], ["c"])
    derive(services, "p-ca", ["c"], ["a"])

    assert [effective(services, id)[0] for id in "abc"] == ["PROTECTED"] * 3
    assert effective(services, "b")[2] == "c via p-ca -> a -> p-ab"


def test_the_policy_refusal_names_the_upstream_dataset_and_path(services: Services) -> None:
    dataset(services, "raw", classification="PROTECTED")
    dataset(
        services,
        "linked",
        permitted_purposes=["RESEARCH"],
        legal_basis={"article6": "PUBLIC_TASK", "statute": "Research Act s. 1"},
    )
    derive(services, "p-link", ["raw"], ["linked"], kind="LINK")
    now = utcnow()
    services.agreements.register(
        SYSTEM,
        {
            "provider_agency_id": "health",
            "recipient_agency_id": "uni",
            "dataset_ids": ["linked"],
            "purpose": "RESEARCH",
            "legal_basis": {"article6": "PUBLIC_TASK", "statute": "Research Act s. 1"},
            "access_method": "SECURE_ENCLAVE",
            "max_classification": "OFFICIAL",
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=100),
        },
    )

    request = {"dataset_id": "linked", "purpose": "RESEARCH", "access_method": "SECURE_ENCLAVE"}
    decision = services.access.check(acting(services, "analyst.uni"), request)
    recorded = services.access.get(acting(services, "auditor"), decision.id)

    # The analyst may not see `raw`: the path is named with it redacted, never by its id.
    hidden = services.redaction.redact("raw")
    assert decision.outcome.value == "DENY"
    assert f"effective classification PROTECTED comes from upstream {hidden} via p-link" in decision.reason
    assert decision.attributes["obj"]["restricted_by"] == f"{hidden} via p-link"
    assert re.search(r"\braw\b", decision.model_dump_json()) is None
    # The record keeps the whole path for oversight.
    assert "comes from upstream raw via p-link" in recorded.reason
    assert recorded.attributes["obj"]["restricted_by"] == "raw via p-link"


# --- random sequences against a reference fixpoint ---------------------------------------------------------


def reference(
    own: dict[str, tuple[int, int]], processes: dict[str, tuple[list[str], list[str], bool]]
) -> dict[str, tuple[int, int]]:
    """Most restrictive own value over each dataset and everything upstream through unattested processes."""
    levels = dict(own)
    changed = True
    while changed:
        changed = False
        for inputs, outputs, attested in processes.values():
            if attested:
                continue
            for out in outputs:
                best = levels[out]
                for source in inputs:
                    best = (max(best[0], levels[source][0]), max(best[1], levels[source][1]))
                if best != levels[out]:
                    levels[out], changed = best, True
    return levels


def check(services: Services, own: dict[str, tuple[int, int]], processes: dict) -> None:
    expected = reference(own, processes)
    for id, (rank, personal) in expected.items():
        props = stored(services, id)
        got = (props["effective_classification"], props["effective_personal_data"])
        assert got == (DEFAULT_CLASSIFICATIONS[rank], PERSONAL[personal]), id


def test_effective_values_stay_right_through_any_sequence_of_changes(services: Services) -> None:
    rng = random.Random(20260301)
    ids = [f"d{i}" for i in range(7)]
    own: dict[str, tuple[int, int]] = {}
    for id in ids:
        own[id] = (rng.randrange(4), rng.randrange(3))
        dataset(services, id, classification=DEFAULT_CLASSIFICATIONS[own[id][0]], personal_data=PERSONAL[own[id][1]])
    processes: dict[str, tuple[list[str], list[str], bool]] = {}
    attestable: set[str] = set()
    for step in range(16):
        action = rng.choice(["derive", "derive", "attest", "reclassify"])
        if action == "derive":
            process_id = f"p{step}"
            inputs = sorted(rng.sample(ids, rng.randint(1, 2)))
            outputs = [rng.choice([id for id in ids if id not in inputs])]  # a process never outputs its input
            kind = rng.choice(["TRANSFORM", "DEIDENTIFY", "AGGREGATE"])
            derive(services, process_id, inputs, outputs, kind=kind)
            processes[process_id] = (inputs, outputs, False)
            if kind != "TRANSFORM":
                attestable.add(process_id)
            if kind != "TRANSFORM" and rng.random() < 0.5:
                attest(services, process_id, Identifiability.DEIDENTIFIED, NOTE)
                processes[process_id] = (inputs, outputs, True)
        elif action == "attest":
            open_ones = sorted(p for p, (_, _, done) in processes.items() if p in attestable and not done)
            if open_ones:
                process_id = rng.choice(open_ones)
                attest(services, process_id, Identifiability.AGGREGATE, NOTE)
                processes[process_id] = (*processes[process_id][:2], True)
        elif action == "reclassify":
            id = rng.choice(ids)
            own[id] = (rng.randrange(4), rng.randrange(3))
            changes = {"classification": DEFAULT_CLASSIFICATIONS[own[id][0]], "personal_data": PERSONAL[own[id][1]]}
            services.registration.update_dataset(SYSTEM, id, changes, reason="re-assessed")
        check(services, own, processes)
