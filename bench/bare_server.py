"""The baseline server: a bare Starlette JSON endpoint serving a dataset straight from the same store.

No GraphQL, no policy, no loaders: what a dataset read costs over HTTP with nothing of ours in between.
Run as `python -m bench.bare_server --store URL --port P`.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from catalog.config import load_settings
from catalog.store import open_store
from catalog.store.base import GraphStore
from catalog.store.schema import Label


def bare_app(store: GraphStore) -> Starlette:
    """The bare endpoint: GET /datasets/{id} answers the dataset's id, title, classification and owner."""

    async def dataset(request: Request) -> JSONResponse:
        dataset_id = request.path_params["id"]
        def read() -> dict[str, Any] | None:
            return store.read(lambda tx: tx.get_node(Label.DATASET, dataset_id))

        # The same rule as the catalog's own lookups: inline on an in-process store, else in a worker thread.
        props = read() if store.in_process else await run_in_threadpool(read)
        if props is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse({"id": props["id"], "title": props.get("title"),
                             "classification": props.get("classification"), "owner": props.get("owner_agency_id")})

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ready"})

    return Starlette(routes=[Route("/datasets/{id}", dataset), Route("/readyz", ready)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    store = open_store(load_settings(store=args.store))
    uvicorn.run(bare_app(store), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
