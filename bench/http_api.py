"""The API over real HTTP: `catalog serve` (one uvicorn worker) against the bare Starlette endpoint.

Both servers run as separate processes on loopback, serving the same store, one after the other. The load comes
from bench/load.py (wrk when installed). While the catalog serves, a sampler reads its resident set size.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.load import HttpRequest, LoadResult, run_load
from bench.measure import Figure, RssSampler, reading

REPO = Path(__file__).resolve().parent.parent
DATASET_QUERY = "query D($id: ID!) { dataset(id: $id) { id title classification owner { name } } }"
LIST_QUERY = (
    "query L($filter: DatasetFilterInput) { datasets(first: 50, filter: $filter) "
    "{ edges { node { id title classification owner { name } } } pageInfo { hasNextPage endCursor } } }"
)
RSS_TARGET_MB = 300
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class HttpLoad:
    """How hard and how long to drive each endpoint."""

    duration_s: float = 5.0
    requests: int = 2000  # the httpx fallback stops on count
    connections: int = 8
    tool: str | None = None  # "wrk" or "httpx"; None: wrk when it is on PATH
    warm_up: bool = True  # off only for smoke runs, whose figures mean nothing

    def drive(
        self,
        url: str,
        rotation: list[HttpRequest],
        token: str | None = None,
        *,
        requests: int | None = None,
        connections: int | None = None,
    ) -> LoadResult:
        """Drive `rotation` at `url` this long and hard (unless overridden), as the bearer of `token` if given."""
        return run_load(
            url,
            rotation,
            headers={"Authorization": f"Bearer {token}"} if token else None,
            duration_s=self.duration_s,
            requests=requests or self.requests,
            connections=connections or self.connections,
            tool=self.tool,
            warm_up=self.warm_up,
        )


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
    env["CATALOG_DEV_MODE"] = "true"  # the bench signs its tokens with the default secret
    return env


def list_filters(own_agency: str, other_agency: str) -> list[dict[str, str]]:
    """What an analyst filters by: a classification they may see, their own agency, and another agency."""
    return [{"classification": "OFFICIAL"}, {"classification": "PUBLIC"}, {"agencyId": own_agency},
            {"agencyId": other_agency}]


@dataclass(frozen=True)
class Served:
    url: str
    pid: int


@contextmanager
def serve_catalog(store_url: str, workdir: Path) -> Iterator[Served]:
    """`catalog serve` on a free loopback port, as a user would run it (one uvicorn worker)."""
    port = free_port()
    serve = [sys.executable, "-m", "catalog.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with process(serve, catalog_env(store_url), f"{url}/readyz", workdir / "serve.log") as server:
        yield Served(url, server.pid)


@contextmanager
def serve_bare(store_url: str, workdir: Path) -> Iterator[Served]:
    """The baseline: bench/bare_server.py on a free loopback port."""
    port = free_port()
    bare = [sys.executable, "-m", "bench.bare_server", "--store", store_url, "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with process(bare, catalog_env(store_url), f"{url}/readyz", workdir / "bare.log") as server:
        yield Served(url, server.pid)


def _picks(dataset_ids: list[str]) -> list[str]:
    rng = random.Random(7)
    return [rng.choice(dataset_ids) for _ in range(min(2000, 10 * len(dataset_ids)))]


def bare_dataset(bare_url: str, backend: str, dataset_ids: list[str], load: HttpLoad) -> Figure:
    """The bare endpoint serving the same datasets `dataset_by_id` asks for."""
    rotation = [HttpRequest("GET", f"/datasets/{id}") for id in _picks(dataset_ids)]
    return load.drive(bare_url, rotation).figure("bare Starlette JSON endpoint", backend)


def dataset_by_id(url: str, backend: str, dataset_ids: list[str], token: str, load: HttpLoad, base: Figure) -> Figure:
    """`dataset(id)` through GraphQL as an analyst, beside the bare endpoint's figure `base`."""
    rotation = [HttpRequest("POST", "/graphql", {"query": DATASET_QUERY, "variables": {"id": id}})
                for id in _picks(dataset_ids)]
    ours = load.drive(url, rotation, token)
    ratio = ours.per_s / base.per_s if base.per_s else None
    return ours.figure("dataset(id) over HTTP", backend, baseline="bare Starlette endpoint",
                       baseline_p50_ms=base.p50_ms,
                       target=">= 1,000 req/s and >= 0.5x the bare endpoint's throughput",
                       notes={"baseline_per_s": base.per_s, "throughput_ratio": ratio})


def analyst_list(url: str, backend: str, filters: list[dict[str, str]], token: str, load: HttpLoad) -> Figure:
    """An analyst's first page of 50 datasets, filtered, cycling through `filters`.

    One connection: the target is the latency a person waits for, not what many clients queue for.
    """
    rotation = [HttpRequest("POST", "/graphql", {"query": LIST_QUERY, "variables": {"filter": f}}) for f in filters]
    listed = load.drive(url, rotation, token, requests=load.requests // 4, connections=1)
    return listed.figure("analyst datasets(first: 50), filtered", backend, target="p50 <= 30 ms on L",
                         notes={"filters": filters})


def server_rss(backend: str, rss: RssSampler, name: str = "catalog serve") -> Figure:
    """The peak resident set size the sampler saw for the server while it was measured."""
    peak = rss.peak_mb(name)
    return reading(f"{name} RSS", backend, f"peak {peak:,.0f} MB" if peak else "not measured",
                   len(rss.samples[name]), target=f"<= {RSS_TARGET_MB} MB serving L from Neo4j",
                   notes={"peak_mb": peak, "final_mb": rss.final_mb(name)})


def timed_load_options(doc: str, profile: str, duration_s: float, duration: str,
                       connections: str) -> argparse.ArgumentParser:
    """The options of a benchmark that drives `catalog serve` for a while: `--duration` (seconds, `duration_s` by
    default), `--connections` and `--out` (bench/results/PROFILE.json by default). Add its own, then parse."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=duration_s, help=duration)
    parser.add_argument("--connections", type=int, default=4, help=connections)
    parser.add_argument("--out", type=Path, default=RESULTS / f"{profile}.json", help="where the JSON goes")
    return parser
