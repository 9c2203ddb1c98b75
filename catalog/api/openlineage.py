"""POST /api/v1/lineage: OpenLineage events, as the official clients' HTTP transport sends them.

The transport POSTs one event per request to `<url>/api/v1/lineage` as `application/json` (optionally
`Content-Encoding: gzip`) with `Authorization: Bearer <api key>`; here the key is a catalog token, checked by the
same verifier as /graphql. RunEvents, DatasetEvents and JobEvents (spec 2-0-x) are accepted.

How an event is validated and what it maps to is services/openlineage.py, shared with `catalog ingest
openlineage`. An invalid event gets 400 naming the JSON path of the first problem, e.g. `$.run.runId`. A valid
event is written in one transaction (services.lineage.ingest), so nothing is ever partially written.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from catalog.api import json_body
from catalog.api.graphql_http import read_body
from catalog.errors import BadRequest, Unauthenticated
from catalog.services.openlineage import parse_event

# --- HTTP ----------------------------------------------------------------------------------------------------


async def _decoded_body(request: Request, limit: int) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadRequest("Content-Type: expected application/json", 415)
    body = await read_body(request, limit)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            # A bounded decompression: a small gzip bomb must not become a large body.
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, limit + 1)
        except (zlib.error, gzip.BadGzipFile):
            raise BadRequest("body: not valid gzip") from None
        if len(body) > limit:
            raise BadRequest(f"request body over {limit} bytes (CATALOG_API__MAX_BODY_BYTES)", 413)
    return json_body.loads(body, root="$")


async def lineage_endpoint(request: Request) -> Response:
    """Accept one OpenLineage event: 201 with what was recorded, 400 naming the JSON path of a problem."""
    services = request.app.state.services  # refusals are answered by api/errors.py's handler
    principal = await request.app.state.verifier.principal_async(request.headers.get("authorization"))
    if principal.anonymous:
        raise Unauthenticated("lineage events need 'Authorization: Bearer <token>'")
    raw = await _decoded_body(request, services.ctx.settings.api.max_body_bytes)
    run = parse_event(raw, principal.agency_id)
    result = await run_in_threadpool(services.lineage.ingest, principal, run)
    return JSONResponse(
        {
            "process": result.process_id,
            "datasets": sorted({d.id for d in run.datasets}),
            "placeholders": result.placeholders,
            "warnings": result.warnings,
        },
        status_code=201,
    )
