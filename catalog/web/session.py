"""The web session: who is signed in, and the CSRF token every form carries.

The session is a signed cookie (Starlette's SessionMiddleware): HTTP-only, SameSite=Lax (so the OIDC callback, a
top-level redirect, still carries it), and Secure whenever the page was served over https. It holds a random
session id; the bearer token the person signed in with stays in the store (services.web_sessions), so signing
out ends the session on every replica and a copy of the cookie is worth nothing afterwards. Every request
verifies the token again with the API's own verifier, so a page and a GraphQL call by the same person are
decided on exactly the same principal, and an expired or revoked token ends the session. The API itself never
reads this cookie: it takes bearer tokens only, so a forged cross-site request cannot ride on the session
against /graphql.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Scope

from catalog.api.security import ResponseHeaderMiddleware
from catalog.config import Settings
from catalog.errors import CatalogError, Forbidden, InvalidInput, Unauthenticated, Unavailable
from catalog.principal import ANONYMOUS, Principal

COOKIE = "catalog_session"
SESSION_KEY = "sid"
CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
NOTICE_KEY = "notice"
MAX_FORM_BYTES = 64 * 1024  # a pasted token is the largest thing any page posts


def session_secret(settings: Settings) -> str:
    """The cookie-signing key: the configured one, or one derived from the JWT secret (never the secret itself)."""
    if settings.web.session_secret:
        return settings.web.session_secret
    return hmac.new(settings.auth.jwt_secret.encode(), b"catalog web session", hashlib.sha256).hexdigest()


def web_middleware(settings: Settings) -> list[Middleware]:
    """The session middleware, wrapped so its cookie is marked Secure on https."""
    return [
        Middleware(SecureCookieOnHttps, cookie=COOKIE),
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(settings),
            session_cookie=COOKIE,
            max_age=settings.web.session_max_age_s,
            same_site="lax",
            https_only=settings.web.https_only,
        ),
    ]


class SecureCookieOnHttps(ResponseHeaderMiddleware):
    """Adds `Secure` to the session cookie when the request came over https (uvicorn honours a trusted proxy's
    X-Forwarded-Proto), so one deployment works on a laptop over http and behind TLS without a setting."""

    def __init__(self, app: ASGIApp, cookie: str) -> None:
        super().__init__(app)
        self.prefix = f"{cookie}="

    def editor(self, scope: Scope) -> Callable[[MutableHeaders], None] | None:
        return self.mark_secure if scope.get("scheme") == "https" else None

    def mark_secure(self, headers: MutableHeaders) -> None:
        cookies = headers.getlist("set-cookie")
        if any(c.startswith(self.prefix) for c in cookies):
            del headers["set-cookie"]
            for cookie in cookies:
                secure = cookie.startswith(self.prefix) and "secure" not in cookie.lower()
                headers.append("set-cookie", f"{cookie}; secure" if secure else cookie)


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use. Every form posts it back."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


class Form:
    """A posted form's fields. Only URL-encoded forms are accepted: the pages post nothing else."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields

    def get(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))


async def read_form(request: Request) -> Form:
    """The request's form, parsed once (the CSRF check and the page both read it)."""
    cached = getattr(request.state, "form", None)
    if isinstance(cached, Form):
        return cached
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise InvalidInput("Content-Type", "forms must be posted as application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidInput("form", f"must be under {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidInput("form", "must be UTF-8") from None
    request.state.form = Form(fields)
    return request.state.form


async def check_csrf(request: Request) -> None:
    """Raise Forbidden unless the form carries this session's CSRF token."""
    form = await read_form(request)
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_KEY)
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise Forbidden("the form's security token is missing or out of date; reload the page and try again")


async def principal_of(request: Request) -> Principal:
    """The signed-in principal, or anonymous. A session that was closed, or whose token no longer verifies or names
    a person the catalog no longer knows or has deactivated, ends."""
    session_id = request.session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return ANONYMOUS
    token = await run_in_threadpool(request.app.state.services.web_sessions.token, session_id)
    if token is None:
        request.session.clear()
        return ANONYMOUS
    try:
        principal: Principal = await request.app.state.verifier.principal_async(f"Bearer {token}")
    except Unavailable:
        raise  # the store cannot say who they are now: that is no reason to sign them out
    except CatalogError as exc:
        request.session.clear()
        request.session[NOTICE_KEY] = f"You were signed out: {exc.message}."
        return ANONYMOUS
    return principal


def signed_in(request: Request, doing: str, because: str) -> Principal:
    """The signed-in principal; Unauthenticated for a visitor ("sign in to `doing`: `because`")."""
    principal: Principal = request.state.principal
    if principal.anonymous:
        raise Unauthenticated(f"sign in to {doing}: {because}")
    return principal


async def sign_in(request: Request, token: str) -> Principal:
    """Verify `token` as the API would and start a fresh session with it (a new CSRF token too)."""
    token = token.strip()
    if not token:
        raise Unauthenticated("paste a bearer token to sign in")
    principal: Principal = await request.app.state.verifier.principal_async(f"Bearer {token}")
    await sign_out(request)  # nothing from before sign-in carries over (session fixation)
    sessions = request.app.state.services.web_sessions
    max_age = request.app.state.services.ctx.settings.web.session_max_age_s
    request.session[SESSION_KEY] = await run_in_threadpool(sessions.open, token, max_age)
    csrf_token(request)
    return principal


async def sign_out(request: Request) -> None:
    """End the session in the store (for every replica) and forget the cookie's contents."""
    session_id = request.session.get(SESSION_KEY)
    if isinstance(session_id, str):
        await run_in_threadpool(request.app.state.services.web_sessions.close, session_id)
    request.session.clear()


def pop_notice(request: Request) -> str | None:
    notice: Any = request.session.pop(NOTICE_KEY, None)
    return notice if isinstance(notice, str) else None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//host` or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
