"""Run a real Neo4j Community server, embedded in a JVM, for tests, local dev and benchmarks.

No Docker and no Neo4j distribution are needed: the server jars come from Maven Central through
``mvn`` (see ``pom.xml`` beside this file), are cached per Neo4j version, and ``Launcher.java``
starts an embedded ``DatabaseManagementService`` with Bolt on a loopback port and auth disabled.

    with EmbeddedNeo4j(tmp_path / "neo4j") as server:
        driver = neo4j.GraphDatabase.driver(server.uri, auth=None)

Never use this for anything but throwaway data: authentication is off.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Final

__all__ = [
    "DEFAULT_JAVA_OPTS",
    "NEO4J_VERSION",
    "EmbeddedNeo4j",
    "Neo4jStartupError",
    "Neo4jToolingMissing",
    "default_cache_dir",
    "ensure_jars",
    "tooling_problem",
]

NEO4J_VERSION: Final = "5.26.30"
CACHE_ENV: Final = "CATALOG_NEO4J_CACHE"
JAVA_OPTS_ENV: Final = "CATALOG_NEO4J_JAVA_OPTS"

MIN_JAVA: Final = 17
MAVEN_TIMEOUT: Final = 900.0

_HERE: Final = Path(__file__).resolve().parent
_POM: Final = _HERE / "pom.xml"
_LAUNCHER: Final = _HERE / "Launcher.java"
_MARKER: Final = "jars.ok"
_READY: Final = "NEO4J READY "

# Heap is capped because the JVM would otherwise size itself from the whole machine; the
# --add-opens flags let Neo4j's page cache and Netty use direct buffers without a fallback path.
DEFAULT_JAVA_OPTS: Final[tuple[str, ...]] = (
    "-Xms256m",
    "-Xmx1g",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-OmitStackTraceInFastThrow",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
)


class Neo4jToolingMissing(RuntimeError):
    """``java`` (17+), ``javac`` or ``mvn`` is missing, so no embedded Neo4j can be started."""


class Neo4jStartupError(RuntimeError):
    """The Neo4j JVM died or did not become ready in time; the message carries its log tail."""


# --------------------------------------------------------------------------- tooling


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    # Java 8 and older report "1.8.0_x".
    return int(match.group(2) or 0) if major == 1 else major


def tooling_problem(cache_dir: Path | None = None) -> str | None:
    """Return why an embedded Neo4j cannot start here, in one line, or None if it can.

    Needs a JDK 17+ (``java`` and ``javac``), and ``mvn`` unless the jars are already cached.
    """
    java = shutil.which("java")
    if java is None:
        return (
            f"java {MIN_JAVA} not found on PATH: install a JDK {MIN_JAVA} "
            "(apt-get install openjdk-17-jdk-headless) to run the Neo4j tests"
        )
    major = _java_major(java)
    if major is None or major < MIN_JAVA:
        found = "an unknown version" if major is None else f"version {major}"
        return (
            f"java on PATH ({java}) is {found}, Neo4j {NEO4J_VERSION} needs {MIN_JAVA}+: "
            "install a JDK 17 (apt-get install openjdk-17-jdk-headless) to run the Neo4j tests"
        )
    if shutil.which("javac") is None:
        return (
            "javac not found on PATH (a JRE is not enough): install a JDK 17 "
            "(apt-get install openjdk-17-jdk-headless) to run the Neo4j tests"
        )
    if shutil.which("mvn") is None and not _jars_ready(_resolve_cache(cache_dir)):
        return (
            "mvn not found on PATH: install Maven 3.8+ (apt-get install maven) so the Neo4j "
            f"{NEO4J_VERSION} jars can be fetched from Maven Central"
        )
    return None


def _require_tooling(cache_dir: Path) -> None:
    problem = tooling_problem(cache_dir)
    if problem is not None:
        raise Neo4jToolingMissing(problem)


# --------------------------------------------------------------------------- jar cache


def default_cache_dir() -> Path:
    """``$CATALOG_NEO4J_CACHE`` if set, else ``~/.cache/public-catalog/neo4j-<version>``."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "public-catalog" / f"neo4j-{NEO4J_VERSION}"


def _resolve_cache(cache_dir: Path | None) -> Path:
    return (cache_dir if cache_dir is not None else default_cache_dir()).expanduser().resolve()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _expected_marker() -> dict[str, str]:
    # The pom's digest is part of the key so that editing the dependency list refetches.
    return {"neo4j_version": NEO4J_VERSION, "pom_sha256": _digest(_POM)}


def _jars_ready(cache: Path) -> bool:
    try:
        marker = json.loads((cache / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker == _expected_marker() and (cache / "lib" / f"neo4j-{NEO4J_VERSION}.jar").is_file()


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """Serialise cache writers across processes (e.g. two pytest runs starting together)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


_ANSI: Final = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _tail(text: str, lines: int = 40) -> str:
    # Maven 3.8 emits colour resets even in batch mode.
    return "\n".join(_ANSI.sub("", text).splitlines()[-lines:])


def _fetch_jars(cache: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise Neo4jToolingMissing(
            "mvn not found on PATH: install Maven 3.8+ (apt-get install maven) so the Neo4j "
            f"{NEO4J_VERSION} jars can be fetched from Maven Central"
        )
    lib, staging = cache / "lib", cache / "lib.partial"
    shutil.rmtree(staging, ignore_errors=True)
    # Maven runs on a copy so an installed (possibly read-only) package dir is never written to.
    shutil.copyfile(_POM, cache / "pom.xml")
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(cache / "pom.xml"),
        f"-Dneo4j.version={NEO4J_VERSION}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
    ]
    try:
        proc = subprocess.run(
            cmd,
            cwd=cache,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=MAVEN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"Maven did not finish fetching the Neo4j {NEO4J_VERSION} jars in {MAVEN_TIMEOUT:.0f}s"
        ) from exc
    if proc.returncode != 0 or not (staging / f"neo4j-{NEO4J_VERSION}.jar").is_file():
        raise RuntimeError(
            f"Maven failed (exit {proc.returncode}) fetching the Neo4j {NEO4J_VERSION} jars into "
            f"{cache}:\n$ {' '.join(cmd)}\n{_tail(proc.stdout + proc.stderr)}"
        )
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    marker = cache / f"{_MARKER}.tmp"
    marker.write_text(json.dumps(_expected_marker()), encoding="utf-8")
    marker.replace(cache / _MARKER)


def ensure_jars(cache_dir: Path | None = None) -> Path:
    """Fetch Neo4j's runtime jars with Maven once; return the directory holding them.

    Later calls (and other processes) only check a marker file and never run Maven again.
    """
    cache = _resolve_cache(cache_dir)
    if _jars_ready(cache):
        return cache / "lib"
    with _locked(cache):
        if not _jars_ready(cache):  # another process may have fetched them while we waited
            _fetch_jars(cache)
    return cache / "lib"


def _ensure_launcher(cache: Path, lib: Path) -> Path:
    """Compile Launcher.java once per source version: the single-file source launcher would
    recompile it against ~200 jars on every start, which costs about 3 s."""
    classes = cache / "classes" / f"{NEO4J_VERSION}-{_digest(_LAUNCHER)}"
    if (classes / "Launcher.class").is_file():
        return classes
    javac = shutil.which("javac")
    if javac is None:
        raise Neo4jToolingMissing("javac not found on PATH: install a JDK 17 (apt-get install openjdk-17-jdk-headless)")
    with _locked(cache):
        if (classes / "Launcher.class").is_file():
            return classes
        staging = classes.with_name(classes.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        proc = subprocess.run(
            [javac, "-nowarn", "-cp", str(lib / "*"), "-d", str(staging), str(_LAUNCHER)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"javac failed on {_LAUNCHER}:\n{_tail(proc.stdout + proc.stderr)}")
        staging.rename(classes)
    return classes


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _bolt_ok(uri: str) -> bool:
    """True once the official driver can handshake; True as well if the driver is absent."""
    try:
        from neo4j import GraphDatabase
        from neo4j.exceptions import DriverError, Neo4jError
    except ImportError:
        return True
    try:
        with GraphDatabase.driver(uri, auth=None, connection_timeout=5.0) as driver:
            driver.verify_connectivity()
        return True
    except (DriverError, Neo4jError, OSError):
        return False


class EmbeddedNeo4j:
    """A Neo4j Community server in a child JVM, Bolt on ``127.0.0.1``, auth disabled.

    ``data_dir`` becomes the Neo4j home: store files under ``data/``, Neo4j's own logs under
    ``logs/``, and the JVM's stdout/stderr in ``launcher.log``. Reusing a data dir keeps its data.
    The JVM exits on ``stop()``, on SIGTERM, and when this process dies (its stdin closes).
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        cache_dir: Path | None = None,
        java_opts: Sequence[str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self._requested_port = port
        self._port: int | None = port
        self._cache = _resolve_cache(cache_dir)
        extra = os.environ.get(JAVA_OPTS_ENV, "").split()
        self._java_opts = [*(DEFAULT_JAVA_OPTS if java_opts is None else java_opts), *extra]
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # ----------------------------------------------------------------- properties

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmbeddedNeo4j has no port yet: call start() first")
        return self._port

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "launcher.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ----------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 180) -> None:
        """Start the JVM and return once Bolt answers; ``timeout`` excludes a first Maven fetch.

        Raises Neo4jToolingMissing if java/javac/mvn are missing, Neo4jStartupError (with the
        log tail) if the JVM exits or is not ready within ``timeout`` seconds.
        """
        if self.is_running():
            return
        _require_tooling(self._cache)
        lib = ensure_jars(self._cache)
        classes = _ensure_launcher(self._cache, lib)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        # A port picked here can be taken by someone else before the JVM binds it: retry then.
        attempts = 1 if self._requested_port is not None else 3
        for attempt in range(1, attempts + 1):
            self._port = self._requested_port or _free_port()
            try:
                self._launch_and_wait(classes, lib, deadline)
                return
            except Neo4jStartupError as exc:
                if attempt == attempts or "Address already in use" not in str(exc):
                    raise

    def _launch_and_wait(self, classes: Path, lib: Path, deadline: float) -> None:
        java = shutil.which("java") or "java"
        cmd = [
            java,
            *self._java_opts,
            "-cp",
            f"{classes}{os.pathsep}{lib / '*'}",
            "Launcher",
            str(self.data_dir),
            str(self.port),
        ]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} $ {' '.join(cmd)}\n".encode())
        self._log.flush()
        offset = self.log_path.stat().st_size
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            # Own session: a terminal's Ctrl-C reaches only Python, which then stops the JVM in order.
            start_new_session=True,
        )
        ready_line = f"{_READY}{self.uri}"
        saw_ready = False
        while True:
            code = self._proc.poll()
            if code is not None:
                self._cleanup()
                raise Neo4jStartupError(
                    f"Neo4j JVM exited with code {code} during start-up.\n{self._diagnostics(offset)}"
                )
            if not saw_ready:
                saw_ready = ready_line in self._read_log(offset)
            if saw_ready and _port_open(self.port) and _bolt_ok(self.uri):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise Neo4jStartupError(
                    f"Neo4j was not ready on {self.uri} in time "
                    f"(READY line seen: {saw_ready}).\n{self._diagnostics(offset)}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the JVM (it checkpoints and shuts down), wait, and SIGKILL it if it hangs."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._proc is not None and self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    # ----------------------------------------------------------------- diagnostics

    def _read_log(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _diagnostics(self, offset: int) -> str:
        parts = [f"--- last lines of {self.log_path}:\n{_tail(self._read_log(offset)) or '(empty)'}"]
        debug_log = self.data_dir / "logs" / "debug.log"
        if debug_log.is_file():
            text = debug_log.read_text(encoding="utf-8", errors="replace")
            parts.append(f"--- last lines of {debug_log}:\n{_tail(text, 20)}")
        return "\n".join(parts)

    # ----------------------------------------------------------------- context manager

    def __enter__(self) -> EmbeddedNeo4j:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"EmbeddedNeo4j({str(self.data_dir)!r}, port={self._port}, {state})"
