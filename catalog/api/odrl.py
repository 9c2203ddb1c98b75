"""GET /agreements/ID.odrl.jsonld: a sharing agreement as a W3C ODRL 2.2 Agreement (JSON-LD).

Read under the policy's read_agreement, as `agreement(id)` is: an agreement the caller may not read answers
exactly as one that does not exist (404 NOT_FOUND, the id in the message). A bearer token names the caller; with
none the caller is anonymous.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from catalog.services.odrl import MEDIA_TYPE


async def agreement_odrl(request: Request) -> Response:
    services = request.app.state.services
    principal = await request.app.state.verifier.principal_async(request.headers.get("authorization"))
    body = await run_in_threadpool(services.odrl.agreement, principal, request.path_params["id"], str(request.base_url))
    return Response(body, media_type=MEDIA_TYPE)
