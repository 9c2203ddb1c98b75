"""What every HTTP request passes through before its route: a bounded Authorization header, a request id, the
bookmark's causal scope, and the headers every response gets (security headers, X-Request-ID, the bookmark)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.client import BOOKMARK_HEADER
from catalog.errors import InvalidInput
from catalog.services import Services
from catalog.store.base import current_causality

SECURITY = ["content-security-policy", "x-content-type-options", "referrer-policy"]
READ = {"query": "{ datasets { totalCount } }"}
REGISTER = "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { id } }"
BEDS = {"id": "beds", "title": "Hospital beds", "ownerAgencyId": "health", "classification": "OFFICIAL"}


@pytest.fixture
def bookmarked(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The services on a store that takes bookmarks: "bad" is no bookmark, and every write answers "bm-1"."""
    store = services.store
    write = store.write

    def refuse_bad(bookmark: str, name: str = "bookmark") -> None:
        if bookmark == "bad":
            raise InvalidInput(name, "is not a bookmark of this store")

    def write_with_bookmark(work: Callable[..., Any]) -> Any:
        done = write(work)
        causality = current_causality()
        assert causality is not None
        causality.latest = "bm-1"
        return done

    monkeypatch.setattr(store, "supports_bookmarks", True)
    monkeypatch.setattr(store, "check_bookmark", refuse_bad)
    monkeypatch.setattr(store, "write", write_with_bookmark)
    return services


def test_an_oversized_authorization_is_refused_first_with_the_security_headers_alone(bookmarked: Services) -> None:
    huge = {"Authorization": "Bearer " + "x" * 10_000, "X-Request-ID": "trace-1", BOOKMARK_HEADER: "bad"}
    with TestClient(create_app(bookmarked)) as client:
        response = client.post("/graphql", json=READ, headers=huge)

    assert response.status_code == 431  # not the bookmark's 400: nothing else has looked at the request
    assert [name for name in SECURITY if name in response.headers] == SECURITY
    assert "x-request-id" not in response.headers and BOOKMARK_HEADER not in response.headers


def test_a_bad_bookmark_is_refused_naming_the_request_id(bookmarked: Services) -> None:
    with TestClient(create_app(bookmarked)) as client:
        response = client.post("/graphql", json=READ, headers={"X-Request-ID": "trace-2", BOOKMARK_HEADER: "bad"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["requestId"] == "trace-2"
    assert response.headers["x-request-id"] == "trace-2"
    assert [name for name in SECURITY if name in response.headers] == SECURITY
    assert BOOKMARK_HEADER not in response.headers


def test_only_a_request_that_wrote_answers_a_bookmark(bookmarked: Services, token: Callable[[str], str]) -> None:
    admin = {"Authorization": f"Bearer {token('admin')}", BOOKMARK_HEADER: "bm-0"}
    with TestClient(create_app(bookmarked)) as client:
        read = client.post("/graphql", json=READ, headers=admin)
        wrote = client.post("/graphql", json={"query": REGISTER, "variables": {"i": BEDS}}, headers=admin)

    assert read.status_code == 200 and BOOKMARK_HEADER not in read.headers
    assert wrote.json()["extensions"] == {"bookmark": "bm-1"}
    assert wrote.headers[BOOKMARK_HEADER] == "bm-1"


def test_the_response_headers_are_edited_in_one_order(bookmarked: Services, token: Callable[[str], str]) -> None:
    """The bookmark, then the request id, then the security headers the response did not set: after its own."""
    admin = {"Authorization": f"Bearer {token('admin')}", "X-Request-ID": "trace-3"}
    with TestClient(create_app(bookmarked)) as client:
        wrote = client.post("/graphql", json={"query": REGISTER, "variables": {"i": BEDS}}, headers=admin)

    names = list(wrote.headers.keys())
    assert wrote.status_code == 200 and names[-5:] == [BOOKMARK_HEADER.lower(), "x-request-id", *SECURITY]


def test_a_response_that_sets_a_security_header_keeps_it(client: TestClient) -> None:
    page = client.get("/datasets/clinics/lineage.svg")

    assert page.status_code == 200
    assert page.headers.get_list("content-security-policy") == [page.headers["content-security-policy"]]
    assert "'unsafe-inline'" in page.headers["content-security-policy"]  # the drawing's own policy, not the pages'
