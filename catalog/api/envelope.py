"""What every HTTP request passes through before its route, in one ASGI layer: the bound on its Authorization
header (security), its request id (request_id), the causal scope of the bookmark it sent (bookmarks), and the
headers every response gets.

One layer rather than four, and `send` wrapped once rather than three times: each layer cost a coroutine frame per
request and each wrapper a call per message, part of the overhead that made `dataset(id)` over /graphql 9-28%
slower in req/s. The steps run in the order the four layers ran, so each answer carries what it carried then: the
431 for an over-long Authorization header comes before anything else and gets the security headers alone; the 400
for a bad bookmark gets the request id too; a response of the route gets the bookmark as well when the request
wrote. The response's headers are edited in that order: the bookmark, the request id, then each security header
the response did not set itself.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.api.bookmarks import HEADER as BOOKMARK_HEADER
from catalog.api.bookmarks import bookmark_refusal, sent_bookmark
from catalog.api.request_id import HEADER as REQUEST_ID_HEADER
from catalog.api.request_id import assign_request_id
from catalog.api.security import add_missing, oversized_authorization, refuse_authorization
from catalog.errors import InvalidInput
from catalog.store.base import Causality, GraphStore, causal


class RequestEnvelope:
    """Pure ASGI middleware: refuses an over-long Authorization header (431), gives the request its id, opens its
    causal scope from `X-Catalog-Bookmark` (400 for a bad one), and edits the headers of every response."""

    def __init__(self, app: ASGIApp, store: GraphStore, max_authorization_bytes: int) -> None:
        self.app, self.store, self.max_authorization_bytes = app, store, max_authorization_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Set as the steps pass: a response sent before a step gets nothing of it.
        request_id: str | None = None
        causality: Causality | None = None

        async def send_edited(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if causality is not None and causality.latest:
                    headers[BOOKMARK_HEADER] = causality.latest
                if request_id is not None:
                    headers[REQUEST_ID_HEADER] = request_id
                add_missing(headers)
            await send(message)

        if oversized_authorization(scope, self.max_authorization_bytes):
            await refuse_authorization(send_edited, self.max_authorization_bytes)
            return
        request_id = assign_request_id(scope)
        try:
            bookmark = sent_bookmark(scope, self.store)
        except InvalidInput as exc:
            await bookmark_refusal(exc, request_id)(scope, receive, send_edited)
            return
        with causal(bookmark, name=BOOKMARK_HEADER) as opened:
            causality = opened
            await self.app(scope, receive, send_edited)
