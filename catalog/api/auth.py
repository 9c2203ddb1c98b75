"""Bearer tokens to principals. HS256 with a local secret in dev; RS256 against an OIDC issuer's JWKS in production.

A token only names a person: the claim `CATALOG_AUTH__PERSON_CLAIM` (`sub` by default) holds their catalog person
id. Who they are and what they may do (agency, roles, active or not) is the catalog's record of that person, read
from the store (`services.people`); roles or an agency written in the token are ignored. A token naming a person
the catalog does not know, or has deactivated, is refused as UNAUTHENTICATED.

With OIDC, a person's first sign-in works once their agency's data owner (or a platform administrator) has
registered them under the id the issuer puts in that claim, e.g. their username; there is no self-registration.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
from cachetools import TTLCache

from catalog.config import AuthSettings
from catalog.domain import Person, utcnow
from catalog.errors import ConfigError, Unauthenticated
from catalog.principal import ANONYMOUS, Principal
from catalog.services.people import People

# A client sends the same token with every request; checking its signature each time cost ~15% of a small
# query's server time. A verified token's principal is kept for at most this long, so a rotated key or secret
# takes effect within it; the token's own expiry is still checked on every request.
VERIFIED_TTL_S = 60.0
VERIFIED_MAX = 4096


class TokenVerifier:
    def __init__(self, settings: AuthSettings, clock: Callable[[], float] = time.time) -> None:
        """Args:
        clock: seconds since the epoch; tests pass their own to move time.
        """
        self.settings = settings
        self._clock = clock
        self._verified: TTLCache[str, tuple[str, float]] = TTLCache(VERIFIED_MAX, VERIFIED_TTL_S, timer=clock)
        self._lock = threading.Lock()  # pages and the API may verify from worker threads too
        self._jwks: jwt.PyJWKClient | None = None
        if settings.jwt_algorithm == "RS256":
            if not settings.jwks_url or not settings.issuer:
                raise ConfigError("CATALOG_AUTH__JWKS_URL and CATALOG_AUTH__ISSUER are required with RS256")
            self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True)

    def person_id(self, authorization: str | None) -> str | None:
        """The person id a verified Authorization header value names; None when there is no header (anonymous)."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization header must be 'Bearer <token>'")
        token = token.strip()
        with self._lock:
            known = self._verified.get(token)
        if known is not None:
            person, expires = known
            if self._clock() < expires:
                return person
            with self._lock:
                self._verified.pop(token, None)
            raise Unauthenticated("token expired")
        claims = self._decode(token)
        named = claims.get(self.settings.person_claim)
        if not isinstance(named, str) or not named.strip():
            raise Unauthenticated(
                f"invalid token: claim {self.settings.person_claim!r} (CATALOG_AUTH__PERSON_CLAIM) must name a person"
            )
        with self._lock:
            self._verified[token] = (named, float(claims["exp"]))
        return named

    def _decode(self, token: str) -> dict[str, Any]:
        options: Any = {"require": ["exp"], "verify_aud": self.settings.audience is not None}
        try:
            key: Any = self.settings.jwt_secret
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
            return jwt.decode(
                token,
                key,
                algorithms=[self.settings.jwt_algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options=options,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated(f"token signing key could not be fetched from the issuer: {exc}") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None


class Authenticator:
    """An Authorization header to the principal the catalog records: the token's person, read from the store."""

    def __init__(self, verifier: TokenVerifier, people: People, *, in_process: bool) -> None:
        self.verifier, self.people, self.in_process = verifier, people, in_process

    def principal(self, authorization: str | None) -> Principal:
        """Anonymous without a header; else the named person as the store records them (blocking)."""
        person = self.verifier.person_id(authorization)
        return ANONYMOUS if person is None else self.people.principal(person)

    async def principal_async(self, authorization: str | None) -> Principal:
        """`principal`, without blocking the event loop on a network store (an embedded one answers inline)."""
        person = self.verifier.person_id(authorization)
        if person is None:
            return ANONYMOUS
        if self.in_process:
            return self.people.principal(person)
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(context.run, self.people.principal, person)
        )


def issue_token(person: Person, settings: AuthSettings, ttl_s: int | None = None) -> str:
    """A dev-mode HS256 token for a registered person."""
    if settings.jwt_algorithm != "HS256":
        raise ConfigError("CATALOG_AUTH__JWT_ALGORITHM: tokens can only be issued locally with HS256")
    now = utcnow()
    claims: dict[str, Any] = {  # the person only: their agency and roles are read from the catalog
        settings.person_claim: person.id,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s or settings.token_ttl_s),
    }
    if settings.issuer:
        claims["iss"] = settings.issuer
    if settings.audience:
        claims["aud"] = settings.audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
