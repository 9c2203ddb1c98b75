"""The API over real HTTP: `catalog serve` (one uvicorn worker) against the bare Starlette endpoint.

Both servers run as separate processes on loopback, serving the same store. The load generator is this
process: a fixed number of requests at a fixed concurrency, every one timed, bounded in count and time.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.measure import Figure, figure

REPO = Path(__file__).resolve().parent.parent
DATASET_QUERY = "query D($id: ID!) { dataset(id: $id) { id title classification owner { name } } }"
LIST_QUERY = "{ datasets(first: 50) { edges { node { id title classification } } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(args: list[str], env: dict[str, str], ready_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{args[2]} exited early:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{args[2]} did not become ready:\n{log.read_text()[-2000:]}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def catalog_env(store_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    env.update({"CATALOG_STORE": store_url, "CATALOG_LOG_LEVEL": "WARNING", "CATALOG_POLICY_RELOAD_INTERVAL_S": "0"})
    return env


async def _drive(send: Callable[[httpx.AsyncClient, int], Any], requests: int, concurrency: int,
                 base_url: str, headers: dict[str, str]) -> tuple[list[float], float]:
    samples: list[float] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:
        async def worker() -> None:
            for i in counter:
                t0 = time.perf_counter()
                response = await send(client, i)
                samples.append(time.perf_counter() - t0)
                if response.status_code != 200 or "errors" in response.text[:20]:
                    raise RuntimeError(f"request failed: {response.status_code} {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return samples, time.perf_counter() - started


def drive(send: Callable[[httpx.AsyncClient, int], Any], base_url: str, *, requests: int, concurrency: int,
          headers: dict[str, str] | None = None) -> tuple[list[float], float]:
    # Warm up connections and caches first, untimed.
    asyncio.run(_drive(send, min(200, requests), concurrency, base_url, headers or {}))
    return asyncio.run(_drive(send, requests, concurrency, base_url, headers or {}))


def run(store_url: str, backend: str, dataset_ids: list[str], analyst_token: str, workdir: Path, *,
        requests: int = 3000, concurrency: int = 8) -> list[Figure]:
    rng = random.Random(7)
    picks = [rng.choice(dataset_ids) for _ in range(requests)]
    env = catalog_env(store_url)
    figures: list[Figure] = []

    bare_port = free_port()
    bare = [sys.executable, "-m", "bench.bare_server", "--store", store_url, "--port", str(bare_port)]
    with process(bare, env, f"http://127.0.0.1:{bare_port}/readyz", workdir / "bare.log"):
        base_samples, base_wall = drive(lambda c, i: c.get(f"/datasets/{picks[i]}"), f"http://127.0.0.1:{bare_port}",
                                        requests=requests, concurrency=concurrency)
    base = figure("bare Starlette JSON endpoint", backend, base_samples, base_wall)

    port = free_port()
    serve = [sys.executable, "-m", "catalog.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    analyst_headers = {"Authorization": f"Bearer {analyst_token}"}
    with process(serve, env, f"{url}/readyz", workdir / "serve.log"):
        samples, wall = drive(
            lambda c, i: c.post("/graphql", json={"query": DATASET_QUERY, "variables": {"id": picks[i]}}),
            url, requests=requests, concurrency=concurrency, headers=analyst_headers)
        figures.append(figure("dataset(id) over HTTP", backend, samples, wall, baseline="bare Starlette endpoint",
                              baseline_p50_ms=base.p50_ms,
                              target=">= 1,000 req/s and >= 0.5x the bare endpoint's throughput",
                              notes={"baseline_per_s": base.per_s, "throughput_ratio": (len(samples) / wall)
                                     / base.per_s if base.per_s else None, "concurrency": concurrency}))
        list_samples, list_wall = drive(lambda c, i: c.post("/graphql", json={"query": LIST_QUERY}), url,
                                        requests=max(200, requests // 5), concurrency=concurrency,
                                        headers=analyst_headers)
        figures.append(figure("analyst datasets(first: 50)", backend, list_samples, list_wall,
                              target="p50 <= 30 ms on L"))
    return figures
