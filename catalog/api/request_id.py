"""Every request gets an id: taken from X-Request-ID when the caller sent a sane one, else generated.

It is logged with internal errors and returned in the X-Request-ID header (stamped by `envelope`, over any the
route set) and in GraphQL error extensions.
"""

from __future__ import annotations

import re
import uuid

from starlette.types import Scope

HEADER = "x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def assign_request_id(scope: Scope) -> str:
    """The request's id, kept in its state (`request.state.request_id`) for the routes."""
    incoming = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
    request_id = incoming if _SANE.match(incoming) else uuid.uuid4().hex
    scope.setdefault("state", {})["request_id"] = request_id
    return request_id
