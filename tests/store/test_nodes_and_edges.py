"""Store conformance: nodes, edges, errors and transactions. Runs on every backend."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from catalog.errors import AlreadyExists, NotFound
from catalog.store.base import GraphStore, GraphTx, Props, sequence_id
from catalog.store.schema import Label, Rel


def add_agency(store: GraphStore, id: str, name: str = "Agency") -> None:
    store.write(lambda tx: tx.create_node(Label.AGENCY, id, {"name": name, "kind": "DEPARTMENT"}))


def test_create_then_read_returns_properties_with_id(store: GraphStore) -> None:
    add_agency(store, "health", "Department of Health")

    node = store.read(lambda tx: tx.get_node(Label.AGENCY, "health"))

    assert node == {"id": "health", "name": "Department of Health", "kind": "DEPARTMENT"}


def test_missing_node_reads_as_none(store: GraphStore) -> None:
    assert store.read(lambda tx: tx.get_node(Label.AGENCY, "nobody")) is None


def test_same_id_under_another_label_is_a_different_node(store: GraphStore) -> None:
    add_agency(store, "x")
    assert store.read(lambda tx: tx.get_node(Label.PERSON, "x")) is None


def test_create_twice_raises_already_exists(store: GraphStore) -> None:
    add_agency(store, "health")

    with pytest.raises(AlreadyExists) as err:
        add_agency(store, "health")

    assert err.value.id == "health"


def test_update_sets_given_properties_and_none_removes(store: GraphStore) -> None:
    store.write(lambda tx: tx.create_node(Label.DATASET, "d1", {"title": "A", "status": "ACTIVE", "tags": ["x"]}))

    store.write(lambda tx: tx.update_node(Label.DATASET, "d1", {"title": "B", "tags": None}))

    assert store.read(lambda tx: tx.get_node(Label.DATASET, "d1")) == {"id": "d1", "title": "B", "status": "ACTIVE"}


def test_update_missing_node_raises_not_found(store: GraphStore) -> None:
    with pytest.raises(NotFound):
        store.write(lambda tx: tx.update_node(Label.DATASET, "ghost", {"title": "B"}))


def test_merge_is_idempotent_and_reports_creation(store: GraphStore) -> None:
    first = store.write(lambda tx: tx.merge_node(Label.AGENCY, "stats", {"name": "Stats", "kind": "OFFICE"}))
    second = store.write(lambda tx: tx.merge_node(Label.AGENCY, "stats", {"name": "Stats", "kind": "OFFICE"}))
    third = store.write(lambda tx: tx.merge_node(Label.AGENCY, "stats", {"name": "Statistics Office"}))

    assert (first, second, third) == (True, False, False)
    page = store.read(lambda tx: tx.find_nodes(Label.AGENCY, _all(), first=10, with_total=True))
    assert page.total == 1
    assert page.items[0][1] == {"id": "stats", "name": "Statistics Office", "kind": "OFFICE"}


def test_get_nodes_returns_only_existing(store: GraphStore) -> None:
    add_agency(store, "a")
    add_agency(store, "b")

    found = store.read(lambda tx: tx.get_nodes(Label.AGENCY, ["a", "b", "zzz"]))

    assert sorted(found) == ["a", "b"]


def test_delete_removes_node_and_its_edges(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        tx.create_node(Label.AGENCY, "health", {"name": "Health"})
        tx.create_node(Label.PERSON, "p1", {"name": "P", "agency_id": "health"})
        tx.merge_edge(Rel.MEMBER_OF, "p1", "health")

    store.write(build)
    store.write(lambda tx: tx.delete_node(Label.PERSON, "p1"))

    assert store.read(lambda tx: tx.neighbors(Rel.MEMBER_OF, ["health"], "in")) == {"health": []}
    with pytest.raises(NotFound):
        store.write(lambda tx: tx.delete_node(Label.PERSON, "p1"))


def test_edges_merge_idempotently_and_list_both_ways(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        tx.create_node(Label.AGENCY, "health", {"name": "Health"})
        for pid in ("p2", "p1"):
            tx.create_node(Label.PERSON, pid, {"name": pid, "agency_id": "health"})
            tx.merge_edge(Rel.MEMBER_OF, pid, "health")
        tx.merge_edge(Rel.MEMBER_OF, "p1", "health")

    store.write(build)

    assert store.read(lambda tx: tx.neighbors(Rel.MEMBER_OF, ["health", "other"], "in")) == {
        "health": ["p1", "p2"],
        "other": [],
    }
    assert store.read(lambda tx: tx.neighbors(Rel.MEMBER_OF, ["p1"], "out")) == {"p1": ["health"]}


def test_edge_to_missing_endpoint_raises_not_found_naming_it(store: GraphStore) -> None:
    add_agency(store, "health")

    with pytest.raises(NotFound) as err:
        store.write(lambda tx: tx.merge_edge(Rel.MEMBER_OF, "ghost", "health"))

    assert (err.value.kind, err.value.id) == ("Person", "ghost")


def test_creating_a_node_and_drawing_an_edge_are_one_round_trip_each(store: GraphStore) -> None:
    """The store finds a taken id or a missing endpoint in the write itself, not in a look beforehand."""
    add_agency(store, "health")
    trips = []
    for work in (
        lambda tx: tx.create_node(Label.PERSON, "p1", {"name": "P", "agency_id": "health"}),
        lambda tx: tx.merge_edge(Rel.MEMBER_OF, "p1", "health"),
    ):
        before = store.round_trips
        store.write(work)
        trips.append(store.round_trips - before)

    assert trips == [1, 1]
    assert store.read(lambda tx: tx.neighbors(Rel.MEMBER_OF, ["health"], "in")) == {"health": ["p1"]}


def test_delete_edges_counts_what_it_removed(store: GraphStore) -> None:
    def build(tx: GraphTx) -> None:
        tx.create_node(Label.AGENCY, "health", {"name": "Health"})
        for pid in ("p1", "p2"):
            tx.create_node(Label.PERSON, pid, {"name": pid})
            tx.merge_edge(Rel.MEMBER_OF, pid, "health")

    store.write(build)

    removed = store.write(lambda tx: tx.delete_edges(Rel.MEMBER_OF, target="health"))

    assert removed == 2
    assert store.read(lambda tx: tx.neighbors(Rel.MEMBER_OF, ["p1", "p2"], "out")) == {"p1": [], "p2": []}


def test_failing_multi_entity_write_leaves_nothing_behind(store: GraphStore) -> None:
    add_agency(store, "health")

    def partial(tx: GraphTx) -> None:
        tx.create_node(Label.PERSON, "p1", {"name": "P"})
        tx.merge_edge(Rel.MEMBER_OF, "p1", "health")
        tx.create_node(Label.DATASET, "d1", {"title": "T"})
        tx.create_node(Label.AGENCY, "health", {"name": "duplicate"})  # fails: already exists

    with pytest.raises(AlreadyExists):
        store.write(partial)

    assert store.read(lambda tx: tx.get_node(Label.PERSON, "p1")) is None
    assert store.read(lambda tx: tx.get_node(Label.DATASET, "d1")) is None
    assert store.read(lambda tx: tx.neighbors(Rel.MEMBER_OF, ["health"], "in")) == {"health": []}


def test_a_non_catalog_exception_also_rolls_back(store: GraphStore) -> None:
    def boom(tx: GraphTx) -> None:
        tx.create_node(Label.AGENCY, "a", {"name": "A"})
        raise RuntimeError("the service layer found a problem")

    with pytest.raises(RuntimeError):
        store.write(boom)

    assert store.read(lambda tx: tx.get_node(Label.AGENCY, "a")) is None


def test_sequences_count_from_one_and_roll_back_with_the_transaction(store: GraphStore) -> None:
    assert store.write(lambda tx: tx.next_sequence("audit")) == 1
    assert store.write(lambda tx: tx.next_sequence("audit")) == 2
    assert store.write(lambda tx: tx.next_sequence("other")) == 1

    def burn(tx: GraphTx) -> None:
        tx.next_sequence("audit")
        raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        store.write(burn)

    assert store.write(lambda tx: tx.next_sequence("audit")) == 3


def test_a_sequence_is_read_without_moving_it(store: GraphStore) -> None:
    assert store.read(lambda tx: tx.current_sequence("audit")) is None  # never used
    store.write(lambda tx: tx.next_sequence("audit"))
    store.write(lambda tx: tx.next_sequence("audit"))

    assert store.read(lambda tx: tx.current_sequence("audit")) == 2
    assert store.read(lambda tx: tx.current_sequence("audit")) == 2
    assert store.read(lambda tx: tx.current_sequence("other")) is None
    assert store.write(lambda tx: tx.next_sequence("audit")) == 3


def test_holding_a_sequence_lets_one_holder_at_a_time_and_loses_no_number(store: GraphStore) -> None:
    store.write(lambda tx: tx.next_sequence("audit"))
    taken: list[tuple[str, int]] = []
    held = threading.Event()

    def first(tx: GraphTx) -> None:
        tx.hold_sequence("audit")
        tx.get_node(Label.AGENCY, "a")  # the hold is taken at the latest with the next statement
        held.set()
        time.sleep(0.3)  # the second writer asks for the head meanwhile, and must wait for this commit
        taken.append(("first", tx.next_sequence("audit")))

    def second(tx: GraphTx) -> None:
        tx.hold_sequence("audit")  # must not write back a value it read before the first committed
        taken.append(("second", tx.next_sequence("audit")))

    holder = threading.Thread(target=store.write, args=(first,))
    holder.start()
    assert held.wait(10)
    store.write(second)
    holder.join(10)

    assert taken == [("first", 2), ("second", 3)]
    assert store.read(lambda tx: tx.current_sequence("audit")) == 3


def test_holding_a_sequence_costs_no_round_trip_of_its_own(store: GraphStore) -> None:
    store.write(lambda tx: tx.next_sequence("audit"))

    def trips(work: Callable[[GraphTx], object], *, hold: bool) -> tuple[object, int]:
        def unit(tx: GraphTx) -> object:
            if hold:
                tx.hold_sequence("audit")
            return work(tx)

        before = store.round_trips
        result = store.write(unit)
        return result, store.round_trips - before

    def read_two_kinds(tx: GraphTx) -> object:
        return tx.get_many({Label.AGENCY: ["a"], Label.DATASET: ["d"]})

    assert trips(lambda tx: tx.next_sequence("audit"), hold=True) == (2, trips(lambda tx: 0, hold=False)[1] + 1)
    assert trips(read_two_kinds, hold=True) == trips(read_two_kinds, hold=False)
    assert trips(lambda tx: tx.get_node(Label.AGENCY, "a"), hold=True)[1] == 1
    assert store.read(lambda tx: tx.current_sequence("audit")) == 2  # holding never advances it


def test_advancing_a_sequence_reads_the_record_numbered_before_it(store: GraphStore) -> None:
    def advance(tx: GraphTx) -> tuple[int, Props | None]:
        return tx.advance_sequence("audit", Label.AGENCY)

    assert store.write(advance) == (1, None)  # nothing before the first
    store.write(lambda tx: tx.create_node(Label.AGENCY, sequence_id(2), {"name": "second"}))
    assert store.write(advance) == (2, None)  # number 1 was never stored
    before = store.round_trips
    value, previous = store.write(advance)
    assert value == 3 and previous is not None and previous["name"] == "second"
    if not store.in_process:
        assert store.round_trips - before == 1  # the counter and the head in one statement

    def burn(tx: GraphTx) -> None:
        tx.advance_sequence("audit", Label.AGENCY)
        raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        store.write(burn)
    assert store.read(lambda tx: tx.current_sequence("audit")) == 3


def test_round_trips_are_counted(store: GraphStore) -> None:
    before = store.round_trips
    store.read(lambda tx: tx.get_nodes(Label.AGENCY, ["a", "b", "c"]))
    assert store.round_trips - before == 1


def _all() -> object:
    from catalog.store.query import TRUE

    return TRUE


def _agency_with_members(tx: GraphTx) -> None:
    tx.create_node(Label.AGENCY, "health", {"name": "Health"})
    tx.create_node(Label.DATASET, "ds", {"title": "DS", "owner_agency_id": "health"})
    for pid in ("p2", "p1"):
        tx.create_node(Label.PERSON, pid, {"name": pid, "agency_id": "health"})


def test_get_many_reads_several_labels_in_one_round_trip(store: GraphStore) -> None:
    store.write(_agency_with_members)

    before = store.round_trips
    found = store.read(
        lambda tx: tx.get_many({Label.PERSON: ["p1", "ghost", "p1"], Label.AGENCY: ["health"], Label.DATASET: []})
    )

    assert store.round_trips - before == 1
    assert found == {
        Label.PERSON: {"p1": {"id": "p1", "name": "p1", "agency_id": "health"}},
        Label.AGENCY: {"health": {"id": "health", "name": "Health"}},
        Label.DATASET: {},
    }


def test_merge_edges_writes_edges_of_several_types_idempotently(store: GraphStore) -> None:
    store.write(_agency_with_members)
    edges = [
        (Rel.MEMBER_OF, "p1", "health"),
        (Rel.MEMBER_OF, "p2", "health"),
        (Rel.STEWARD_OF, "p1", "ds"),
        (Rel.OWNED_BY, "ds", "health"),
    ]

    store.write(lambda tx: tx.merge_edges(edges))
    store.write(lambda tx: tx.merge_edges(edges[:2]))

    got = store.read(
        lambda tx: tx.neighbors_many(
            ["health", "ds"], [(Rel.MEMBER_OF, "in"), (Rel.STEWARD_OF, "in"), (Rel.OWNED_BY, "in")]
        )
    )
    assert got == [
        {"health": ["p1", "p2"], "ds": []},
        {"health": [], "ds": ["p1"]},
        {"health": ["ds"], "ds": []},
    ]


def test_merge_edges_to_a_missing_endpoint_names_it_and_writes_none(store: GraphStore) -> None:
    store.write(_agency_with_members)

    with pytest.raises(NotFound) as err:
        store.write(lambda tx: tx.merge_edges([(Rel.MEMBER_OF, "p1", "health"), (Rel.STEWARD_OF, "ghost", "ds")]))

    assert (err.value.kind, err.value.id) == ("Person", "ghost")
    assert store.read(lambda tx: tx.neighbors(Rel.MEMBER_OF, ["health"], "in")) == {"health": []}


def test_neighbors_many_is_one_round_trip(store: GraphStore) -> None:
    store.write(_agency_with_members)

    before = store.round_trips
    store.read(lambda tx: tx.neighbors_many(["health"], [(Rel.MEMBER_OF, "in"), (Rel.OWNED_BY, "in")]))
    trips = store.round_trips - before

    assert trips == 1


def test_create_nodes_writes_nodes_and_their_edges_in_one_round_trip(store: GraphStore) -> None:
    store.write(_agency_with_members)

    before = store.round_trips
    store.write(
        lambda tx: tx.create_nodes(
            [(Label.DATASET, "ds2", {"title": "Two"}), (Label.PERSON, "p3", {"name": "p3"})],
            [(Rel.OWNED_BY, "ds2", "health"), (Rel.STEWARD_OF, "p3", "ds2"), (Rel.MEMBER_OF, "p3", "health")],
        )
    )
    trips = store.round_trips - before

    assert trips == 1 or store.in_process  # an in-process store has no round trips to save
    assert store.read(lambda tx: tx.get_node(Label.DATASET, "ds2")) == {"id": "ds2", "title": "Two"}
    assert store.read(lambda tx: tx.neighbors_many(["ds2"], [(Rel.STEWARD_OF, "in"), (Rel.OWNED_BY, "out")])) == [
        {"ds2": ["p3"]},
        {"ds2": ["health"]},
    ]


def test_create_nodes_with_a_taken_id_names_it_and_writes_nothing(store: GraphStore) -> None:
    store.write(_agency_with_members)

    with pytest.raises(AlreadyExists) as err:
        store.write(
            lambda tx: tx.create_nodes(
                [(Label.DATASET, "fresh", {"title": "Fresh"}), (Label.PERSON, "p2", {"name": "again"})],
                [(Rel.OWNED_BY, "fresh", "health")],
            )
        )

    assert (err.value.kind, err.value.id) == ("Person", "p2")
    assert store.read(lambda tx: tx.get_nodes(Label.DATASET, ["fresh"])) == {}
    assert store.read(lambda tx: tx.get_node(Label.PERSON, "p2")) == {"id": "p2", "name": "p2", "agency_id": "health"}


def test_create_nodes_with_an_edge_to_a_missing_node_names_it_and_writes_nothing(store: GraphStore) -> None:
    store.write(_agency_with_members)

    with pytest.raises(NotFound) as err:
        store.write(
            lambda tx: tx.create_nodes(
                [(Label.DATASET, "fresh", {"title": "Fresh"})], [(Rel.OWNED_BY, "fresh", "nowhere")]
            )
        )

    assert (err.value.kind, err.value.id) == ("Agency", "nowhere")
    assert store.read(lambda tx: tx.get_nodes(Label.DATASET, ["fresh"])) == {}


def test_get_with_neighbors_reads_nodes_neighbors_and_extras_in_one_round_trip(store: GraphStore) -> None:
    store.write(_agency_with_members)
    store.write(
        lambda tx: tx.merge_edges(
            [(Rel.STEWARD_OF, "p2", "ds"), (Rel.STEWARD_OF, "p1", "ds"), (Rel.OWNED_BY, "ds", "health")]
        )
    )
    store.write(lambda tx: tx.create_node(Label.DATASET, "lonely", {"title": "Lonely"}))

    before = store.round_trips
    nodes, neighbors = store.read(
        lambda tx: tx.get_with_neighbors(
            Label.DATASET,
            ["ds", "lonely", "ghost"],
            [(Rel.STEWARD_OF, "in"), (Rel.OWNED_BY, "out"), (Rel.HAS_FIELD, "out")],
            also={Label.AGENCY: ["health"], Label.APPROVAL: ["none"]},
        )
    )
    trips = store.round_trips - before

    assert trips == 1
    assert neighbors == [
        {"ds": ["p1", "p2"], "lonely": [], "ghost": []},
        {"ds": ["health"], "lonely": [], "ghost": []},
        {"ds": [], "lonely": [], "ghost": []},
    ]
    assert nodes == {
        Label.DATASET: {
            "ds": {"id": "ds", "title": "DS", "owner_agency_id": "health"},
            "lonely": {"id": "lonely", "title": "Lonely"},
        },
        Label.PERSON: {
            "p1": {"id": "p1", "name": "p1", "agency_id": "health"},
            "p2": {"id": "p2", "name": "p2", "agency_id": "health"},
        },
        Label.AGENCY: {"health": {"id": "health", "name": "Health"}},
        Label.FIELD: {},
        Label.APPROVAL: {},
    }


def test_a_locked_record_makes_the_next_locker_wait_and_read_what_was_committed(store: GraphStore) -> None:
    store.write(lambda tx: tx.create_node(Label.AGENCY, "a", {"name": "A"}))
    seen: list[str] = []
    held = threading.Event()

    def first(tx: GraphTx) -> None:
        assert tx.get_node(Label.AGENCY, "a") is not None  # the transaction is under way before the lock is taken
        tx.lock(Label.AGENCY, "a")
        held.set()
        time.sleep(0.3)  # the second writer locks meanwhile, and must wait for this commit
        tx.update_node(Label.AGENCY, "a", {"name": "B"})

    def second(tx: GraphTx) -> None:
        tx.lock(Label.AGENCY, "a")
        props = tx.get_node(Label.AGENCY, "a")
        assert props is not None
        seen.append(str(props["name"]))
        tx.lock(Label.AGENCY, "nobody")  # nothing to hold: no error, nothing made

    holder = threading.Thread(target=store.write, args=(first,))
    holder.start()
    assert held.wait(10)
    store.write(second)
    holder.join(10)

    assert seen == ["B"]
    assert store.read(lambda tx: tx.get_node(Label.AGENCY, "a")) == {"id": "a", "name": "B"}  # the lock leaves no trace
    assert store.read(lambda tx: tx.get_node(Label.AGENCY, "nobody")) is None
