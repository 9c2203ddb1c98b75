"""Every request gets an id: taken from X-Request-ID when the caller sent a sane one, else generated.

It is logged with internal errors and returned in the X-Request-ID header and in GraphQL error extensions.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import Scope

from catalog.api.security import ResponseHeaderMiddleware

HEADER = "x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware(ResponseHeaderMiddleware):
    def editor(self, scope: Scope) -> Callable[[MutableHeaders], None]:
        incoming = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        def stamp(headers: MutableHeaders) -> None:
            headers[HEADER] = request_id

        return stamp
