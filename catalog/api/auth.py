"""Bearer tokens to principals. HS256 with a local secret in dev; RS256 against an OIDC issuer's JWKS in production.

Claims: `sub` is the person id, `agency` their agency id, `roles` a list of role names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
from cachetools import TTLCache

from catalog.config import AuthSettings
from catalog.domain import Person, Role, utcnow
from catalog.errors import ConfigError, Unauthenticated
from catalog.principal import ANONYMOUS, Principal

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
        self._verified: TTLCache[str, tuple[Principal, float]] = TTLCache(VERIFIED_MAX, VERIFIED_TTL_S, timer=clock)
        self._lock = threading.Lock()  # pages and the API may verify from worker threads too
        self._jwks: jwt.PyJWKClient | None = None
        if settings.jwt_algorithm == "RS256":
            if not settings.jwks_url or not settings.issuer:
                raise ConfigError("CATALOG_AUTH__JWKS_URL and CATALOG_AUTH__ISSUER are required with RS256")
            self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True)

    def principal(self, authorization: str | None) -> Principal:
        """The principal for an Authorization header value; anonymous when there is none."""
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization header must be 'Bearer <token>'")
        token = token.strip()
        with self._lock:
            known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if self._clock() < expires:
                return principal
            with self._lock:
                self._verified.pop(token, None)
            raise Unauthenticated("token expired")
        claims = self._decode(token)
        principal = self._claims_to_principal(claims)
        with self._lock:
            self._verified[token] = (principal, float(claims["exp"]))
        return principal

    def _decode(self, token: str) -> dict[str, Any]:
        options: Any = {"require": ["sub", "exp"], "verify_aud": self.settings.audience is not None}
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

    @staticmethod
    def _claims_to_principal(claims: dict[str, Any]) -> Principal:
        raw_roles = claims.get("roles", [])
        if not isinstance(raw_roles, list):
            raise Unauthenticated("invalid token: claim 'roles' must be a list")
        known = {role.value for role in Role}
        unknown = [r for r in raw_roles if r not in known]
        if unknown:
            raise Unauthenticated(f"invalid token: unknown role(s) {', '.join(map(str, unknown))}")
        agency = claims.get("agency")
        return Principal(
            id=str(claims["sub"]),
            agency_id=str(agency) if agency else None,
            roles=frozenset(Role(r) for r in raw_roles),
        )


def issue_token(person: Person, settings: AuthSettings, ttl_s: int | None = None) -> str:
    """A dev-mode HS256 token for a registered person."""
    if settings.jwt_algorithm != "HS256":
        raise ConfigError("CATALOG_AUTH__JWT_ALGORITHM: tokens can only be issued locally with HS256")
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": person.id,
        "agency": person.agency_id,
        "roles": [role.value for role in person.roles],
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s or settings.token_ttl_s),
    }
    if settings.issuer:
        claims["iss"] = settings.issuer
    if settings.audience:
        claims["aud"] = settings.audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
