"""`catalog serve` as a user runs it: a real process, on each backend, answering its probes over HTTP."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from tests.e2e.conftest import CatalogServer, StartServer


def test_after_demo_serve_is_live_and_ready(start_server: StartServer) -> None:
    served = start_server(demo=True)

    health = httpx.get(f"{served.url}/healthz", timeout=5)
    ready = httpx.get(f"{served.url}/readyz", timeout=5)

    assert health.status_code == 200, health.text
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "store": served.backend}


def test_serve_prepares_an_empty_store_and_names_it_in_its_log(server: CatalogServer) -> None:
    ready = httpx.get(f"{server.url}/readyz", timeout=5)

    assert ready.json() == {"status": "ready", "store": server.backend}
    assert f"serving {server.backend} store on {server.url}" in server.log_tail()


def test_serve_shuts_down_gracefully_on_sigterm(server: CatalogServer) -> None:
    exit_code = server.stop()

    # uvicorn finishes its shutdown, then re-raises the signal so the parent sees how it ended.
    assert exit_code in (0, -signal.SIGTERM), server.log_tail()
    log = server.log_path.read_text()
    assert "Application shutdown complete" in log
    assert "Traceback" not in log


def test_cli_runs_against_the_store_a_server_is_using(server: CatalogServer) -> None:
    result = server.run_cli("db", "init")

    assert result.returncode == 0, result.stderr
    assert f"{server.backend} store ready" in result.stdout
    assert httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200
