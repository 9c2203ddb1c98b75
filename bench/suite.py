"""`catalog bench`: every benchmark on both backends, on a generated landscape, beside same-run baselines.

Per backend, on one store holding the landscape:
- the bulk load itself;
- over HTTP, against `catalog serve` (one uvicorn worker): `dataset(id)` beside a bare Starlette endpoint on the
  same store, an analyst's filtered `datasets(first: 50)`, and `lineage` and `impact` at depths 3 and 10 beside
  the bare store query; the server's resident memory is sampled all the while;
- `dataset(id)` and the list again, the app called in this process (no network), beside the bare endpoint so called;
- checkAccess end to end in the service layer, beside the same graph reads alone.
Once: policy evaluation at 10, 100 and 1,000 rules, beside bare pycasbin. Prints one table and writes JSON.
"""

from __future__ import annotations

import platform
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console

from bench import check_access, http_api, in_process, lineage_impact, policy_eval
from bench.backends import BACKENDS, loaded, neo4j_java_opts, store_url, token_for
from bench.http_api import HttpLoad
from bench.landscape import Landscape, generate
from bench.load import wrk_available
from bench.measure import Figure, RssSampler, print_table, reading, write_json
from bench.readers import ANALYST_AGENCY, analyst, other_agency, visible_sample
from catalog.config import load_settings
from catalog.services import Services
from catalog.store.base import GraphStore


@dataclass(frozen=True)
class Profile:
    size: str
    http: HttpLoad  # each HTTP figure: how long wrk drives it (or how many requests httpx sends)
    traversal_s: float  # each GraphQL lineage/impact figure, one connection
    bare_iterations: int  # each bare traversal query
    access_iterations: int
    policy_iterations: int
    in_process_iterations: int  # dataset(id) and the bare endpoint in the process (the list: a tenth)


PROFILES = {
    "T": Profile("T", HttpLoad(duration_s=1, requests=50, warm_up=False), traversal_s=1, bare_iterations=5,
                 access_iterations=20, policy_iterations=50, in_process_iterations=50),
    "S": Profile("S", HttpLoad(duration_s=2, requests=1000), traversal_s=2, bare_iterations=50,
                 access_iterations=200, policy_iterations=1000, in_process_iterations=1000),
    "M": Profile("M", HttpLoad(duration_s=5, requests=3000), traversal_s=5, bare_iterations=100,
                 access_iterations=500, policy_iterations=2000, in_process_iterations=2000),
    "L": Profile("L", HttpLoad(duration_s=10, requests=5000), traversal_s=10, bare_iterations=100,
                 access_iterations=500, policy_iterations=2000, in_process_iterations=3000),
}
def bulk_load(backend: str, land: Landscape, seconds: float) -> Figure:
    written = land.node_count + land.edge_count
    return reading("bulk load", backend, f"{seconds:.1f} s, {written / seconds:,.0f} rows/s", 1,
                   target="L <= 60 s on Neo4j",
                   notes={"seconds": round(seconds, 2), "nodes": land.node_count, "edges": land.edge_count})


def over_http(store: GraphStore, land: Landscape, profile: Profile, workdir: Path, console: Console) -> list[Figure]:
    """Everything measured against running servers: the bare endpoint first, then `catalog serve`."""
    url, backend = store_url(store), store.backend
    settings = load_settings(store=url, policy_reload_interval_s=0)
    token = token_for(store, analyst(), settings)
    visible = visible_sample(Services(store, settings), land)
    filters = http_api.list_filters(ANALYST_AGENCY, other_agency(land))
    console.print(f"[bold]{backend}[/]: HTTP, {len(visible)} datasets the analyst may see")
    with http_api.serve_bare(url, workdir) as bare:
        base = http_api.bare_dataset(bare.url, backend, visible, profile.http)
    with http_api.serve_catalog(url, workdir) as served, RssSampler({"catalog serve": served.pid}) as rss:
        figures = [base, http_api.dataset_by_id(served.url, backend, visible, token, profile.http, base),
                   http_api.analyst_list(served.url, backend, filters, token, profile.http)]
        console.print(f"[bold]{backend}[/]: lineage and impact")
        traversal_load = HttpLoad(duration_s=profile.traversal_s, requests=profile.bare_iterations, connections=1,
                                  warm_up=profile.http.warm_up)
        figures += lineage_impact.measure_traversals(store, served.url, land, profile.bare_iterations, traversal_load)
    return [*figures, http_api.server_rss(backend, rss)]


def run_backend(backend: str, profile: Profile, land: Landscape, console: Console) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        console.print(f"[bold]{backend}[/]: loading {land.summary()}")
        with loaded(backend, land, profile.size, Path(tmp)) as (store, seconds):
            figures = [bulk_load(backend, land, seconds), *over_http(store, land, profile, Path(tmp), console)]
            console.print(f"[bold]{backend}[/]: the API called in the process")
            figures += in_process.measure(store, land, profile.in_process_iterations)
            console.print(f"[bold]{backend}[/]: checkAccess")
            figures.append(check_access.measure(store, land, profile.access_iterations))
    return figures


def run(size: str = "S", backends: tuple[str, ...] = BACKENDS, out: Path | None = None) -> list[Figure]:
    profile = PROFILES[size]
    console = Console(stderr=True)
    started = time.perf_counter()
    land = generate(size)
    console.print(f"landscape {size} generated in {time.perf_counter() - started:.1f} s")
    figures = policy_eval.run(iterations=profile.policy_iterations)
    for backend in backends:
        figures += run_backend(backend, profile, land, console)
    print_table(figures, f"Benchmarks, profile {size}")
    config = {"profile": asdict(profile), "landscape": land.summary(), "python": platform.python_version(),
              "load_generator": "wrk" if wrk_available() else "httpx (wrk not on PATH)",
              "neo4j_java_opts": neo4j_java_opts(size) if "neo4j" in backends else None,
              "uvicorn_workers": 1, "seconds": round(time.perf_counter() - started, 1)}
    write_json(figures, out or Path("bench/results") / f"{size}.json", size, config)
    console.print(f"done in {config['seconds']} s; figures in {out or Path('bench/results') / f'{size}.json'}")
    return figures
