"""Read your writes on any replica: the store's bookmark travels with the client in `X-Catalog-Bookmark`.

Each request runs in a causal scope (`catalog.store.causal`) holding the bookmark the client sent, so every
transaction of the request waits until the store member serving it has applied that write. A request that
writes answers its newest bookmark in the same header (and in `extensions.bookmark` on /graphql); a client that
sends it back sees its own write on any replica, even when the read goes to a cluster follower. On a store
without bookmarks (SQLite) nothing is answered and a header sent anyway is ignored.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.api.errors import error
from catalog.client import BOOKMARK_HEADER as HEADER
from catalog.errors import InvalidInput
from catalog.store.base import GraphStore, causal


class BookmarkMiddleware:
    """Opens the request's causal scope from `X-Catalog-Bookmark` and answers the bookmark of its writes."""

    def __init__(self, app: ASGIApp, store: GraphStore) -> None:
        self.app, self.store = app, store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(HEADER, "").strip()
        if incoming and self.store.supports_bookmarks:
            try:
                self.store.check_bookmark(incoming, HEADER)
            except InvalidInput as exc:
                request_id = scope.get("state", {}).get("request_id", "")
                body = error(exc.message, exc.code, field=HEADER, requestId=request_id)
                await JSONResponse({"errors": [body]}, 400)(scope, receive, send)
                return
        with causal(incoming if self.store.supports_bookmarks else None, name=HEADER) as causality:

            async def send_with_bookmark(message: Message) -> None:
                if message["type"] == "http.response.start" and causality.latest:
                    MutableHeaders(scope=message)[HEADER] = causality.latest
                await send(message)

            await self.app(scope, receive, send_with_bookmark)
