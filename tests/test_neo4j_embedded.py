"""The embedded Neo4j launcher starts a real server that the official driver can use."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from catalog_devtools.neo4j_embedded import EmbeddedNeo4j, tooling_problem


def _require_tooling() -> None:
    reason = tooling_problem()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """Zombies count as dead: an orphaned JVM is reaped by whatever init this machine has."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_closed(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _port_open(port):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.neo4j
def test_start_write_read_stop(tmp_path: Path) -> None:
    _require_tooling()
    server = EmbeddedNeo4j(tmp_path / "neo4j")
    with server:
        assert server.uri == f"bolt://127.0.0.1:{server.port}"
        with GraphDatabase.driver(server.uri, auth=None) as driver:
            driver.execute_query("CREATE (:Dataset {id: $id, title: $title})", id="ds-1", title="Road traffic counts")
            records, _, _ = driver.execute_query("MATCH (d:Dataset {id: $id}) RETURN d.title AS title", id="ds-1")
        assert [r["title"] for r in records] == ["Road traffic counts"]
        port = server.port
        assert _port_open(port)
    assert not server.is_running()
    assert not _port_open(port)
    assert (tmp_path / "neo4j" / "logs" / "debug.log").is_file()


@pytest.mark.neo4j
def test_jvm_does_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    """A SIGKILLed Python parent closes the JVM's stdin; the JVM must then shut itself down."""
    _require_tooling()
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from catalog_devtools.neo4j_embedded import EmbeddedNeo4j
        server = EmbeddedNeo4j(Path({str(tmp_path / "neo4j")!r}))
        server.start()
        print(server.port, server.pid, flush=True)
        time.sleep(600)
        """
    )
    repo = Path(__file__).resolve().parents[1]
    pythonpath = [str(repo), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line, "the child process could not start Neo4j (see its captured stderr)"
        port_s, pid_s = line.split()
        port, jvm_pid = int(port_s), int(pid_s)
        assert _port_open(port)
        parent.kill()
        parent.wait(timeout=10)
        assert _wait_closed(port, timeout=60), "JVM kept serving Bolt after its parent died"
        deadline = time.monotonic() + 30
        while _alive(jvm_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(jvm_pid):
            os.kill(jvm_pid, signal.SIGKILL)
            pytest.fail("JVM still alive 30s after its parent was killed")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=10)
        parent.stdout.close()


def test_tooling_problem_names_missing_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = tooling_problem()
    assert reason is not None
    assert reason.startswith("java 17 not found on PATH")
    assert "openjdk-17-jdk-headless" in reason
