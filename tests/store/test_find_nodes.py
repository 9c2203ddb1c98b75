"""Store conformance: filtered, paginated lists (the predicate language). Runs on every backend."""

from __future__ import annotations

import pytest

from catalog.store import query as q
from catalog.store.base import GraphStore, GraphTx
from catalog.store.schema import Label, Rel

DATASETS = {
    "d-births": {
        "title": "Births register",
        "description": "Registered births by hospital",
        "classification": "PROTECTED",
        "owner_agency_id": "health",
        "tags": ["health", "births"],
        "status": "ACTIVE",
        "placeholder": False,
    },
    "d-clinics": {
        "title": "Clinic locations",
        "description": "Open data on community clinics",
        "classification": "PUBLIC",
        "owner_agency_id": "health",
        "tags": ["health", "geo"],
        "status": "ACTIVE",
    },
    "d-housing": {
        "title": "Housing assistance cases",
        "description": "Case records of housing support",
        "classification": "OFFICIAL_SENSITIVE",
        "owner_agency_id": "social",
        "tags": ["housing"],
        "status": "WITHDRAWN",
        "placeholder": False,
    },
    "d-pop": {
        "title": "Population estimates",
        "description": "Annual estimates by region",
        "classification": "PUBLIC",
        "owner_agency_id": "stats",
        "tags": ["census"],
        "status": "ACTIVE",
        "placeholder": True,
    },
}


@pytest.fixture
def landscape(store: GraphStore) -> GraphStore:
    def build(tx: GraphTx) -> None:
        for agency in ("health", "social", "stats"):
            tx.create_node(Label.AGENCY, agency, {"name": agency.title()})
        for id, props in DATASETS.items():
            tx.create_node(Label.DATASET, id, props)
            tx.merge_edge(Rel.OWNED_BY, id, props["owner_agency_id"])
        tx.create_node(Label.PERSON, "steward-1", {"name": "Sam", "agency_id": "social"})
        tx.merge_edge(Rel.STEWARD_OF, "steward-1", "d-housing")
        tx.create_node(Label.AGREEMENT, "agr-1", {"status": "ACTIVE", "recipient_agency_id": "stats"})
        tx.merge_edge(Rel.COVERS, "agr-1", "d-births")
        tx.merge_edge(Rel.RECIPIENT, "agr-1", "stats")
        tx.create_node(Label.AGREEMENT, "agr-2", {"status": "REVOKED", "recipient_agency_id": "stats"})
        tx.merge_edge(Rel.COVERS, "agr-2", "d-housing")
        tx.merge_edge(Rel.RECIPIENT, "agr-2", "stats")

    store.write(build)
    return store


def ids(store: GraphStore, where: q.Predicate, label: Label = Label.DATASET) -> list[str]:
    page = store.read(lambda tx: tx.find_nodes(label, where, first=100))
    return [id for id, _ in page.items]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (q.TRUE, ["d-births", "d-clinics", "d-housing", "d-pop"]),
        (q.FALSE, []),
        (q.Eq("classification", "PUBLIC"), ["d-clinics", "d-pop"]),
        (q.Eq("placeholder", True), ["d-pop"]),
        (q.In("classification", ("PROTECTED", "OFFICIAL_SENSITIVE")), ["d-births", "d-housing"]),
        (q.In("classification", ()), []),
        (q.Contains("tags", "health"), ["d-births", "d-clinics"]),
        (q.IdIn(("d-pop", "d-births", "nope")), ["d-births", "d-pop"]),
        (q.IdIn(()), []),
        (q.Not(q.Eq("status", "ACTIVE")), ["d-housing"]),
        (q.And((q.Eq("owner_agency_id", "health"), q.Eq("classification", "PUBLIC"))), ["d-clinics"]),
        (q.Or((q.Eq("owner_agency_id", "stats"), q.Contains("tags", "housing"))), ["d-housing", "d-pop"]),
        (q.Cmp("title", ">=", "Housing"), ["d-housing", "d-pop"]),
        (q.Eq("placeholder", None), ["d-clinics"]),  # an absent property is null
    ],
)
def test_property_predicates(landscape: GraphStore, where: q.Predicate, expected: list[str]) -> None:
    assert ids(landscape, where) == expected


def test_related_predicates_filter_inside_the_query(landscape: GraphStore) -> None:
    stewarded_by_sam = q.Related(Rel.STEWARD_OF, "in", q.IdIn(("steward-1",)))
    shared_with_stats = q.Related(
        Rel.COVERS, "in", q.And((q.Eq("status", "ACTIVE"), q.Related(Rel.RECIPIENT, "out", q.IdIn(("stats",)))))
    )

    assert ids(landscape, stewarded_by_sam) == ["d-housing"]
    assert ids(landscape, shared_with_stats) == ["d-births"]
    assert ids(landscape, q.Related(Rel.COVERS, "in")) == ["d-births", "d-housing"]
    assert ids(landscape, q.Or((stewarded_by_sam, shared_with_stats, q.Eq("classification", "PUBLIC")))) == [
        "d-births",
        "d-clinics",
        "d-housing",
        "d-pop",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("births", ["d-births"]),
        ("Births Hospital", ["d-births"]),  # words are ANDed, case-insensitive
        ("clin", ["d-clinics"]),  # prefix match
        ("geo", ["d-clinics"]),  # tags are indexed
        ("estimates region", ["d-pop"]),
        ("births housing", []),
        ("", ["d-births", "d-clinics", "d-housing", "d-pop"]),
        ('"; DROP TABLE nodes; -- (*) OR', []),  # special characters are just text
    ],
)
def test_full_text_search(landscape: GraphStore, query: str, expected: list[str]) -> None:
    assert ids(landscape, q.Text(query)) == expected


def test_full_text_follows_updates(landscape: GraphStore) -> None:
    landscape.write(lambda tx: tx.update_node(Label.DATASET, "d-pop", {"title": "Resident population"}))

    assert ids(landscape, q.Text("resident")) == ["d-pop"]
    assert ids(landscape, q.Text("estimates")) == ["d-pop"]  # description unchanged
    landscape.write(lambda tx: tx.delete_node(Label.DATASET, "d-pop"))
    assert ids(landscape, q.Text("resident")) == []


def test_pagination_walks_every_item_once(landscape: GraphStore) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = landscape.read(lambda tx, a=after: tx.find_nodes(Label.DATASET, q.TRUE, first=3, after=a))
        seen += [id for id, _ in page.items]
        pages += 1
        if not page.has_next:
            break
        after = page.end_cursor

    assert seen == ["d-births", "d-clinics", "d-housing", "d-pop"]
    assert pages == 2


def test_total_counts_all_matches_not_the_page(landscape: GraphStore) -> None:
    page = landscape.read(lambda tx: tx.find_nodes(Label.DATASET, q.TRUE, first=1, with_total=True))

    assert page.total == 4
    assert len(page.items) == 1
    assert page.has_next


def test_items_carry_their_properties(landscape: GraphStore) -> None:
    page = landscape.read(lambda tx: tx.find_nodes(Label.DATASET, q.IdIn(("d-pop",)), first=5))

    assert page.items[0][1]["title"] == "Population estimates"
    assert page.items[0][1]["tags"] == ["census"]
    assert page.items[0][1]["id"] == "d-pop"


def test_a_bound_predicate_answers_as_its_substitution_for_each_value_it_is_given(landscape: GraphStore) -> None:
    """One `Bound` part used with several values (as a reader's visibility is, with each read's time): every use
    answers for its own value, however the store compiles the part, and inside a Related or a Not as at the top."""
    later = "\x00later"
    part = q.Or((q.Cmp("title", ">=", later), q.Eq("classification", "PUBLIC")))
    shared_later = q.Related(Rel.COVERS, "in", q.Cmp("status", ">=", later))

    for value, expected in [("Housing", ["d-clinics", "d-housing", "d-pop"]), ("P", ["d-clinics", "d-pop"])]:
        assert ids(landscape, q.bound(part, later, value)) == expected
        assert ids(landscape, q.bound(part, later, value)) == ids(landscape, q.substitute(part, later, value))
        assert ids(landscape, q.Not(q.bound(part, later, value))) == sorted(set(DATASETS) - set(expected))
    assert ids(landscape, q.bound(shared_later, later, "A")) == ["d-births", "d-housing"]
    assert ids(landscape, q.bound(shared_later, later, "Q")) == ["d-housing"]  # REVOKED >= Q; ACTIVE is not
    # A Bound inside the part that binds the same placeholder keeps its own value.
    nested = q.And((q.bound(q.Cmp("title", ">=", later), later, "P"), q.Cmp("title", "<", later)))
    assert ids(landscape, q.bound(nested, later, "Q")) == ["d-pop"]
    assert q.bound(q.TRUE, later, "now") == q.TRUE


def test_a_list_property_is_asked_what_it_contains_and_never_compared_whole(landscape: GraphStore) -> None:
    """`LISTS`: no index serves a whole list, so comparing one (rather than asking Contains) is a programming error."""
    assert ids(landscape, q.Contains("tags", "health")) == ["d-births", "d-clinics"]
    for whole in (q.Eq("tags", "health"), q.Eq("tags", None), q.In("tags", ("health",)), q.Cmp("tags", ">", "a")):
        with pytest.raises(AssertionError, match="is a list: ask Contains"):
            ids(landscape, whole)
