"""In-process pages on a fresh store on each backend, loaded with the demo landscape, and a browser-like client
that signs in through the sign-in form (CSRF token and all)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.services.audit_trail import verify_store, written_count
from catalog.store.base import GraphStore

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def post_form(browser: TestClient, page_url: str, action: str, **fields: Any) -> Any:
    """Open `page_url` as whoever is signed in and post its form's CSRF token, with `fields`, to `action`."""
    page = browser.get(page_url)
    return browser.post(action, data={"csrf_token": csrf_of(page.text), **fields})


@contextmanager
def nothing_written(services: Services, why: str = "nothing was recorded") -> Iterator[None]:
    """Fails unless the block appends no audit event: the writers' sequence has not moved when it ends."""
    before = written_count(services.store)
    yield
    assert written_count(services.store) == before, why


@pytest.fixture
def demo_services(store: GraphStore) -> Services:
    """The demo landscape on the test's store. Small pages, so paging shows with nine datasets."""
    services = Services(store, load_settings(store="sqlite:///unused.db", api={"default_page_size": 4}))
    load_demo(services)
    return services


@pytest.fixture
def browser(demo_services: Services) -> Iterator[TestClient]:
    """A client that keeps cookies like a browser, on the app `catalog serve` runs."""
    with TestClient(create_app(demo_services), raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


@pytest.fixture
def sign_in(browser: TestClient, demo_services: Services) -> Callable[[str], Any]:
    """Sign in as a demo person through the token form; returns the response to the POST."""

    def as_person(person_id: str) -> Any:
        token = issue_token(demo_services.reads.person(SYSTEM, person_id), demo_services.ctx.settings.auth)
        form = browser.get("/signin")
        response = browser.post("/signin", data={"csrf_token": csrf_of(form.text), "token": token, "next": "/"})
        assert response.status_code == 303, response.text
        return response

    return as_person


@pytest.fixture
def audit_trail_verifies(browser: TestClient, demo_services: Services) -> Iterator[None]:
    """After the test, the audit trail must verify. (Checked while `browser` still holds the store open: closing
    the app closes the store.) A module whose every test must leave the trail intact uses it for all of them."""
    yield
    assert verify_store(demo_services.store).intact
