"""GraphQL errors as clients see them: a message and `extensions.code`, never a stack trace."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError

from catalog.errors import CatalogError, InvalidInput

log = logging.getLogger("catalog.api")


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
