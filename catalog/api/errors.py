"""Errors as clients see them, never with a stack trace: the one place a CatalogError becomes an HTTP status.

GraphQL answers carry `errors[].extensions.code`; the plain-HTTP routes (DCAT, ODRL, OpenLineage) answer one body,
`{"error": {"code", "message", "field" or "path"}}`, through the app's exception handler; the pages
render the same status and message as HTML (catalog/web/render.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from catalog.errors import BadRequest, CatalogError, InvalidInput

log = logging.getLogger("catalog.api")

# What each `extensions.code` tells a client. The README's list is generated from `error_codes()` and this table,
# and a test fails when either drifts from the error tree.
CODE_MEANINGS: dict[str, str] = {
    "BAD_REQUEST": "the HTTP request is not GraphQL over HTTP: no query, a body that is not JSON (or holds a lone "
    "UTF-16 surrogate, which is not text; the message names where), the wrong `Content-Type`, a mutation sent with "
    "GET, or a body over `CATALOG_API__MAX_BODY_BYTES`",
    "BAD_USER_INPUT": "the query or its input is invalid or over a limit; `extensions.field` names the input field, "
    "when there is one",
    "UNAUTHENTICATED": "the bearer token is malformed, invalid or expired (no token at all means anonymous), or the "
    "action needs someone signed in",
    "FORBIDDEN": "the policy does not let this caller do this",
    "NOT_FOUND": "no such record, or one the caller may not see: the two answers are the same",
    "CONFLICT": "the record already exists, or its current state does not allow the change (the message names it)",
    "UNAVAILABLE": "the store or another dependency cannot be used right now, or the request ran past "
    "`CATALOG_API__REQUEST_TIMEOUT_S`",
    "OUTCOME_UNKNOWN": "the connection to the store died while a change was being committed, so whether it was "
    "written cannot be known: read before retrying, or retry with the same `Idempotency-Key`",
    "CONFIG": "the server's configuration is wrong; the message names the setting",
    "INTERNAL": "anything unexpected: the message carries a request id, also in the `X-Request-ID` header, to quote "
    "to the operators; no stack trace ever reaches a client",
}


def error_codes() -> list[str]:
    """Every `extensions.code` a client can meet: the codes of the tree in catalog/errors.py.

    Subclasses elsewhere reuse those codes (PolicyError is a ConfigError) or never reach the API (a connector's
    UPSTREAM, a client's RemoteError), so only catalog/errors.py counts: the answer does not depend on imports.
    """
    codes: list[str] = []
    pending: list[type[CatalogError]] = [CatalogError]
    while pending:
        kind = pending.pop(0)
        if kind.code not in codes:
            codes.append(kind.code)
        pending.extend(sub for sub in kind.__subclasses__() if sub.__module__ == CatalogError.__module__)
    return codes


def camel(path: str) -> str:
    """`permitted_purposes.0` -> `permittedPurposes.0`: input paths in the API's own spelling."""
    return ".".join(re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), part) for part in path.split("."))


def error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extensions}}


def client_message(exc: CatalogError, request_id: str | None) -> str:
    """What a client is told of `exc`. What is kept from them (a store's address, say) goes to the log."""
    if exc.public_message != exc.message:
        log.warning("request %s: %s: %s", request_id or "-", exc.code, exc.message)
    return exc.public_message


def format_error(err: GraphQLError, request_id: str) -> dict[str, Any]:
    """One GraphQL error, mapped from the catalog's error tree. Unknown failures are logged and hidden."""
    original = err.original_error
    if isinstance(original, InvalidInput):
        body = error(original.message, original.code, field=camel(original.field))
        body["message"] = f"{camel(original.field)}: {original.rule}"
    elif isinstance(original, CatalogError):
        body = error(client_message(original, request_id), original.code)
    elif original is None or isinstance(original, GraphQLError):
        body = error(err.message, "BAD_USER_INPUT")  # parse, validation and variable coercion errors
    else:
        log.error("internal error in request %s at %s", request_id, err.path, exc_info=original)
        body = error(f"internal error; quote request id {request_id} to the catalog's operators", "INTERNAL")
    if err.path:
        body["path"] = list(err.path)
    if err.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in err.locations]
    body["extensions"]["requestId"] = request_id
    return body


HTTP_STATUS: dict[str, int] = {
    "BAD_REQUEST": 400,
    "BAD_USER_INPUT": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "UNAVAILABLE": 503,
    "OUTCOME_UNKNOWN": 503,  # the store went away mid-commit: read, or retry with the same Idempotency-Key
}


def status_for(exc: CatalogError) -> int:
    """The HTTP status of `exc`, wherever it is answered: a plain-HTTP route, a page, or a request GraphQL could
    not start on (a resolver's error inside a GraphQL answer is 200 with `extensions.code`)."""
    if isinstance(exc, BadRequest):
        return exc.status
    return HTTP_STATUS.get(exc.code, 500)


def error_body(exc: CatalogError, request_id: str | None) -> dict[str, Any]:
    """The plain-HTTP routes' one error body. An input error names its field (a JSON path, for an event, as
    `path`). `request_id` goes in the log beside a message kept from the client."""
    body: dict[str, Any] = {"code": exc.code, "message": client_message(exc, request_id)}
    if isinstance(exc, InvalidInput):
        json_path = exc.field.startswith("$")
        body["path" if json_path else "field"] = exc.field if json_path else camel(exc.field)
    return {"error": body}  # the request id is in the X-Request-ID header: a hidden record and a missing one match


async def handle_catalog_error(request: Request, exc: Exception) -> Response:
    """Starlette's exception handler for CatalogError on every plain-HTTP route."""
    assert isinstance(exc, CatalogError)
    status = status_for(exc)
    if status == 500:
        log.error("catalog error on %s: %s", request.url.path, exc.message)
    headers = exc.headers if isinstance(exc, BadRequest) else None
    return JSONResponse(error_body(exc, getattr(request.state, "request_id", None)), status, headers=headers)
