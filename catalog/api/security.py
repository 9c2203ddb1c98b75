"""What every request and response gets, whatever route serves it: a bounded Authorization header, and security
headers (Content-Security-Policy, nosniff, Referrer-Policy).

The pages load only this server's own scripts and styles (`/static`), so the policy allows 'self' alone: no
inline script, no inline style, no framing. A response that needs another policy (GraphiQL, which loads from
CATALOG_API__GRAPHIQL_ASSETS_URL; the standalone lineage drawing, which carries its own styles) sets its own
Content-Security-Policy header, and this middleware leaves it be.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# A downloaded drawing holds its own <style> and no script.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
HEADERS = {
    "content-security-policy": PAGE_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # dataset ids in our URLs are nobody else's business
}


def graphiql_policy(assets_url: str) -> str:
    """GraphiQL's policy: its scripts and styles come from the assets URL; it styles itself inline."""
    assets = assets_url.rstrip("/")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {assets}",
            f"style-src 'self' 'unsafe-inline' {assets}",
            f"font-src 'self' data: {assets}",
            f"img-src 'self' data: {assets}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ResponseHeaderMiddleware(ABC):
    """Pure ASGI middleware that edits the headers of HTTP responses as they start. A subclass says, per request,
    how (`editor`), or that it leaves the request alone (None)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @abstractmethod
    def editor(self, scope: Scope) -> Callable[[MutableHeaders], None] | None:
        """What to do to the response's headers for this HTTP request; None to pass it through untouched."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        edit = self.editor(scope) if scope["type"] == "http" else None
        if edit is None:
            await self.app(scope, receive, send)
            return

        async def send_edited(message: Message) -> None:
            if message["type"] == "http.response.start":
                edit(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_edited)


class SecurityHeaders(ResponseHeaderMiddleware):
    """Adds the security headers to every HTTP response that does not set them itself."""

    def editor(self, scope: Scope) -> Callable[[MutableHeaders], None]:
        return _add_missing


def _add_missing(headers: MutableHeaders) -> None:
    for name, value in HEADERS.items():
        headers.setdefault(name, value)


class AuthorizationLimit:
    """Refuses a request whose Authorization header is over `max_bytes` with 431, before anything reads it.

    A verified token is remembered for a minute, keyed by its text: an unbounded header would be unbounded memory.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            value = Headers(scope=scope).get("authorization")
            if value is not None and len(value.encode("latin-1", "replace")) > self.max_bytes:
                await _refuse(send, self.max_bytes)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, max_bytes: int) -> None:
    message = f"Authorization header over {max_bytes} bytes (CATALOG_API__MAX_AUTHORIZATION_BYTES)"
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 431, "headers": headers})
    await send({"type": "http.response.body", "body": body})
