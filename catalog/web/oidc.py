"""Sign-in with an OpenID Connect issuer: the authorization-code flow with PKCE, state and nonce.

The issuer is CATALOG_AUTH__ISSUER, found through its `/.well-known/openid-configuration`. The ID token proves who
signed in (signature from the issuer's JWKS, issuer, audience = our client id, nonce, expiry); the access token is
what the session keeps, because it is what the API accepts: each page verifies it with the API's own verifier.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from catalog.config import AuthSettings, WebSettings
from catalog.errors import ConfigError, Unauthenticated, Unavailable

DISCOVERY_PATH = "/.well-known/openid-configuration"
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


@dataclass(frozen=True)
class Provider:
    """What discovery told us about the issuer."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class PendingSignIn:
    """What the session remembers between the redirect to the issuer and the callback."""

    state: str
    nonce: str
    code_verifier: str
    next: str

    def as_session(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "code_verifier": self.code_verifier, "next": self.next}

    @staticmethod
    def from_session(value: Any) -> PendingSignIn:
        if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("state", "nonce")):
            raise Unauthenticated("sign-in was not started from this browser, or it took too long; start again")
        return PendingSignIn(value["state"], value["nonce"], str(value.get("code_verifier", "")), str(value["next"]))


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    id_claims: dict[str, Any]


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(SHA-256(verifier)) without padding (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    def __init__(self, auth: AuthSettings, web: WebSettings) -> None:
        self.issuer = (auth.issuer or "").rstrip("/")
        self.client_id = web.oidc_client_id
        if self.client_id and not self.issuer:
            # Said when the app is built, not when someone first tries to sign in.
            raise ConfigError(
                "CATALOG_WEB__OIDC_CLIENT_ID is set, but OIDC sign-in also needs CATALOG_AUTH__ISSUER: "
                "set the issuer's URL, or unset the client id"
            )
        self.client_secret = web.oidc_client_secret
        self.scopes = web.oidc_scopes
        self.timeout_s = web.oidc_timeout_s
        self._provider: Provider | None = None

    @property
    def configured(self) -> bool:
        return bool(self.issuer and self.client_id)

    async def provider(self) -> Provider:
        """The issuer's endpoints, discovered once and kept."""
        if self._provider is None:
            document = await self._get_json(self.issuer + DISCOVERY_PATH, "discovery document")
            try:
                provider = Provider(
                    issuer=str(document["issuer"]).rstrip("/"),
                    authorization_endpoint=str(document["authorization_endpoint"]),
                    token_endpoint=str(document["token_endpoint"]),
                    jwks_uri=str(document["jwks_uri"]),
                )
            except KeyError as exc:
                raise Unavailable(f"the issuer's discovery document has no {exc.args[0]}") from None
            if provider.issuer != self.issuer:
                # OIDC Discovery 4.3: a document naming another issuer must not be used.
                raise Unavailable(f"the discovery document names issuer {provider.issuer}, not {self.issuer}")
            self._provider = provider
        return self._provider

    async def start(self, redirect_uri: str, next: str) -> tuple[str, PendingSignIn]:
        """The URL to send the browser to, and what to keep in the session until it comes back."""
        if not self.configured:
            raise Unavailable("OIDC sign-in is off: it needs CATALOG_AUTH__ISSUER and CATALOG_WEB__OIDC_CLIENT_ID")
        provider = await self.provider()
        pending = PendingSignIn(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
            next=next,
        )
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in provider.authorization_endpoint else "?"
        return f"{provider.authorization_endpoint}{separator}{urlencode(query)}", pending

    async def finish(self, pending: PendingSignIn, params: dict[str, str], redirect_uri: str) -> SignedIn:
        """Check the callback against the pending sign-in, redeem the code, and verify the ID token."""
        if "error" in params:
            detail = params.get("error_description") or params["error"]
            raise Unauthenticated(f"the identity provider refused sign-in: {detail}")
        state = params.get("state", "")
        if not state or not secrets.compare_digest(state, pending.state):
            raise Unauthenticated("sign-in response does not match this browser's sign-in (state); start again")
        code = params.get("code")
        if not code:
            raise Unauthenticated("sign-in response carries no authorization code")
        provider = await self.provider()
        tokens = await self._redeem(provider, code, pending.code_verifier, redirect_uri)
        claims = await self._verify_id_token(provider, str(tokens.get("id_token", "")), pending.nonce)
        access_token = tokens.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise Unauthenticated("the identity provider returned no access token")
        return SignedIn(access_token, claims)

    async def _redeem(self, provider: Provider, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id or "",
            "code_verifier": verifier,
        }
        # client_secret_basic when there is a secret (RFC 6749 2.3.1); a public client relies on PKCE alone.
        auth = httpx.BasicAuth(self.client_id or "", self.client_secret) if self.client_secret else None
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, auth=auth) as client:
                response = await client.post(provider.token_endpoint, data=form)
        except httpx.HTTPError as exc:
            raise Unavailable(f"the identity provider's token endpoint could not be reached: {exc}") from None
        body = _json(response)
        if response.status_code != 200:
            detail = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
            raise Unauthenticated(f"the identity provider would not redeem the sign-in code: {detail}")
        return body

    async def _verify_id_token(self, provider: Provider, id_token: str, nonce: str) -> dict[str, Any]:
        if not id_token:
            raise Unauthenticated("the identity provider returned no ID token")
        jwks = await self._get_json(provider.jwks_uri, "key set")
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            keys = jwt.PyJWKSet.from_dict(jwks).keys
            key = next((k for k in keys if kid is None or k.key_id == kid), None)
            if key is None:
                raise Unauthenticated(f"ID token signed with key {kid!r}, which the issuer does not publish")
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=ID_TOKEN_ALGORITHMS,
                audience=self.client_id,
                issuer=provider.issuer,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid ID token: {exc}") from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise Unauthenticated("ID token was not issued for this sign-in (nonce)")
        return claims

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise Unavailable(f"the identity provider's {what} could not be fetched from {url}: {exc}") from None
        if response.status_code != 200:
            raise Unavailable(f"the identity provider's {what} at {url} answered HTTP {response.status_code}")
        return _json(response)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
