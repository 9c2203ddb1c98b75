"""Liveness and readiness probes."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from catalog.api.errors import client_message
from catalog.errors import CatalogError


async def healthz(request: Request) -> JSONResponse:
    """The process is up. Says nothing about the store."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the store answers a query."""
    store = request.app.state.services.store
    try:
        await run_in_threadpool(store.ping)
    except CatalogError as exc:
        reason = client_message(exc, getattr(request.state, "request_id", None))
        return JSONResponse({"status": "unavailable", "code": exc.code, "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready", "store": store.backend})
