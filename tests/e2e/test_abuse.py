"""`catalog serve` under abuse: while clients keep sending query bombs, the server still answers its probes.

The bombs never reach the store, so these run on SQLite only.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from bench.limits import alias_flood, doubling_bomb, repeated_field
from tests.e2e.conftest import StoreUnderTest

if TYPE_CHECKING:
    from tests.e2e.conftest import StartServer

BOMBERS = 3
REFUSALS = 6
MAX_PROBES = 20_000
PROBE_TIMEOUT_S = 15.0  # a bound on "answered at all", not a latency target (bench/limits.py measures that)


@pytest.fixture
def store_env(tmp_path: Path) -> StoreUnderTest:
    return StoreUnderTest("sqlite", {"CATALOG_STORE": f"sqlite:///{tmp_path / 'catalog.db'}"})


def test_healthz_is_answered_while_bombs_are_being_refused(start_server: StartServer) -> None:
    served = start_server()
    documents = [doubling_bomb(24), alias_flood(40_000), repeated_field(1_000)]
    codes: list[str] = []
    stop = threading.Event()

    def bomb(document: str) -> None:
        with httpx.Client(base_url=served.url, timeout=120) as client:
            while not stop.is_set():
                body = client.post("/graphql", json={"query": document}).json()
                codes.extend(e["extensions"]["code"] for e in body["errors"])

    bombers = [threading.Thread(target=bomb, args=(documents[i % len(documents)],)) for i in range(BOMBERS)]
    for thread in bombers:
        thread.start()
    probes: list[int] = []
    try:
        with httpx.Client(base_url=served.url, timeout=PROBE_TIMEOUT_S) as prober:
            # At least one probe, then on until several bombs were refused (the bombers can be quick off the mark)
            while not probes or (len(codes) < REFUSALS and len(probes) < MAX_PROBES):
                probes.append(prober.get("/healthz").status_code)
    finally:
        stop.set()
        for thread in bombers:
            thread.join()

    assert probes and set(probes) == {200}
    assert len(codes) >= REFUSALS and set(codes) == {"BAD_USER_INPUT"}
