"""`catalog bench`: every benchmark on both backends, on a generated landscape, beside same-run baselines.

Per backend, on one store: bulk load of the landscape; `dataset(id)` and an analyst's `datasets(first: 50)`
over HTTP (against a bare Starlette endpoint); `impact` through GraphQL at depths 3 and 10 (against the bare
store query); checkAccess end to end (against the same graph reads alone). Once: policy evaluation at 10, 100
and 1,000 rules (against bare pycasbin). Prints one table and writes the figures as JSON.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from bench import check_access, http_api, lineage_impact, policy_eval
from bench.landscape import generate, load
from bench.measure import Figure, figure, print_table, write_json
from catalog.api.auth import issue_token
from catalog.config import load_settings
from catalog.domain import Person, Role
from catalog.principal import Principal
from catalog.services import DatasetFilter, Services
from catalog.store.base import GraphStore
from catalog.store.neo4j import Neo4jStore
from catalog.store.schema import Label
from catalog.store.sqlite import SqliteStore


@dataclass(frozen=True)
class Profile:
    size: str
    http_requests: int
    impact_iterations: int
    access_iterations: int
    policy_iterations: int


PROFILES = {
    "S": Profile("S", http_requests=1000, impact_iterations=50, access_iterations=200, policy_iterations=1000),
    "M": Profile("M", http_requests=3000, impact_iterations=100, access_iterations=500, policy_iterations=2000),
    "L": Profile("L", http_requests=5000, impact_iterations=100, access_iterations=500, policy_iterations=2000),
}


def store_url(store: GraphStore) -> str:
    if isinstance(store, SqliteStore):
        return f"sqlite:///{Path(store.path).resolve()}"
    assert isinstance(store, Neo4jStore)
    return store.uri


def analyst_of(land_agency: str) -> Person:
    return Person(id="bench.analyst", name="Bench Analyst", agency_id=land_agency, roles=[Role.ANALYST])


def run_backend(backend: str, profile: Profile, console: Console) -> list[Figure]:
    land = generate(profile.size)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp, lineage_impact.open_backend(backend, Path(tmp)) as store:
        console.print(f"[bold]{backend}[/]: loading {land.summary()}")
        started = time.perf_counter()
        load(store, land)
        load_s = time.perf_counter() - started
        nodes = sum(len(n) for n in land.nodes.values())
        figures.append(
            figure(
                "bulk load",
                backend,
                [load_s],
                load_s,
                target="L <= 60 s on Neo4j",
                notes={"nodes": nodes, "edges": land.lineage_edges, "nodes_per_s": round(nodes / load_s)},
            )
        )
        settings = load_settings(store=store_url(store), policy_reload_interval_s=0)
        services = Services(store, settings)
        agency = sorted(land.nodes[Label.AGENCY])[0]
        analyst = analyst_of(agency)
        principal = Principal(analyst.id, analyst.agency_id, frozenset(analyst.roles))
        visible = [d.id for d in services.reads.datasets(principal, DatasetFilter(), first=100).items]
        console.print(f"[bold]{backend}[/]: HTTP ({len(visible)} datasets visible to the analyst)")
        figures += http_api.run(
            store_url(store),
            backend,
            visible,
            issue_token(analyst, settings.auth),
            Path(tmp),
            requests=profile.http_requests,
        )
        console.print(f"[bold]{backend}[/]: impact")
        for depth in (3, 10):
            figures += lineage_impact.measure_on(store, land, profile.size, profile.impact_iterations, depth=depth)
        console.print(f"[bold]{backend}[/]: checkAccess")
        figures.append(check_access.measure(store, backend, profile.access_iterations))
    return figures


def run(size: str = "S", backends: tuple[str, ...] = ("sqlite", "neo4j"), out: Path | None = None) -> list[Figure]:
    profile = PROFILES[size]
    console = Console(stderr=True)
    figures = policy_eval.run(iterations=profile.policy_iterations)
    for backend in backends:
        figures += run_backend(backend, profile, console)
    print_table(figures, f"Benchmarks, profile {size}")
    write_json(figures, out or Path("bench/results") / f"{size}.json", size)
    return figures
