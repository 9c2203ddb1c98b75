"""GET /dcat/catalog.ttl and /dcat/catalog.jsonld: the catalog as DCAT-AP 3, for open-data portals to harvest.

Only what policy lets an anonymous reader see is published, whoever asks: the feed is public by nature.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from catalog.publish.dcat_ap import MEDIA_TYPES, CatalogDescription, Format, export


async def _catalog(request: Request, fmt: Format) -> Response:
    about = CatalogDescription(base_url=str(request.base_url))
    body = await run_in_threadpool(export, request.app.state.services, about, fmt)  # errors: api/errors.py
    return Response(body, media_type=MEDIA_TYPES[fmt])


async def catalog_ttl(request: Request) -> Response:
    return await _catalog(request, "ttl")


async def catalog_jsonld(request: Request) -> Response:
    return await _catalog(request, "jsonld")
