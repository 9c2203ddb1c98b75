"""Suite-wide fixtures: the real Neo4j server (started once per worker process) and fixture-file lookup."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.store.base import GraphStore

ON_CI = os.environ.get("CI") == "true"
REPO = Path(__file__).resolve().parent.parent


APT_TIMEOUT_S = 900


def can_apt_install() -> bool:
    """True on a fresh CI machine, where the suite runs as root and may install Debian packages it needs."""
    return ON_CI and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


@contextlib.contextmanager
def installing() -> Iterator[None]:
    """One installer at a time across the suite's worker processes (pytest-xdist): apt holds a lock of its own
    and refuses, rather than waits, when another worker's apt-get has it."""
    with open(Path(tempfile.gettempdir()) / "public-catalog-tests-install.lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def apt_install(package: str, provides: str | None = None) -> None:
    """Install one Debian package (only where `can_apt_install`); a failure fails the test with apt's words.
    Nothing is installed when the command it `provides` is on PATH by the time this worker's turn comes."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with installing():
        if provides is not None and shutil.which(provides) is not None:
            return
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", package]):
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=APT_TIMEOUT_S, env=env, check=False
            )
            if result.returncode != 0:
                pytest.fail(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[-2000:]}")


def ensure_tool(command: str, package: str) -> bool:
    """Whether `command` is on PATH, installing Debian's `package` first on a fresh CI machine."""
    if shutil.which(command) is None and can_apt_install():
        apt_install(package, provides=command)
    return shutil.which(command) is not None


def skip_or_fail(reason: str) -> None:
    """On CI a missing prerequisite is a failure; on a user's machine the test is skipped with the reason."""
    if ON_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def neo4j_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Neo4j Community server, embedded in a JVM, on a free loopback port."""
    from catalog_devtools.neo4j_embedded import EmbeddedNeo4j, tooling_problem

    problem = tooling_problem()
    if problem:
        skip_or_fail(f"Neo4j tests need Java 17 and Maven: {problem}")
    server = EmbeddedNeo4j(tmp_path_factory.mktemp("neo4j"))
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """A fresh, empty store on every backend: tests written once run on both."""
    if request.param == "sqlite":
        from catalog.store.sqlite import SqliteStore

        backend: GraphStore = SqliteStore(tmp_path / "catalog.db")
    else:
        from catalog.store.neo4j import Neo4jStore

        backend = Neo4jStore(request.getfixturevalue("neo4j_uri"))
    backend.init_schema()
    backend.clear()
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The shared real-world fixtures (CKAN, OpenLineage, DCAT-AP); CATALOG_FIXTURES_DIR overrides."""
    path = Path(os.environ.get("CATALOG_FIXTURES_DIR", REPO.parent / "shared" / "fixtures"))
    if not path.is_dir():
        skip_or_fail(f"fixtures not found at {path}; set CATALOG_FIXTURES_DIR to run these tests")
    return path
