"""Query limits protect the store: depth, aliases, cost, body size and introspection are all configurable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import specified_rules
from starlette.testclient import TestClient

from bench.limits import alias_flood, doubling_bomb, repeated_field
from catalog.api.app import create_app
from catalog.api.documents import DocumentPreparer
from catalog.api.schema import schema
from catalog.config import ApiSettings
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
