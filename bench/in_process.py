"""`dataset(id)` and the analyst's list through the catalog's own ASGI app, called in this process: no network,
no server process and no load generator competing for the two cores. What our code costs a request, beside the
bare Starlette endpoint (bench/bare_server.py) serving the same dataset read, called the same way, in the same run.

Over HTTP on a shared two-core machine, the run-to-run noise (and the kernel dropping the database file from the
page cache) is larger than the 10% a change is held to; this figure is steadier, so it settles such comparisons.
The app is called directly, as a server would call it, not through httpx's ASGI transport: that transport costs
more a request than the bare endpoint does, and would hide the difference being measured.

    python -m bench.in_process --size L
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from bench.backends import BACKENDS, loaded, store_url, token_for
from bench.bare_server import bare_app
from bench.http_api import DATASET_QUERY, LIST_QUERY, list_filters
from bench.landscape import Landscape, generate
from bench.measure import Figure, figure, print_table
from bench.readers import ANALYST_AGENCY, analyst, other_agency, visible_sample
from catalog.api.app import create_app
from catalog.config import load_settings
from catalog.services import Services
from catalog.store import open_store
from catalog.store.base import GraphStore

Call = Callable[[], Awaitable[None]]
Asked = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers


class AsgiCaller:
    """Calls an ASGI app as a server would: its lifespan around the run, and one scope per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}  # the lifespan's state, copied into every request's scope
        self._lifespan: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def __aenter__(self) -> AsgiCaller:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        async def lifespan() -> None:
            await self.app(scope, self._inbox.get, self._outbox.put)

        self._lifespan = asyncio.create_task(lifespan())
        await self._inbox.put({"type": "lifespan.startup"})
        started = await self._outbox.get()
        if started["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"the app did not start: {started.get('message', started['type'])}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._outbox.get()
        assert self._lifespan is not None
        await self._lifespan

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> int:
        """Send one request; its status (the body is read and dropped, as a client would)."""
        sent = [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode())]
        sent += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": sent, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
                 "state": dict(self.state)}
        delivered = False
        status = 0

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client stays connected until the response is complete
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        return status


async def _timed(call: Call, iterations: int, warmup: int) -> tuple[list[float], float]:
    for _ in range(warmup):
        await call()
    samples = []
    started = time.perf_counter()
    for _ in range(iterations):
        t0 = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - t0)
    return samples, time.perf_counter() - started


def _rotating(caller: AsgiCaller, requests: list[Asked]) -> Call:
    """One call per request in turn; a status other than 200 stops the run (a figure of errors means nothing)."""
    turn = 0

    async def call() -> None:
        nonlocal turn
        method, path, body, headers = requests[turn % len(requests)]
        turn += 1
        status = await caller.request(method, path, body, headers)
        if status != 200:
            raise RuntimeError(f"{method} {path} answered {status}")

    return call


async def _measure(store: GraphStore, land: Landscape, iterations: int) -> list[Figure]:
    settings = load_settings(store=store_url(store), policy_reload_interval_s=0)
    services = Services(store, settings)
    token = token_for(store, analyst(), settings)
    visible = visible_sample(services, land)
    auth = {"authorization": f"Bearer {token}", "content-type": "application/json"}

    def graphql(query: str, variables: dict[str, Any]) -> Asked:
        return ("POST", "/graphql", json.dumps({"query": query, "variables": variables}).encode(), auth)

    bare_requests: list[Asked] = [("GET", f"/datasets/{id}", b"", {}) for id in visible]
    dataset_requests = [graphql(DATASET_QUERY, {"id": id}) for id in visible]
    list_requests = [graphql(LIST_QUERY, {"filter": f}) for f in list_filters(ANALYST_AGENCY, other_agency(land))]
    backend, warmup = store.backend, min(200, iterations)
    async with AsgiCaller(bare_app(store)) as bare:
        base = figure("bare endpoint, in the process", backend,
                      *await _timed(_rotating(bare, bare_requests), iterations, warmup))
    # The app gets a store of its own, as a server process would: its lifespan closes that store when it ends.
    async with AsgiCaller(create_app(Services(open_store(settings), settings))) as ours:
        by_id = figure("dataset(id), in the process", backend,
                       *await _timed(_rotating(ours, dataset_requests), iterations, warmup),
                       baseline="bare endpoint, in the process", baseline_p50_ms=base.p50_ms)
        listed = figure("analyst datasets(first: 50), in the process", backend,
                        *await _timed(_rotating(ours, list_requests), max(1, iterations // 10), warmup // 10))
    return [base, by_id, listed]


def measure(store: GraphStore, land: Landscape, iterations: int) -> list[Figure]:
    """The bare endpoint, `dataset(id)` and the analyst's list (a tenth as many), each called in this process."""
    return asyncio.run(_measure(store, land, iterations))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S", choices=["T", "S", "M", "L"])
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument("--iterations", type=int, default=3000, help="requests of each kind (the list: a tenth)")
    args = parser.parse_args()
    land = generate(args.size)
    figures = []
    for backend in args.backend or BACKENDS:
        with tempfile.TemporaryDirectory() as tmp, loaded(backend, land, args.size, Path(tmp)) as (store, _):
            figures += measure(store, land, args.iterations)
    print_table(figures, f"The API's own cost, called in the process, size {args.size}")


if __name__ == "__main__":
    main()
