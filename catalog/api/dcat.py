"""GET /dcat/catalog.ttl and /dcat/catalog.jsonld: the catalog as DCAT-AP 3, for open-data portals to harvest.

Only what policy lets an anonymous reader see is published, whoever asks: the feed is public by nature.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from catalog.api.errors import client_message
from catalog.errors import CatalogError, Unavailable
from connectors.dcat_ap import MEDIA_TYPES, CatalogDescription, Format, export


async def _catalog(request: Request, fmt: Format) -> Response:
    about = CatalogDescription(base_url=str(request.base_url))
    try:
        body = await run_in_threadpool(export, request.app.state.services, about, fmt)
    except CatalogError as exc:
        status = 503 if isinstance(exc, Unavailable) else 500
        message = client_message(exc, getattr(request.state, "request_id", None))
        return JSONResponse({"error": {"code": exc.code, "message": message}}, status_code=status)
    return Response(body, media_type=MEDIA_TYPES[fmt])


async def catalog_ttl(request: Request) -> Response:
    return await _catalog(request, "ttl")


async def catalog_jsonld(request: Request) -> Response:
    return await _catalog(request, "jsonld")
