"""The benchmarks' load generator: it measures what it drives, and a failing endpoint fails the run."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.load import HttpRequest, run_load
from tests.conftest import ensure_tool, skip_or_fail


@pytest.fixture(params=["httpx", "wrk"])
def tool(request: pytest.FixtureRequest) -> str:
    """Each load generator; wrk is installed on CI, and skipped where it is missing elsewhere."""
    if request.param == "wrk" and not ensure_tool("wrk", "wrk"):
        skip_or_fail("wrk is not installed (apt-get install wrk)")
    return str(request.param)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[dict[str, object]]]]:
    """A small app on loopback: /ok answers data, /graphql-error answers GraphQL errors, /slow answers data after
    1.3 s; bodies are kept."""
    seen: list[dict[str, object]] = []

    async def ok(request: Request) -> JSONResponse:
        seen.append(await request.json() if request.method == "POST" else {})
        return JSONResponse({"data": {"ok": True}})

    async def graphql_error(request: Request) -> JSONResponse:
        return JSONResponse({"errors": [{"message": "no"}]})

    async def slow(request: Request) -> JSONResponse:
        await asyncio.sleep(1.3)
        return JSONResponse({"data": {"ok": True}})

    app = Starlette(routes=[Route("/ok", ok, methods=["GET", "POST"]), Route("/graphql-error", graphql_error),
                            Route("/slow", slow)])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", seen
    running.should_exit = True
    thread.join(10)


def test_a_load_cycles_its_requests_and_reports_what_it_measured(
    server: tuple[str, list[dict[str, object]]], tool: str
) -> None:
    url, seen = server
    seen.clear()
    rotation = [HttpRequest("POST", "/ok", {"n": 1}), HttpRequest("POST", "/ok", {"n": 2, "q": "a ]] b"})]

    result = run_load(url, rotation, duration_s=1, requests=100, connections=2, tool=tool)

    assert result.tool == tool
    assert result.requests >= 100 if tool == "httpx" else result.requests > 0
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms
    assert result.per_s > 0
    assert {"n": 1} in seen and {"n": 2, "q": "a ]] b"} in seen  # both bodies, as sent


def test_graphql_errors_under_load_fail_the_run(server: tuple[str, list[dict[str, object]]], tool: str) -> None:
    url, _ = server

    with pytest.raises(RuntimeError, match="failed"):
        run_load(url, [HttpRequest("GET", "/graphql-error")], duration_s=1, requests=20, connections=1, tool=tool)


def test_a_missing_route_fails_the_run(server: tuple[str, list[dict[str, object]]], tool: str) -> None:
    url, _ = server

    with pytest.raises(RuntimeError, match="failed"):
        run_load(url, [HttpRequest("GET", "/nowhere")], duration_s=1, requests=20, connections=1, tool=tool)


def test_a_run_that_completes_no_request_in_its_time_runs_longer_rather_than_report_zero(
    server: tuple[str, list[dict[str, object]]], tool: str
) -> None:
    """A stalled server (every answer slower than the run's duration) is not a latency of 0 ms: the run goes on
    until it has measured something, as happened to the bench on a slow machine."""
    url, _ = server

    result = run_load(url, [HttpRequest("GET", "/slow")], duration_s=1, requests=2, connections=1, tool=tool,
                      warm_up=False)

    assert result.requests > 0 and result.per_s > 0
    assert result.p50_ms >= 1300
