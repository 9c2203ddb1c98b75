"""End-to-end harness: `catalog serve` as a real separate process on each backend, driven over real HTTP.

Fixtures:
- `store_env`: a fresh, empty store on each backend (`sqlite`, and `neo4j` marked `neo4j`), as environment variables.
- `start_server(env_overrides=None, *, demo=False)`: serve that store with extra settings, after `catalog demo`
  when asked. Calling it twice in one test gives two servers on the same store (two replicas).
- `server`: a server on an empty store with default settings.
Every server is stopped at the end of its test: SIGTERM, then SIGKILL if it does not exit in time.
`ServerGroup` does the same for servers that outlive one test (a module's replicas: see test_replicas.py).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from tests.support.cli import clean_environment, run_cli

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
CLI_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.1
LOG_TAIL_LINES = 40
PORT_ATTEMPTS = 3  # tries at a free port, when a server finds the one it was given taken


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def catalog_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its CATALOG_ settings, plus `overrides`: the test alone configures."""
    env = clean_environment()
    env["PYTHONUNBUFFERED"] = "1"
    env["CATALOG_DEV_MODE"] = "true"  # test servers use the default secret; `overrides` may say otherwise
    env.update(overrides)
    return env


def run_catalog(env: Mapping[str, str], *args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run `python -m catalog.cli ARGS` from the repository root and capture its output."""
    return run_cli(*args, env=env, cwd=REPO, timeout=timeout)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return "(no log written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class StoreUnderTest:
    """A fresh store: which backend, and the settings that point `catalog` at it."""

    backend: str
    env: dict[str, str]


@dataclass
class CatalogServer:
    """A running `catalog serve` process and the environment it was started with."""

    backend: str
    url: str
    env: dict[str, str] = field(repr=False)
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def run_cli(self, *args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        """Run `catalog ARGS` against the same store and settings as this server."""
        return run_catalog(self.env, *args, timeout=timeout)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return log_tail(self.log_path, lines)

    def stop(self) -> int:
        """Stop the server (SIGTERM, then SIGKILL) and return its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class StartServer(Protocol):
    def __call__(self, env_overrides: Mapping[str, str] | None = None, *, demo: bool = False) -> CatalogServer: ...


def _spawn(env: dict[str, str], log_path: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "catalog.cli", "serve", "--host", HOST, "--port", str(port)]
    with log_path.open("wb") as log:
        return subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def wait_until_ready(server: CatalogServer) -> None:
    """Poll /readyz until it answers 200; raise with the server's log tail if it exits or times out."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while True:
            exit_code = server.process.poll()
            if exit_code is not None:
                raise RuntimeError(
                    f"catalog serve exited with code {exit_code} before it was ready; log:\n{server.log_tail()}"
                )
            try:
                if client.get(f"{server.url}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"catalog serve at {server.url} was not ready within {READY_TIMEOUT_S:.0f} s; "
                    f"log:\n{server.log_tail()}"
                )
            time.sleep(POLL_INTERVAL_S)


def _load_demo(env: Mapping[str, str]) -> None:
    result = run_catalog(env, "demo")
    if result.returncode != 0:
        raise RuntimeError(f"catalog demo failed with code {result.returncode}:\n{result.stdout}{result.stderr}")


def empty_neo4j(uri: str) -> dict[str, str]:
    from catalog.store.neo4j import Neo4jStore

    store = Neo4jStore(uri, user="neo4j", password="")
    try:
        store.clear()
    finally:
        store.close()
    return {"CATALOG_STORE": uri, "CATALOG_NEO4J__USER": "neo4j", "CATALOG_NEO4J__PASSWORD": ""}


BACKENDS = ["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)]


def fresh_store(request: pytest.FixtureRequest, backend: str, folder: Path) -> StoreUnderTest:
    """A fresh, empty store on `backend` (a SQLite file in `folder`, or the suite's Neo4j emptied)."""
    if backend == "sqlite":
        # sqlite:/// followed by an absolute path: four slashes in all.
        return StoreUnderTest("sqlite", {"CATALOG_STORE": f"sqlite:///{folder / 'catalog.db'}"})
    return StoreUnderTest("neo4j", empty_neo4j(request.getfixturevalue("neo4j_uri")))


@pytest.fixture(params=BACKENDS)
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> StoreUnderTest:
    """A fresh, empty store on each backend, as the settings that name it."""
    return fresh_store(request, request.param, tmp_path)


class ServerGroup:
    """`catalog serve` processes on one store: started one by one, stopped together, after which the store's audit
    trail must still verify end to end, whatever was done to it over HTTP."""

    def __init__(self, store: StoreUnderTest, folder: Path) -> None:
        self.store, self.folder = store, folder
        self.started: list[CatalogServer] = []

    def start(self, env_overrides: Mapping[str, str] | None = None, *, demo: bool = False) -> CatalogServer:
        """Start a server on the store with extra settings, optionally after `catalog demo`."""
        env = catalog_env({**self.store.env, **(env_overrides or {})})
        if demo:
            _load_demo(env)
        log_path = self.folder / f"serve-{len(self.started) + 1}.log"
        for attempt in range(1, PORT_ATTEMPTS + 1):
            port = free_port()
            server = CatalogServer(
                self.store.backend, f"http://{HOST}:{port}", env, log_path, _spawn(env, log_path, port)
            )
            try:
                wait_until_ready(server)
            except RuntimeError:
                # Another worker's server may have taken the port between free_port() and the bind: try another.
                if attempt == PORT_ATTEMPTS or "already in use" not in server.log_tail():
                    self.started.append(server)  # stopped at teardown, should it still be running
                    raise
                continue
            self.started.append(server)
            return server
        raise AssertionError("unreachable: the last attempt returns or raises")

    def stop_and_verify(self) -> None:
        for server in self.started:
            server.stop()
        if self.started:
            verified = run_catalog(catalog_env(self.store.env), "audit", "verify")
            assert verified.returncode == 0, f"audit trail broken:\n{verified.stdout}{verified.stderr}"


@pytest.fixture
def start_server(store_env: StoreUnderTest, tmp_path: Path) -> Iterator[StartServer]:
    """Start `catalog serve` on the test's store with extra settings, optionally after `catalog demo`."""
    group = ServerGroup(store_env, tmp_path)
    yield group.start
    group.stop_and_verify()


@pytest.fixture
def server(start_server: StartServer) -> CatalogServer:
    """`catalog serve` with default settings on a fresh, empty store."""
    return start_server()
