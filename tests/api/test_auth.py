"""Bearer tokens: HS256 in dev, RS256 against a JWKS in production; a verified token names a person.

Who that person is (agency, roles, active) is the store's business: see tests/api/test_identity.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from catalog.api.auth import VERIFIED_TTL_S, TokenVerifier, issue_token
from catalog.config import AuthSettings
from catalog.domain import Person, Role, utcnow
from catalog.errors import ConfigError, Unauthenticated

ALICE = Person(id="alice", name="Alice", agency_id="health", roles=[Role.STEWARD, Role.ANALYST])


def test_an_issued_token_names_the_person_and_nothing_more() -> None:
    settings = AuthSettings()
    token = issue_token(ALICE, settings)

    assert TokenVerifier(settings).person_id(f"Bearer {token}") == "alice"
    claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])
    assert "roles" not in claims and "agency" not in claims  # the catalog's record says those, not the token


def test_no_header_is_anonymous() -> None:
    assert TokenVerifier(AuthSettings()).person_id(None) is None


def test_a_token_without_the_person_claim_is_refused() -> None:
    settings = AuthSettings(person_claim="preferred_username")
    token = jwt.encode({"sub": "x", "exp": utcnow() + timedelta(minutes=5)}, settings.jwt_secret, algorithm="HS256")

    with pytest.raises(Unauthenticated, match=r"claim 'preferred_username' \(CATALOG_AUTH__PERSON_CLAIM\)"):
        TokenVerifier(settings).person_id(f"Bearer {token}")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Basic abc", "Authorization header must be 'Bearer <token>'"),
        ("Bearer ", "Authorization header must be 'Bearer <token>'"),
        ("Bearer not-a-jwt", "invalid token"),
    ],
)
def test_malformed_headers_are_unauthenticated(header: str, reason: str) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        TokenVerifier(AuthSettings()).person_id(header)


def test_expired_token_says_so() -> None:
    settings = AuthSettings()
    claims = {"sub": "alice", "exp": utcnow() - timedelta(minutes=1)}
    token = jwt.encode(claims, settings.jwt_secret, algorithm="HS256")

    with pytest.raises(Unauthenticated, match="token expired"):
        TokenVerifier(settings).person_id(f"Bearer {token}")


def test_a_verified_token_still_expires_on_time() -> None:
    """Verified tokens are remembered, but a remembered token past its `exp` is refused all the same."""
    settings = AuthSettings()
    token = issue_token(ALICE, settings, ttl_s=30)
    expires = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])["exp"]
    now = [expires - 10.0]
    verifier = TokenVerifier(settings, clock=lambda: now[0])
    assert verifier.person_id(f"Bearer {token}") == "alice"

    now[0] = expires + 1.0

    with pytest.raises(Unauthenticated, match="token expired"):
        verifier.person_id(f"Bearer {token}")


def test_a_remembered_token_is_verified_again_after_the_cache_window() -> None:
    """Past VERIFIED_TTL_S the signature is checked again, so a rotated secret takes effect."""
    settings = AuthSettings()
    token = issue_token(ALICE, settings)
    now = [utcnow().timestamp()]
    verifier = TokenVerifier(settings, clock=lambda: now[0])
    verifier.person_id(f"Bearer {token}")
    verifier.settings = AuthSettings(jwt_secret="rotated-secret-that-is-also-long-enough")

    assert verifier.person_id(f"Bearer {token}") == "alice"  # within the window: remembered
    now[0] += VERIFIED_TTL_S + 1
    with pytest.raises(Unauthenticated, match="Signature verification failed"):
        verifier.person_id(f"Bearer {token}")


def test_token_signed_with_another_secret_is_refused() -> None:
    token = issue_token(ALICE, AuthSettings(jwt_secret="another-secret-that-is-also-long-enough"))

    with pytest.raises(Unauthenticated, match="Signature verification failed"):
        TokenVerifier(AuthSettings()).person_id(f"Bearer {token}")


def test_expired_token_over_http_is_401_with_the_reason(client: TestClient) -> None:
    settings = AuthSettings()
    token = jwt.encode({"sub": "admin", "exp": utcnow() - timedelta(seconds=5)}, settings.jwt_secret, "HS256")

    response = client.post("/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["errors"][0] | {"extensions": None} == {"message": "token expired", "extensions": None}


@pytest.fixture
def jwks_issuer() -> Iterator[tuple[str, Any]]:
    """A real HTTP server on loopback serving a JWKS, as an OIDC issuer would."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    document = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", key
    server.shutdown()
    server.server_close()


def test_rs256_tokens_verify_against_the_issuers_jwks(jwks_issuer: tuple[str, Any]) -> None:
    url, key = jwks_issuer
    settings = AuthSettings(jwt_algorithm="RS256", jwks_url=url, issuer="https://idp.example.gov", audience="catalog")
    claims = {
        "sub": "alice",
        "agency": "health",
        "roles": ["AUDITOR"],
        "iss": "https://idp.example.gov",
        "aud": "catalog",
        "exp": utcnow() + timedelta(minutes=5),
    }
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    wrong_audience = jwt.encode({**claims, "aud": "other"}, key, algorithm="RS256", headers={"kid": "k1"})

    verifier = TokenVerifier(settings)

    assert verifier.person_id(f"Bearer {good}") == "alice"  # its roles claim is not read
    with pytest.raises(Unauthenticated, match=r"Audience doesn.t match"):
        verifier.person_id(f"Bearer {wrong_audience}")


def test_rs256_needs_issuer_and_jwks_settings() -> None:
    with pytest.raises(ConfigError, match="CATALOG_AUTH__JWKS_URL"):
        TokenVerifier(AuthSettings(jwt_algorithm="RS256"))
