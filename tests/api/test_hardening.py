"""HTTP hardening: security headers on every page, a bounded Authorization header, no store address in a client's
error, and decision logs that keep personal values out of the server log."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.audit.chain import digest
from catalog.config import Settings
from catalog.policy.attributes import Environment, RequestAttributes, Resource, Subject
from catalog.policy.engine import PolicyEngine
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.neo4j import Neo4jStore
from catalog.store.sqlite import SqliteStore
from tests.conftest import REPO
from tests.e2e.conftest import free_port

PAGES = ["/", "/datasets", "/signin", "/datasets/clinics", "/datasets/clinics/lineage", "/datasets/nothing-here"]


@pytest.mark.parametrize("path", [*PAGES, "/static/catalog.css", "/graphql", "/healthz"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path, headers={"Accept": "text/html"}).headers

    policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("path", PAGES)
def test_pages_hold_no_inline_script_handler_or_style(client: TestClient, path: str) -> None:
    html = client.get(path).text

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"\son[a-z]+\s*=", html) == []
    assert re.findall(r"\sstyle\s*=|<style", html) == []


def test_graphiql_loads_no_inline_script(client: TestClient) -> None:
    html = client.get("/graphql", headers={"Accept": "text/html"}).text

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_an_oversized_authorization_header_is_refused_naming_it(client: TestClient) -> None:
    huge = {"Authorization": "Bearer " + "x" * 1_000_000}

    response = client.post("/graphql", json={"query": "{ me { id } }"}, headers=huge)

    assert response.status_code == 431
    assert "Authorization" in response.text and "CATALOG_API__MAX_AUTHORIZATION_BYTES" in response.text


@pytest.fixture(params=["sqlite", "neo4j"])
def unreachable(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings) -> tuple[GraphStore, str]:
    """A store that cannot be used, and the address it would show."""
    if request.param == "sqlite":
        return SqliteStore(tmp_path), str(tmp_path)  # a folder is no database file
    address = f"bolt://127.0.0.1:{free_port()}"
    closed = Neo4jStore(address)
    closed.close()  # every call fails at once, as calls to a server that is down do once the driver gives up
    return closed, address.removeprefix("bolt://")


def test_unavailable_answers_keep_the_store_address_in_the_log(
    unreachable: tuple[GraphStore, str], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    store, address = unreachable
    with TestClient(create_app(Services(store, settings)), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        answer = client.post("/graphql", json={"query": "{ datasets { totalCount } }"})
        page = client.get("/datasets")

    assert ready.status_code == 503 and answer.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    for response in (ready, answer, page):
        assert address not in response.text
    assert address in caplog.text


def test_decisions_are_logged_at_debug_with_personal_values_digested(caplog: pytest.LogCaptureFixture) -> None:
    engine = PolicyEngine(REPO / "policies")
    logging.getLogger("casbin.enforcer").disabled = False  # as uvicorn's logging set-up leaves it
    request = RequestAttributes(
        Subject("alice.health", "health", ["ANALYST"]), Resource("health.admissions"), Environment("access")
    )

    with caplog.at_level(logging.DEBUG):
        engine.decide(request)

    assert [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG] == []
    debug = "\n".join(r.getMessage() for r in caplog.records)
    assert "alice.health" not in debug and digest("alice.health")[:12] in debug
    assert "health.admissions" in debug and "DENY" in debug
