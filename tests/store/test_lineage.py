"""Store conformance: lineage traversal, depth limits and cycles. Runs on every backend."""

from __future__ import annotations

import pytest

from catalog.errors import NotFound
from catalog.store.base import GraphStore, GraphTx
from catalog.store.schema import Label, Rel


def derive(tx: GraphTx, process: str, inputs: list[str], outputs: list[str]) -> None:
    tx.merge_node(Label.PROCESS, process, {"name": process, "kind": "TRANSFORM"})
    for ds in [*inputs, *outputs]:
        tx.merge_node(Label.DATASET, ds, {"title": ds})
    for ds in inputs:
        tx.merge_edge(Rel.USED, process, ds)
    for ds in outputs:
        tx.merge_edge(Rel.GENERATED_BY, ds, process)


@pytest.fixture
def chain(store: GraphStore) -> GraphStore:
    """raw-a, raw-b -> (p-link) -> linked -> (p-deid) -> deid -> (p-agg) -> stats; raw-a -> (p-copy) -> mirror."""

    def build(tx: GraphTx) -> None:
        derive(tx, "p-link", ["raw-a", "raw-b"], ["linked"])
        derive(tx, "p-deid", ["linked"], ["deid"])
        derive(tx, "p-agg", ["deid"], ["stats"])
        derive(tx, "p-copy", ["raw-a"], ["mirror"])

    store.write(build)
    return store


def test_upstream_reaches_all_sources_with_depths(chain: GraphStore) -> None:
    graph = chain.read(lambda tx: tx.lineage("stats", "UPSTREAM", 10))

    assert graph.datasets == {"stats": 0, "deid": 1, "linked": 2, "raw-a": 3, "raw-b": 3}
    assert graph.processes == {"p-agg": 0, "p-deid": 1, "p-link": 2}
    assert graph.edges == {
        ("GENERATED_BY", "stats", "p-agg"),
        ("USED", "p-agg", "deid"),
        ("GENERATED_BY", "deid", "p-deid"),
        ("USED", "p-deid", "linked"),
        ("GENERATED_BY", "linked", "p-link"),
        ("USED", "p-link", "raw-a"),
        ("USED", "p-link", "raw-b"),
    }


def test_downstream_reaches_every_derived_dataset(chain: GraphStore) -> None:
    graph = chain.read(lambda tx: tx.lineage("raw-a", "DOWNSTREAM", 10))

    assert graph.datasets == {"raw-a": 0, "linked": 1, "mirror": 1, "deid": 2, "stats": 3}
    assert ("USED", "p-copy", "raw-a") in graph.edges
    assert ("GENERATED_BY", "stats", "p-agg") in graph.edges
    assert "raw-b" not in graph.datasets  # a sibling input is not downstream


def test_depth_limit_stops_the_walk(chain: GraphStore) -> None:
    graph = chain.read(lambda tx: tx.lineage("stats", "UPSTREAM", 1))

    assert graph.datasets == {"stats": 0, "deid": 1}
    assert graph.edges == {("GENERATED_BY", "stats", "p-agg"), ("USED", "p-agg", "deid")}


def test_depth_zero_is_just_the_start(chain: GraphStore) -> None:
    graph = chain.read(lambda tx: tx.lineage("deid", "BOTH", 0))

    assert graph.datasets == {"deid": 0}
    assert graph.edges == set()


def test_both_directions_combine(chain: GraphStore) -> None:
    graph = chain.read(lambda tx: tx.lineage("deid", "BOTH", 1))

    assert graph.datasets == {"deid": 0, "linked": 1, "stats": 1}


def test_a_cycle_terminates(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        derive(tx, "p1", ["a"], ["b"])
        derive(tx, "p2", ["b"], ["c"])
        derive(tx, "p3", ["c"], ["a"])  # a -> b -> c -> a

    store.write(build)

    down = store.read(lambda tx: tx.lineage("a", "DOWNSTREAM", 50))
    up = store.read(lambda tx: tx.lineage("a", "UPSTREAM", 50))

    assert down.datasets == {"a": 0, "b": 1, "c": 2}
    assert up.datasets == {"a": 0, "c": 1, "b": 2}
    assert len(down.edges) == 6


def test_diamond_reports_the_shortest_depth(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        derive(tx, "p1", ["src"], ["mid"])
        derive(tx, "p2", ["mid"], ["out"])
        derive(tx, "p3", ["src"], ["out"])  # a shortcut

    store.write(build)

    assert store.read(lambda tx: tx.lineage("src", "DOWNSTREAM", 5)).datasets == {"src": 0, "mid": 1, "out": 1}


def test_lineage_of_unknown_dataset_is_not_found(store: GraphStore) -> None:
    with pytest.raises(NotFound):
        store.read(lambda tx: tx.lineage("ghost", "UPSTREAM", 3))
