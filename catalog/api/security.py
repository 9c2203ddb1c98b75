"""What every request and response gets, whatever route serves it: a bounded Authorization header, and security
headers (Content-Security-Policy, nosniff, Referrer-Policy). `envelope` applies both to every HTTP request.

The pages load only this server's own scripts and styles (`/static`), so the policy allows 'self' alone: no
inline script, no inline style, no framing. A response that needs another policy (GraphiQL, which loads from
CATALOG_API__GRAPHIQL_ASSETS_URL; the standalone lineage drawing, which carries its own styles) sets its own
Content-Security-Policy header, and keeps it.
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


def add_missing(headers: MutableHeaders) -> None:
    """Adds the security headers a response does not set itself."""
    for name, value in HEADERS.items():
        headers.setdefault(name, value)


def oversized_authorization(scope: Scope, max_bytes: int) -> bool:
    """Whether the request's Authorization header is over `max_bytes`: it is refused before anything reads it.

    A verified token is remembered for a minute, keyed by its text: an unbounded header would be unbounded memory.
    """
    value = Headers(scope=scope).get("authorization")
    return value is not None and len(value.encode("latin-1", "replace")) > max_bytes


async def refuse_authorization(send: Send, max_bytes: int) -> None:
    """Answers 431, naming the setting."""
    message = f"Authorization header over {max_bytes} bytes (CATALOG_API__MAX_AUTHORIZATION_BYTES)"
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 431, "headers": headers})
    await send({"type": "http.response.body", "body": body})
