"""Sign-in through a real OpenID Connect issuer on loopback: authorization code with PKCE, state and nonce, then
pages decided on the principal from the issuer's access token, exactly as the API would decide them."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.config import load_settings
from catalog.errors import ConfigError
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.web.oidc import OidcClient, code_challenge
from tests.web.conftest import csrf_of
from tests.web.issuer import LoopbackIssuer

CLIENT_ID, SECRET, AUDIENCE = "catalog-web", "loopback-client-secret", "catalog-api"
CALLBACK = "http://testserver/signin/callback"


@pytest.fixture
def issuer() -> Iterator[LoopbackIssuer]:
    issuer = LoopbackIssuer(CLIENT_ID, SECRET, [CALLBACK], AUDIENCE)
    # What the issuer says of roles and agencies is not what counts: the catalog's record of uma.uni is.
    issuer.user = {"sub": "uma.uni", "agency": "stats", "roles": ["AUDITOR"]}
    server, thread = issuer.serve()
    yield issuer
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(store: GraphStore, issuer: LoopbackIssuer) -> Iterator[TestClient]:
    settings = load_settings(
        store="sqlite:///unused.db",
        auth={"jwt_algorithm": "RS256", "issuer": issuer.url, "audience": AUDIENCE, "jwks_url": f"{issuer.url}/jwks"},
        web={"oidc_client_id": CLIENT_ID, "oidc_client_secret": SECRET, "token_sign_in": False},
    )
    services = Services(store, settings)
    services.registration.register_agency(SYSTEM, {"id": "uni", "name": "Northbridge University"})
    services.registration.register_dataset(
        SYSTEM, {"id": "uni.thesis-data", "title": "Thesis survey data", "owner_agency_id": "uni"}
    )
    # A first sign-in works once the person is registered under the id the issuer's `sub` carries.
    services.registration.register_person(
        SYSTEM, {"id": "uma.uni", "name": "Uma", "agency_id": "uni", "roles": ["ANALYST"]}
    )
    with TestClient(create_app(services), follow_redirects=False) as test_client:
        yield test_client


def to_issuer_and_back(client: TestClient, next: str = "/") -> tuple[str, httpx.Response]:
    """Start sign-in at the catalog and let the issuer's authorization endpoint answer; returns its redirect."""
    start = client.get("/signin/oidc", params={"next": next})
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    return authorize, httpx.get(authorize, follow_redirects=False)


def callback_path(response: httpx.Response) -> str:
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return f"{location.path}?{location.query}"


def test_signing_in_at_the_issuer_gives_a_session_as_the_tokens_person(
    client: TestClient, issuer: LoopbackIssuer
) -> None:
    authorize, back = to_issuer_and_back(client, next="/datasets/uni.thesis-data")

    done = client.get(callback_path(back))
    page = client.get(done.headers["location"])

    asked = issuer.authorize_requests[-1]
    assert authorize.startswith(f"{issuer.url}/authorize?")
    assert asked["code_challenge_method"] == "S256" and asked["state"] and asked["nonce"]
    assert asked["code_challenge"] == code_challenge(issuer.redeemed[-1]), "the verifier sent matches the challenge"
    assert done.status_code == 303 and done.headers["location"] == "/datasets/uni.thesis-data"
    assert page.status_code == 200, "OFFICIAL data of uma's own agency: visible to uma, not to anonymous"
    assert "Signed in as" in page.text and "uma.uni" in page.text
    decisions = client.get("/decisions")
    assert decisions.status_code == 200 and "AUDITOR" not in page.text  # the issuer's roles claim is ignored


def test_a_first_sign_in_of_someone_the_catalog_does_not_know_is_refused_saying_what_to_do(
    client: TestClient, issuer: LoopbackIssuer
) -> None:
    issuer.user = {"sub": "new.starter", "roles": ["PLATFORM_ADMIN"]}
    _, back = to_issuer_and_back(client)

    refused = client.get(callback_path(back))

    assert refused.status_code == 401
    assert "does not know" in refused.text and "ask your agency" in refused.text
    assert "Signed in as" not in client.get("/").text


def test_a_callback_with_another_state_is_refused(client: TestClient) -> None:
    _, back = to_issuer_and_back(client)
    path, _, query = callback_path(back).partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}

    refused = client.get(path, params={**params, "state": "forged-state"})

    assert refused.status_code == 401
    assert "state" in refused.text
    assert "Signed in as" not in client.get("/").text


def test_an_id_token_issued_for_another_sign_in_is_refused(client: TestClient, issuer: LoopbackIssuer) -> None:
    issuer.id_token_nonce = "replayed-from-elsewhere"
    _, back = to_issuer_and_back(client)

    refused = client.get(callback_path(back))

    assert refused.status_code == 401
    assert "nonce" in refused.text
    assert "Signed in as" not in client.get("/").text


def test_an_error_from_the_issuer_is_shown_and_no_session_starts(client: TestClient) -> None:
    client.get("/signin/oidc")

    refused = client.get("/signin/callback", params={"error": "access_denied", "error_description": "user said no"})

    assert refused.status_code == 401
    assert "user said no" in refused.text


def test_a_callback_without_a_started_sign_in_is_refused(client: TestClient) -> None:
    refused = client.get("/signin/callback", params={"code": "x", "state": "y"})

    assert refused.status_code == 401
    assert "start again" in refused.text


def test_the_sign_in_page_offers_only_what_is_configured(client: TestClient) -> None:
    page = client.get("/signin")
    _, back = to_issuer_and_back(client)
    client.get(callback_path(back))
    home = client.get("/")

    pasted = client.post("/signin", data={"csrf_token": csrf_of(home.text), "token": "x"})

    assert "/signin/oidc" in page.text
    assert 'name="token"' not in page.text
    assert pasted.status_code == 403
    assert "CATALOG_WEB__TOKEN_SIGN_IN" in pasted.text


def test_a_client_id_without_an_issuer_is_refused_when_the_app_is_built() -> None:
    """It started without a word, and sign-in answered 503 only when someone tried it."""
    settings = load_settings(store="sqlite:///unused.db", web={"oidc_client_id": CLIENT_ID})

    with pytest.raises(ConfigError) as refused:
        OidcClient(settings.auth, settings.web)

    assert "CATALOG_WEB__OIDC_CLIENT_ID" in refused.value.message
    assert "CATALOG_AUTH__ISSUER" in refused.value.message
