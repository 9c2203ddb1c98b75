"""GET /register.csv and /register.json?scheme=uk-dea|ie-dsga|au-dat: the public register of sharing agreements.

Public by nature, so built as an anonymous reader sees the catalog whoever asks (as the DCAT feed is): only the
register entries (read_register) and datasets (read_metadata) the policy lets an anonymous caller read appear. A
missing or unknown scheme is a 400 that names the `scheme` parameter and the allowed values.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from catalog.errors import InvalidInput
from catalog.services.register import MEDIA_TYPES, SCHEMES, Output


async def _register(request: Request, output: Output) -> Response:
    scheme = request.query_params.get("scheme")  # refusals are answered by api/errors.py's handler
    if not scheme:
        raise InvalidInput("scheme", f"is required: one of {', '.join(SCHEMES)}")
    table = await run_in_threadpool(request.app.state.services.register.table, scheme)
    return Response(table.render(output), media_type=MEDIA_TYPES[output])


async def register_csv(request: Request) -> Response:
    return await _register(request, "csv")


async def register_json(request: Request) -> Response:
    return await _register(request, "json")
