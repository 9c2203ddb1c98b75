"""One gate: a lookup by id and the list agree on what each principal may see, and lists page correctly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from catalog.config import Settings, load_settings
from catalog.principal import SYSTEM
from catalog.services import Services
from tests.support.graphql import trips_of

Gql = Callable[..., dict[str, Any]]
ALL = ["admissions", "cases", "clinics", "population", "waiting"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Round trips are counted here, so every request reads its person: with the person cache on, a loaded
    machine could cross the cache's expiry between two counts and see one read more (it did, once, on CI). And the
    webhook outbox is not polled while the test runs: a poll a second, on a loaded machine, landed between two
    counts (twice, in one run with two test workers)."""
    return load_settings(
        store=f"sqlite:///{tmp_path / 'catalog.db'}",
        auth={"person_cache_s": 0},
        webhooks={"poll_interval_s": 3600},
    )


def listed(gql: Gql, as_: str | None) -> list[str]:
    body = gql("{ datasets(first: 50) { edges { node { id } } } }", as_=as_)
    return [edge["node"]["id"] for edge in body["data"]["datasets"]["edges"]]


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        (None, ["clinics", "population"]),  # anonymous: PUBLIC only
        # OFFICIAL and below + own agency. Not "waiting": OFFICIAL itself, but derived from PROTECTED admissions
        # through an unattested aggregation, so its effective classification is PROTECTED.
        ("analyst.social", ["cases", "clinics", "population"]),
        ("steward.health", ["admissions", "clinics", "population", "waiting"]),  # + own agency and stewarded
        ("auditor", ALL),
        ("admin", ALL),
    ],
)
def test_lists_show_what_policy_allows(gql: Gql, person: str | None, expected: list[str]) -> None:
    assert listed(gql, person) == sorted(expected)


@pytest.mark.parametrize("person", [None, "analyst.social", "steward.health", "auditor"])
def test_lookup_by_id_agrees_with_the_list(gql: Gql, person: str | None) -> None:
    visible = set(listed(gql, person))
    for dataset_id in ALL:
        body = gql("query($id: ID!) { dataset(id: $id) { id } }", {"id": dataset_id}, as_=person)
        if dataset_id in visible:
            assert body["data"]["dataset"] == {"id": dataset_id}
        else:
            # Hidden looks exactly like missing: no hint that the dataset exists.
            assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            assert body["errors"][0]["message"] == f"Dataset '{dataset_id}' not found"


def test_filters_combine_with_visibility(gql: Gql) -> None:
    query = '{ datasets(filter: {text: "hospital"}) { totalCount edges { node { id } } } }'

    assert gql(query, as_="admin")["data"]["datasets"]["totalCount"] == 2
    assert gql(query, as_=None)["data"]["datasets"]["totalCount"] == 0
    by_tag = gql('{ datasets(filter: {tag: "health", agencyId: "health"}) { edges { node { id } } } }')
    assert [e["node"]["id"] for e in by_tag["data"]["datasets"]["edges"]] == ["admissions", "clinics"]


def test_cursor_pagination_visits_every_dataset_once(gql: Gql) -> None:
    seen: list[str] = []
    after = None
    while True:
        body = gql(
            "query($after: String) { datasets(first: 2, after: $after) { edges { node { id } } "
            "pageInfo { hasNextPage endCursor } } }",
            {"after": after},
        )
        page = body["data"]["datasets"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == ALL


def test_a_forged_cursor_is_bad_input(gql: Gql) -> None:
    body = gql('{ datasets(after: "bm90LWEtY3Vyc29y") { totalCount } }')

    assert body["errors"][0]["extensions"]["field"] == "after"


def test_related_objects_load_in_a_constant_number_of_round_trips(gql: Gql, services: Services) -> None:
    for i in range(40):
        services.registration.register_dataset(
            SYSTEM,
            {
                "id": f"bulk-{i:02d}",
                "title": f"Bulk {i}",
                "owner_agency_id": ("health", "social")[i % 2],
                "classification": "OFFICIAL",
            },
        )
    query = "{ datasets(first: 50) { edges { node { stewards { agency { name } } owner { name } fields { name } } } } }"

    assert len(gql(query)["data"]["datasets"]["edges"]) == 45
    trips = trips_of(gql, services, query)
    assert trips <= 8, f"{trips} store round trips for one page: related objects are not batched"


def test_lists_count_every_match_only_when_totalcount_is_asked(gql: Gql, services: Services) -> None:
    page_only = "{ datasets(first: 2) { edges { node { id } } } }"
    by_fragment = "{ datasets(first: 2) { ...Counted } } fragment Counted on DatasetConnection { totalCount }"
    inline = "{ datasets(first: 2) { ... on DatasetConnection { totalCount } edges { node { id } } } }"

    assert len(gql(page_only, as_="auditor")["data"]["datasets"]["edges"]) == 2
    assert gql(by_fragment, as_="auditor")["data"]["datasets"] == {"totalCount": len(ALL)}
    assert gql(inline, as_="auditor")["data"]["datasets"]["totalCount"] == len(ALL)
    assert trips_of(gql, services, by_fragment) == trips_of(gql, services, page_only) + 1, (
        "totalCount is one extra count query, and only when it is selected"
    )
