"""The session cookie and CSRF protection: every POST needs the session's token, the cookie is HTTP-only and
SameSite, Secure over https, and a token that stops verifying ends the session."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import TokenVerifier
from catalog.config import AuthSettings
from catalog.domain import utcnow
from catalog.principal import SYSTEM
from catalog.services import DecisionFilter, Services
from catalog.services.web_sessions import WebSessions
from catalog.store.base import GraphStore
from catalog.store.query import TRUE
from catalog.store.schema import Label
from catalog.web.session import COOKIE, safe_next
from tests.web.conftest import csrf_of


def post_routes(client: TestClient) -> list[str]:
    return [r.path for r in client.app.routes if isinstance(r, Route) and "POST" in (r.methods or set())]  # type: ignore[attr-defined]


def test_every_page_post_is_refused_without_the_sessions_csrf_token(browser: TestClient, sign_in: Any) -> None:
    sign_in("auditor")
    pages = [p.replace("{id:path}", "health.admissions") for p in post_routes(browser) if not p.startswith("/graphql")]
    pages = [p for p in pages if not p.startswith("/api/")]

    missing = {p: browser.post(p, data={"purpose": "RESEARCH"}).status_code for p in pages}
    wrong = {p: browser.post(p, data={"csrf_token": "forged"}).status_code for p in pages}
    still_signed_in = browser.get("/")

    assert set(pages) >= {"/signin", "/signout", "/datasets/health.admissions/access-check"}
    assert set(missing.values()) == {403} and set(wrong.values()) == {403}
    assert "Signed in as" in still_signed_in.text, "a refused sign-out did not sign out"


def test_a_refused_post_writes_nothing(browser: TestClient, sign_in: Any, demo_services: Services) -> None:
    sign_in("rui.uni")
    mine = DecisionFilter(requester="rui.uni")
    before = demo_services.access.list(SYSTEM, mine, 100, None).items  # the demo's story includes rui's refusals

    response = browser.post(
        "/datasets/health.admissions-deid/access-check", data={"csrf_token": "forged", "purpose": "RESEARCH"}
    )

    assert response.status_code == 403
    assert "security token" in response.text
    assert demo_services.access.list(SYSTEM, mine, 100, None).items == before


def test_session_cookie_is_http_only_and_same_site(browser: TestClient, sign_in: Any) -> None:
    response = sign_in("auditor")

    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE}=")
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie, "plain http on a laptop: a Secure cookie would never come back"


def test_session_cookie_is_secure_when_served_over_https(demo_services: Services) -> None:
    with TestClient(create_app(demo_services), base_url="https://catalog.example", follow_redirects=False) as client:
        response = client.get("/signin")

    assert "; secure" in response.headers["set-cookie"].lower()


def test_signing_out_ends_the_session(browser: TestClient, sign_in: Any) -> None:
    sign_in("auditor")
    home = browser.get("/")

    browser.post("/signout", data={"csrf_token": csrf_of(home.text)})
    after = browser.get("/datasets/health.admissions")

    assert after.status_code == 404
    assert "Signed in as" not in after.text


def test_a_cookie_copied_before_sign_out_is_dead_after_it_on_every_replica(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("auditor")
    copied = browser.cookies.get(COOKIE)
    assert copied is not None

    browser.post("/signout", data={"csrf_token": csrf_of(browser.get("/").text)})
    with TestClient(create_app(demo_services), follow_redirects=False) as replica:  # another server, same store
        replica.cookies.set(COOKIE, copied)
        after = replica.get("/datasets/health.admissions")

    assert after.status_code == 404
    assert "Signed in as" not in after.text


def test_the_cookie_does_not_carry_the_bearer_token(browser: TestClient, sign_in: Any) -> None:
    sign_in("auditor")
    payload = str(browser.cookies.get(COOKIE)).split(".")[0]

    decoded = base64.b64decode(payload + "=" * (-len(payload) % 4)).decode()

    assert "eyJ" not in decoded  # every JWT starts so


def test_a_bad_token_is_refused_on_the_form_and_no_session_starts(browser: TestClient) -> None:
    form = browser.get("/signin")

    response = browser.post("/signin", data={"csrf_token": csrf_of(form.text), "token": "not-a-jwt"})

    assert response.status_code == 401
    assert "Sign-in failed: invalid token" in response.text
    assert "Signed in as" not in browser.get("/").text


def test_a_session_whose_token_no_longer_verifies_is_ended(browser: TestClient, sign_in: Any) -> None:
    sign_in("auditor")
    # The signing secret is rotated: tokens issued before no longer verify, as after a key compromise.
    browser.app.state.verifier.verifier = TokenVerifier(AuthSettings(jwt_secret="rotated-" + "x" * 40))  # type: ignore[attr-defined]

    first = browser.get("/")
    second = browser.get("/")

    assert "You were signed out: invalid token" in first.text
    assert "Signed in as" not in first.text and "Signed in as" not in second.text
    assert "You were signed out" not in second.text, "the notice is shown once"


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/datasets/x", "/datasets/x"), ("//evil.example/", "/"), ("https://evil.example/", "/"), (None, "/")],
)
def test_after_sign_in_only_paths_on_this_site_are_followed(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_an_ended_session_opens_nothing_and_is_cleared_away(store: GraphStore) -> None:
    now = [utcnow()]
    sessions = WebSessions(store, lambda: now[0])
    ended = sessions.open("token-1", max_age_s=60)
    assert sessions.token(ended) == "token-1"

    now[0] += timedelta(minutes=2)
    assert sessions.token(ended) is None
    sessions.open("token-2", max_age_s=60)  # whoever signs in next clears ended sessions away

    remaining = store.read(lambda tx: tx.find_nodes(Label.WEB_SESSION, TRUE, first=10)).items
    assert [props["token"] for _, props in remaining] == ["token-2"]
