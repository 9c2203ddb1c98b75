"""Query limits protect the store: depth, aliases, cost, body size and introspection are all configurable."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from graphql import specified_rules
from starlette.testclient import TestClient

from bench.limits import alias_flood, doubling_bomb, repeated_field
from catalog.api.app import create_app
from catalog.api.documents import DocumentPreparer
from catalog.api.limits import _Measure
from catalog.api.schema import schema
from catalog.config import ApiSettings
from catalog.errors import LimitExceeded
from catalog.services import Services

STORE_HOLD_S = 60.0


@pytest.fixture
def strict(services: Services) -> Iterator[TestClient]:
    api = services.ctx.settings.api
    api.max_depth, api.max_aliases, api.max_cost, api.max_body_bytes, api.introspection = 4, 2, 200, 400, False
    with TestClient(create_app(services)) as client:
        yield client


def error_of(client: TestClient, query: str) -> str:
    body = client.post("/graphql", json={"query": query}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    return str(body["errors"][0]["message"])


def test_too_deep_names_the_setting(strict: TestClient) -> None:
    query = "{ agencies { edges { node { members { agency { name } } } } } }"

    assert "CATALOG_API__MAX_DEPTH" in error_of(strict, query)


def test_depth_through_fragments_counts(strict: TestClient) -> None:
    query = "{ agencies { ...E } } fragment E on AgencyConnection { edges { node { members { agency { id } } } } }"

    assert "CATALOG_API__MAX_DEPTH" in error_of(strict, query)


def test_too_many_aliases(strict: TestClient) -> None:
    assert "CATALOG_API__MAX_ALIASES" in error_of(strict, "{ a: me { id } b: me { id } c: me { id } }")


def test_cost_multiplies_by_page_size(strict: TestClient) -> None:
    cheap = strict.post("/graphql", json={"query": "{ datasets(first: 5) { edges { node { id title } } } }"})
    costly = "{ datasets(first: 100) { edges { node { id title } } } }"

    assert "errors" not in cheap.json()
    assert "CATALOG_API__MAX_COST" in error_of(strict, costly)


def test_body_over_the_limit_is_413(strict: TestClient) -> None:
    padding = " " * 500
    response = strict.post("/graphql", json={"query": "{ me { id } }" + padding})

    assert response.status_code == 413
    assert "CATALOG_API__MAX_BODY_BYTES" in response.json()["errors"][0]["message"]


def test_introspection_can_be_disabled(strict: TestClient) -> None:
    assert "introspection" in error_of(strict, "{ __schema { types { name } } }").lower()


def test_introspection_is_on_by_default(client: TestClient) -> None:
    body = client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"}).json()

    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_page_size_over_the_maximum_is_refused(client: TestClient) -> None:
    body = client.post("/graphql", json={"query": "{ datasets(first: 101) { totalCount } }"}).json()

    assert body["errors"][0]["extensions"]["field"] == "first"


def test_a_request_over_the_time_limit_is_cut_off(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # The read holds until the request has been answered, so the limit is what ends it. (A limit shorter than
    # the clock's resolution cancelled the request before its resolvers started: a coroutine never awaited.)
    answered = threading.Event()

    def held_read(*args: Any, **kwargs: Any) -> Any:
        answered.wait(STORE_HOLD_S)
        raise AssertionError("the request was not cut off while its read was held")

    monkeypatch.setattr(services.reads, "datasets", held_read)
    services.ctx.settings.api.request_timeout_s = 0.05
    with TestClient(create_app(services)) as client:
        response = client.post("/graphql", json={"query": "{ datasets { totalCount } }"})
        answered.set()

    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert "CATALOG_API__REQUEST_TIMEOUT_S" in response.json()["errors"][0]["message"]


# Abusive documents: each is refused before any work grows with it. The timeout bounds a refusal that would
# otherwise block for a long time: expanding every fragment, the 24-level doubling bomb took about a minute here.
@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("document", "setting"),
    [
        (doubling_bomb(24), "CATALOG_API__MAX_COST"),
        (alias_flood(40_000), "CATALOG_API__MAX_TOKENS"),
        (repeated_field(1_000), "CATALOG_API__MAX_FIELD_REPEATS"),
    ],
    ids=["doubling-bomb", "alias-flood", "repeated-field"],
)
def test_an_abusive_document_is_refused_naming_the_limit(client: TestClient, document: str, setting: str) -> None:
    assert setting in error_of(client, document)


def test_parsed_documents_are_kept_within_a_byte_budget() -> None:
    preparer = DocumentPreparer(schema.graphql_schema, ApiSettings(parse_cache_bytes=300_000), list(specified_rules))
    padding = "x" * 20_000

    for i in range(40):  # 800 KB of distinct documents
        document, errors = preparer.prepare(f'{{ dataset(id: "{i}{padding}") {{ id }} }}', {})
        assert document is not None and errors == ()

    assert 0 < preparer.cache.bytes <= 300_000
    assert len(preparer.cache) < 40


PAGED = "query($n: Int) { datasets(first: $n) { edges { node { id title } } } }"  # costs 1 + 4n
COSTLY = "CATALOG_API__MAX_COST"


def counted_walks(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many selection sets the limits pass has walked so far."""
    walked = 0
    walk = _Measure.selection_set

    def counting(self: _Measure, selection_set: Any, depth: int) -> Any:
        nonlocal walked
        walked += 1
        return walk(self, selection_set, depth)

    monkeypatch.setattr(_Measure, "selection_set", counting)
    return lambda: walked


def preparer_with(**limits: Any) -> DocumentPreparer:
    return DocumentPreparer(schema.graphql_schema, ApiSettings(**limits), list(specified_rules))


def test_a_document_that_reads_no_variable_is_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    walks, preparer = counted_walks(monkeypatch), preparer_with()
    query = "query($id: ID!) { dataset(id: $id) { id title } }"

    preparer.prepare(query, {"id": "clinics"})
    once = walks()
    for id in ("admissions", "waiting", "clinics"):
        assert preparer.prepare(query, {"id": id})[1] == ()

    assert once > 0 and walks() == once


def test_a_page_size_variable_is_measured_for_each_value_it_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    walks, preparer = counted_walks(monkeypatch), preparer_with(max_cost=200)

    assert preparer.prepare(PAGED, {"n": 5})[1] == ()
    with pytest.raises(LimitExceeded, match=COSTLY) as over:
        preparer.prepare(PAGED, {"n": 100})
    measured = walks()
    assert preparer.prepare(PAGED, {"n": 5})[1] == ()
    with pytest.raises(LimitExceeded) as again:
        preparer.prepare(PAGED, {"n": 100})

    assert again.value.message == over.value.message and walks() == measured  # both remembered
    assert preparer.prepare(PAGED, {"n": 49})[1] == ()  # 197: a value not seen yet is measured
    assert walks() > measured


def test_a_refused_page_size_does_not_refuse_a_smaller_one_after_it() -> None:
    preparer = preparer_with(max_cost=200)

    with pytest.raises(LimitExceeded, match=COSTLY):
        preparer.prepare(PAGED, {"n": 50})  # 201
    assert preparer.prepare(PAGED, {"n": 49})[1] == ()
    assert preparer.prepare(PAGED, {})[1] == ()  # the default page, 20
    with pytest.raises(LimitExceeded, match=COSTLY):
        preparer.prepare(PAGED, {"n": 50})


def test_outcomes_kept_for_one_document_are_bounded_and_stay_right() -> None:
    preparer = preparer_with(max_cost=200)

    for n in range(1, 100):
        if 1 + 4 * n > 200:
            with pytest.raises(LimitExceeded, match=COSTLY):
                preparer.prepare(PAGED, {"n": n})
        else:
            assert preparer.prepare(PAGED, {"n": n})[1] == ()

    prepared = preparer.cache.get(PAGED)
    assert prepared is not None and 0 < len(prepared.limits) <= 32


def test_a_limit_changed_after_a_document_was_measured_applies_to_it() -> None:
    preparer = preparer_with(max_cost=200)
    assert preparer.prepare(PAGED, {"n": 40})[1] == ()  # 161

    preparer.settings.max_cost = 100

    with pytest.raises(LimitExceeded, match=COSTLY):
        preparer.prepare(PAGED, {"n": 40})
