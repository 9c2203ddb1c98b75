"""Store conformance: impact (downstream datasets with the agreements covering them) and derivation paths.

Runs on every backend. Impact is one query per call on both (a recursive CTE on SQLite, one Cypher query on
Neo4j); the round-trip counter pins that down.
"""

from __future__ import annotations

import pytest

from catalog.errors import NotFound
from catalog.store.base import GraphStore, GraphTx
from catalog.store.schema import Label, Rel
from tests.store.test_lineage import derive


def agreement(tx: GraphTx, id: str, recipient: str, datasets: list[str], status: str = "ACTIVE") -> None:
    tx.merge_node(Label.AGENCY, recipient, {"name": recipient})
    tx.merge_node(Label.AGREEMENT, id, {"status": status, "recipient_agency_id": recipient})
    tx.merge_edge(Rel.RECIPIENT, id, recipient)
    for dataset in datasets:
        tx.merge_edge(Rel.COVERS, id, dataset)


@pytest.fixture
def shared(store: GraphStore) -> GraphStore:
    """raw -> (p-link) -> linked -> (p-deid) -> deid -> (p-agg) -> stats; raw -> (p-copy) -> mirror; other alone.

    Agreements: a-raw (uni) covers raw; a-deid (uni, REVOKED) covers deid; a-stats (city) covers stats and other.
    """

    def build(tx: GraphTx) -> None:
        derive(tx, "p-link", ["raw", "side"], ["linked"])
        derive(tx, "p-deid", ["linked"], ["deid"])
        derive(tx, "p-agg", ["deid"], ["stats"])
        derive(tx, "p-copy", ["raw"], ["mirror"])
        tx.merge_node(Label.DATASET, "other", {"title": "other"})
        agreement(tx, "a-raw", "uni", ["raw"])
        agreement(tx, "a-deid", "uni", ["deid"], status="REVOKED")
        agreement(tx, "a-stats", "city", ["stats", "other"])

    store.write(build)
    return store


def test_impact_reaches_every_downstream_dataset_at_its_depth(shared: GraphStore) -> None:
    found = shared.read(lambda tx: tx.impact("raw", 10))

    assert found.datasets == {"raw": 0, "linked": 1, "mirror": 1, "deid": 2, "stats": 3}


def test_impact_lists_the_agreements_covering_the_dataset_or_anything_derived(shared: GraphStore) -> None:
    found = shared.read(lambda tx: tx.impact("raw", 10))

    assert sorted(found.agreements) == ["a-deid", "a-raw", "a-stats"]
    assert found.agreements["a-deid"].status == "REVOKED"  # a revoked agreement still delivered data once
    assert found.agreements["a-stats"].recipient_agency_id == "city"
    assert found.agreements["a-stats"].dataset_ids == ["stats"]  # `other` is not derived from raw


def test_impact_depth_limits_the_walk_and_its_agreements(shared: GraphStore) -> None:
    found = shared.read(lambda tx: tx.impact("raw", 2))

    assert found.datasets == {"raw": 0, "linked": 1, "mirror": 1, "deid": 2}
    assert sorted(found.agreements) == ["a-deid", "a-raw"]


def test_impact_at_depth_zero_is_the_dataset_and_its_own_agreements(shared: GraphStore) -> None:
    found = shared.read(lambda tx: tx.impact("raw", 0))

    assert found.datasets == {"raw": 0}
    assert list(found.agreements) == ["a-raw"]


def test_impact_is_one_query_or_one_per_level_in_process(shared: GraphStore) -> None:
    before = shared.round_trips
    found = shared.read(lambda tx: tx.impact("raw", 10))
    trips = shared.round_trips - before

    levels = max(found.datasets.values())
    # The start's existence check may be separate; an in-process store may also ask once per level reached,
    # and once more to learn that the walk has ended.
    assert trips <= (2 + levels + 1 if shared.in_process else 2)


def test_impact_terminates_on_a_cycle(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        derive(tx, "p1", ["a"], ["b"])
        derive(tx, "p2", ["b"], ["c"])
        derive(tx, "p3", ["c"], ["a"])
        agreement(tx, "a-c", "uni", ["c"])

    store.write(build)

    found = store.read(lambda tx: tx.impact("a", 20))

    assert found.datasets == {"a": 0, "b": 1, "c": 2}
    assert list(found.agreements) == ["a-c"]


def test_impact_of_a_missing_dataset_is_not_found(store: GraphStore) -> None:
    with pytest.raises(NotFound):
        store.read(lambda tx: tx.impact("ghost", 3))


def test_path_is_the_shortest_derivation(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        derive(tx, "p1", ["src"], ["mid"])
        derive(tx, "p2", ["mid"], ["out"])
        derive(tx, "p3", ["out"], ["end"])
        derive(tx, "p-long", ["src"], ["x"])
        derive(tx, "p-long2", ["x"], ["y"])
        derive(tx, "p-long3", ["y"], ["end2"])

    store.write(build)

    assert store.read(lambda tx: tx.path("src", "end", 10)) == ["src", "p1", "mid", "p2", "out", "p3", "end"]
    assert store.read(lambda tx: tx.path("src", "src", 10)) == ["src"]


def test_of_equally_short_paths_the_one_that_sorts_first_is_returned(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        derive(tx, "p-b", ["src"], ["mid-b"])
        derive(tx, "p-a", ["src"], ["mid-z"])
        derive(tx, "p-c", ["mid-b", "mid-z"], ["out"])

    store.write(build)

    assert store.read(lambda tx: tx.path("src", "out", 5)) == ["src", "p-a", "mid-z", "p-c", "out"]


def test_path_follows_derivation_downstream_only(store: GraphStore) -> None:
    store.write(lambda tx: derive(tx, "p1", ["up"], ["down"]))

    assert store.read(lambda tx: tx.path("down", "up", 5)) is None


def test_path_beyond_the_depth_limit_is_none(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        derive(tx, "p1", ["a"], ["b"])
        derive(tx, "p2", ["b"], ["c"])

    store.write(build)

    assert store.read(lambda tx: tx.path("a", "c", 1)) is None
    assert store.read(lambda tx: tx.path("a", "c", 2)) == ["a", "p1", "b", "p2", "c"]


def test_path_through_a_cycle_terminates(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        derive(tx, "p1", ["a"], ["b"])
        derive(tx, "p2", ["b"], ["a"])
        tx.merge_node(Label.DATASET, "island", {"title": "island"})

    store.write(build)

    assert store.read(lambda tx: tx.path("a", "b", 50)) == ["a", "p1", "b"]
    assert store.read(lambda tx: tx.path("a", "island", 50)) is None


def test_path_names_a_missing_dataset(store: GraphStore) -> None:
    store.write(lambda tx: derive(tx, "p1", ["a"], ["b"]))

    with pytest.raises(NotFound) as raised:
        store.read(lambda tx: tx.path("a", "ghost", 5))

    assert raised.value.id == "ghost"
