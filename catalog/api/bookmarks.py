"""Read your writes on any replica: the store's bookmark travels with the client in `X-Catalog-Bookmark`.

Each request runs in a causal scope (`catalog.store.causal`, opened by `envelope`) holding the bookmark the client
sent, so every transaction of the request waits until the store member serving it has applied that write. A
request that writes answers its newest bookmark in the same header (and in `extensions.bookmark` on /graphql); a
client that sends it back sees its own write on any replica, even when the read goes to a cluster follower. On a
store without bookmarks (SQLite) nothing is answered and a header sent anyway is ignored.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from catalog.api.errors import error
from catalog.client import BOOKMARK_HEADER as HEADER
from catalog.errors import InvalidInput
from catalog.store.base import GraphStore


def sent_bookmark(scope: Scope, store: GraphStore) -> str | None:
    """The bookmark the request sent in `X-Catalog-Bookmark`, when the store has bookmarks (None otherwise).

    Raises InvalidInput, naming the header, for one the store cannot read.
    """
    if not store.supports_bookmarks:
        return None
    incoming = Headers(scope=scope).get(HEADER, "").strip()
    if incoming:
        store.check_bookmark(incoming, HEADER)
    return incoming or None


def bookmark_refusal(exc: InvalidInput, request_id: str) -> Response:
    """The 400 answering a bookmark the store cannot read, naming the header and the request's id."""
    body = error(exc.message, exc.code, field=HEADER, requestId=request_id)
    return JSONResponse({"errors": [body]}, 400)
