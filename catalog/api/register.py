"""GET /register.csv and /register.json?scheme=uk-dea|ie-dsga|au-dat: the public register of sharing agreements.

Public by nature, so built as an anonymous reader sees the catalog whoever asks (as the DCAT feed is): only the
agreements and datasets the policy lets an anonymous caller read appear. A missing or unknown scheme is a 400 that
names the `scheme` parameter and the allowed values.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from catalog.api.errors import client_message, http_status
from catalog.errors import CatalogError, InvalidInput
from catalog.services.register import MEDIA_TYPES, SCHEMES, Output


async def _register(request: Request, output: Output) -> Response:
    services = request.app.state.services
    try:
        scheme = request.query_params.get("scheme")
        if not scheme:
            raise InvalidInput("scheme", f"is required: one of {', '.join(SCHEMES)}")
        table = await run_in_threadpool(services.register.table, scheme)
    except CatalogError as exc:
        message = client_message(exc, getattr(request.state, "request_id", None))
        return JSONResponse({"error": {"code": exc.code, "message": message}}, status_code=http_status(exc))
    return Response(table.render(output), media_type=MEDIA_TYPES[output])


async def register_csv(request: Request) -> Response:
    return await _register(request, "csv")


async def register_json(request: Request) -> Response:
    return await _register(request, "json")
