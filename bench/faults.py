"""Reliability under faults and fuzzing: the figures behind BENCHMARKS.md's "Reliability" section.

    python -m bench.faults [--clients 20] [--cases 3]

Two runs, both against real `catalog serve` processes on 127.0.0.1:

- **Kill.** A Neo4j of its own (the embedded launcher, on a data directory), a server on it and `clients` threads
  registering agencies as fast as they are answered, half of them with an `Idempotency-Key` (retried with the
  same key until answered), half without (never retried). Neo4j is killed with SIGKILL, then restarted on the same
  data directory. Counted: writes acknowledged, acknowledged but missing afterwards (lost), answered as failed
  but present afterwards (phantom; OUTCOME_UNKNOWN answers may go either way), keyed retries answered CONFLICT
  (a key not honoured), the slowest answer while Neo4j was down, and seconds from Neo4j being ready again to the
  first write answered (recovery). Its baseline, measured in the same restart: seconds until Neo4j itself runs a
  write for a bare driver (a `CREATE` rolled back), so a slow machine or a slow JVM start shows in both figures.
- **Fuzz.** schemathesis, in GraphQL mode, generates `cases` queries and mutations for every root field of the
  schema and sends them as a signed-in administrator, on SQLite and on Neo4j. Counted: cases, 5xx answers and
  INTERNAL errors.

`tests/e2e/test_faults.py` runs the same functions, bounded, and asserts the counts and that the catalog recovered
at all; timings, and the 15 s recovery target the resilience issue states, are printed here only.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REGISTER = "mutation($i: RegisterAgencyInput!) { registerAgency(input: $i) { id } }"
FAILED = "UNAVAILABLE"
UNKNOWN = "OUTCOME_UNKNOWN"
ANSWER_TIMEOUT_S = 60.0
RECOVERY_TARGET_S = 15.0  # the resilience issue's: from Neo4j ready again to writes answered


# --- the kill run -----------------------------------------------------------------------------------------------


@dataclass
class KillReport:
    """What the clients were told, and what the store held afterwards."""

    acknowledged: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)  # answered UNAVAILABLE, never retried: must not be there
    unknown: set[str] = field(default_factory=set)  # OUTCOME_UNKNOWN or no answer: may or may not be there
    unkept_keys: list[str] = field(default_factory=list)  # a keyed retry answered anything but the first result
    other: list[str] = field(default_factory=list)  # answers that are none of the above (e.g. INTERNAL)
    lost: set[str] = field(default_factory=set)
    phantom: set[str] = field(default_factory=set)
    slowest_failure_s: float = 0.0  # the slowest failure answer to a request sent while the store was down
    recover_s: float | None = None  # from Neo4j ready again to the first write answered
    bare_recover_s: float | None = None  # the baseline: from Neo4j ready again to a bare driver's write run
    # (monotonic time answered, code or "OK", seconds it took): a timeline
    answers: list[tuple[float, str, float]] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "writes acknowledged": len(self.acknowledged),
            "answered failed": len(self.failed),
            "answered outcome unknown": len(self.unknown),
            "lost": len(self.lost),
            "phantom": len(self.phantom),
            "keyed retries not honoured": len(self.unkept_keys),
            "other answers": len(self.other),
            "slowest failure answer while down (s)": round(self.slowest_failure_s, 2),
            "seconds to recover": _rounded(self.recover_s),
            "seconds to recover, bare driver (baseline)": _rounded(self.bare_recover_s),
        }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)


def _code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return str(errors[0].get("extensions", {}).get("code")) if errors else None


class _Writer:
    """One client: registers agencies one after another until told to stop."""

    def __init__(self, n: int, url: str, token: str, report: KillReport, lock: threading.Lock) -> None:
        self.n, self.url, self.report, self.lock = n, url, report, lock
        self.keyed = n % 2 == 0
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, client: httpx.Client, id: str, key: str | None) -> tuple[str | None, float]:
        """The answer's code (None for the result) and how long it took; "NO_ANSWER" if there was none."""
        started = time.monotonic()
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        payload = {"query": REGISTER, "variables": {"i": {"id": id, "name": f"Agency {id}"}}}
        try:
            body = client.post(f"{self.url}/graphql", json=payload, headers=headers).json()
        except (httpx.HTTPError, ValueError):
            return "NO_ANSWER", time.monotonic() - started
        code = _code(body)
        if code is None and (body.get("data") or {}).get("registerAgency", {}).get("id") != id:
            code = "WRONG_RESULT"
        took = time.monotonic() - started
        with self.lock:
            self.report.answers.append((time.monotonic(), code or "OK", took))
        return code, took

    def run(self, stop: threading.Event) -> None:
        with httpx.Client(timeout=ANSWER_TIMEOUT_S) as client:
            i = 0
            while not stop.is_set():
                i += 1
                self.one(client, f"k{self.n}-{i}")

    def one(self, client: httpx.Client, id: str) -> None:
        key = f"key-{id}" if self.keyed else None
        code, _ = self.post(client, id, key)
        failures = 0
        while self.keyed and code in (FAILED, UNKNOWN, "NO_ANSWER") and failures < 200:
            failures += 1
            time.sleep(0.2)  # a keyed client retries the same request until it is answered
            code, _ = self.post(client, id, key)
            if code not in (None, FAILED, UNKNOWN, "NO_ANSWER"):
                with self.lock:
                    self.report.unkept_keys.append(f"{id}: {code}")
                return
        with self.lock:
            if code is None:
                self.report.acknowledged.add(id)
            elif code == FAILED:
                self.report.failed.add(id)
            elif code in (UNKNOWN, "NO_ANSWER"):
                self.report.unknown.add(id)
            else:
                self.report.other.append(f"{id}: {code}")
        if code is not None:
            time.sleep(0.2)


def _first_write_after(url: str, token: str, limit_s: float) -> float | None:
    """Seconds until a write is answered with its result, asking every 0.1 s (and /readyz, as a balancer would)."""
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=ANSWER_TIMEOUT_S) as client:
        n = 0
        while time.monotonic() - started < limit_s:
            n += 1
            client.get(f"{url}/readyz")
            payload = {"query": REGISTER, "variables": {"i": {"id": f"probe-{os.getpid()}-{n}", "name": "Probe"}}}
            try:
                body = client.post(f"{url}/graphql", json=payload, headers=headers).json()
            except (httpx.HTTPError, ValueError):
                body = {"errors": [{}]}
            if not body.get("errors"):
                return time.monotonic() - started
            time.sleep(0.1)
    return None


def _bare_write_after(uri: str, limit_s: float, into: list[float]) -> None:
    """Seconds until Neo4j runs a write for a bare driver (a CREATE, rolled back), appended to `into`."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import DriverError, Neo4jError

    started = time.monotonic()
    with GraphDatabase.driver(uri, auth=None, connection_timeout=5.0) as driver:
        while time.monotonic() - started < limit_s:
            try:
                with driver.session() as session, session.begin_transaction() as tx:
                    tx.run("CREATE (n)").consume()  # no label: not even a token is left
                    tx.rollback()
                into.append(time.monotonic() - started)
                return
            except (DriverError, Neo4jError, OSError):
                time.sleep(0.1)


def kill_under_load(
    neo4j: Any,
    url: str,
    token: str,
    stored_ids: Callable[[], set[str]],
    *,
    clients: int = 20,
    before_s: float = 2.0,
    down_s: float = 2.0,
    after_s: float = 2.0,
    recover_limit_s: float = 60.0,
) -> KillReport:
    """Kill `neo4j` (an EmbeddedNeo4j the server at `url` uses) under load and restart it on its data directory.

    `stored_ids` reads the ids of the agencies in the store once it is back.
    """
    report, lock = KillReport(), threading.Lock()
    stop = threading.Event()
    writers = [_Writer(n, url, token, report, lock) for n in range(clients)]
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    time.sleep(before_s)
    killed = time.monotonic()
    os.kill(neo4j.pid, signal.SIGKILL)
    neo4j.stop()  # reaps the killed JVM
    time.sleep(down_s)
    neo4j.start()
    ready = time.monotonic()
    bare: list[float] = []
    baseline = threading.Thread(target=_bare_write_after, args=(neo4j.uri, recover_limit_s, bare), daemon=True)
    baseline.start()
    probed = _first_write_after(url, token, recover_limit_s)
    baseline.join(recover_limit_s)
    report.bare_recover_s = bare[0] if bare else None
    time.sleep(after_s)
    stop.set()
    for thread in threads:
        thread.join(ANSWER_TIMEOUT_S)
    # Recovered when any client, or the probe, was first answered with a result after Neo4j was ready again.
    first = min((t for t, code, _ in report.answers if code == "OK" and t >= ready), default=None)
    after_ready = None if first is None else first - ready
    report.recover_s = min((s for s in (probed, after_ready) if s is not None), default=None)
    sent_while_down = [took for t, code, took in report.answers if code != "OK" and t - took >= killed and t <= ready]
    report.slowest_failure_s = max(sent_while_down, default=0.0)
    present = stored_ids()
    report.lost = report.acknowledged - present
    report.phantom = report.failed & present
    return report


# --- the fuzz run -----------------------------------------------------------------------------------------------


@dataclass
class FuzzReport:
    cases: int = 0
    server_errors: list[str] = field(default_factory=list)  # "status: operation: query"
    internal: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {"cases": self.cases, "5xx": len(self.server_errors), "INTERNAL": len(self.internal)}


def fuzz(url: str, token: str, *, cases_per_operation: int = 3, seed: int = 20) -> FuzzReport:
    """schemathesis in GraphQL mode: `cases_per_operation` generated documents for each root field."""
    import schemathesis.graphql
    from schemathesis.core.result import Err

    # From the SDL in the repository (a test holds it to the server's schema): schemathesis's own introspection
    # query is deeper than CATALOG_API__MAX_DEPTH allows.
    schema = schemathesis.graphql.from_path(str(Path(__file__).resolve().parent.parent / "schema.graphql"))
    report = FuzzReport()
    headers = {"Authorization": f"Bearer {token}"}
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the SDL is ours and a test holds it to the server: a broken one is our bug
            raise result.err()
        _fuzz_operation(result.ok(), url, headers, report, cases_per_operation)
    return report


def _fuzz_operation(operation: Any, url: str, headers: dict[str, str], report: FuzzReport, cases: int) -> None:
    """Send `cases` documents schemathesis generates for one root field, noting 5xx answers and INTERNAL errors."""
    from hypothesis import HealthCheck, Phase, given, settings

    @given(case=operation.as_strategy())
    @settings(
        max_examples=cases,
        derandomize=True,  # the same cases every run: a failure can be reproduced
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    def send(case: Any) -> None:
        response = case.call(base_url=f"{url}/graphql", headers=headers)
        report.cases += 1
        where = f"{operation.label}: {case.body}"
        if response.status_code >= 500:
            report.server_errors.append(f"{response.status_code}: {where}")
        try:
            codes = [e.get("extensions", {}).get("code") for e in response.json().get("errors") or []]
        except ValueError:
            codes = []
        if "INTERNAL" in codes:
            report.internal.append(where)

    send()


# --- as a script ------------------------------------------------------------------------------------------------


@contextmanager
def _catalog_on(store_url: str, workdir: Path) -> Iterator[tuple[str, str]]:
    """`catalog serve` on `store_url` with an administrator registered; yields its URL and their token."""
    from bench.http_api import REPO, catalog_env, serve_catalog

    bootstrap_admin(store_url)
    with serve_catalog(store_url, workdir) as served:
        issue = [sys.executable, "-m", "catalog.cli", "token", "issue", "--person", "admin"]
        issued = subprocess.run(issue, env=catalog_env(store_url), cwd=REPO, capture_output=True, text=True, check=True)
        yield served.url, issued.stdout.strip()


def bootstrap_admin(store_url: str) -> None:
    """Register agency `stats` and person `admin` (PLATFORM_ADMIN), as `catalog demo` would, and nothing else."""
    from catalog.config import load_settings
    from catalog.principal import SYSTEM
    from catalog.services import Services
    from catalog.store import open_store

    settings = load_settings(store=store_url)
    store = open_store(settings)
    try:
        store.init_schema()
        registration = Services(store, settings).registration
        registration.register_agency(SYSTEM, {"id": "stats", "name": "Statistics"})
        person = {"id": "admin", "name": "Platform Administrator", "agency_id": "stats", "roles": ["PLATFORM_ADMIN"]}
        registration.register_person(SYSTEM, person)
    finally:
        store.close()


def agency_ids(store_url: str) -> set[str]:
    """Every agency id in the store."""
    from catalog.config import load_settings
    from catalog.store import open_store
    store = open_store(load_settings(store=store_url))
    try:
        ids: set[str] = set()
        after: str | None = None
        while True:
            page = store.read(functools.partial(_agencies_after, after=after))
            ids.update(id for id, _ in page.items)
            if len(page.items) < 1000:
                return ids
            after = page.items[-1][0]
    finally:
        store.close()


def _agencies_after(tx: Any, after: str | None) -> Any:
    from catalog.store.query import TRUE
    from catalog.store.schema import Label

    return tx.find_nodes(Label.AGENCY, TRUE, first=1000, after=after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--cases", type=int, default=3, help="fuzz cases per root field")
    args = parser.parse_args()
    from bench.http_api import free_port
    from catalog_devtools.neo4j_embedded import EmbeddedNeo4j

    with tempfile.TemporaryDirectory(prefix="catalog-faults-") as tmp:
        workdir = Path(tmp)
        neo4j = EmbeddedNeo4j(workdir / "neo4j", port=free_port())
        with neo4j, _catalog_on(neo4j.uri, workdir) as (url, token):
            killed = kill_under_load(neo4j, url, token, lambda: agency_ids(neo4j.uri), clients=args.clients)
            neo4j_fuzz = fuzz(url, token, cases_per_operation=args.cases)
        (workdir / "sqlite").mkdir()
        with _catalog_on(f"sqlite:///{workdir / 'sqlite' / 'catalog.db'}", workdir / "sqlite") as (url, token):
            sqlite_fuzz = fuzz(url, token, cases_per_operation=args.cases)
    print(f"Neo4j killed under load from {args.clients} clients:")
    for name, value in killed.figures().items():
        print(f"  {name:<42} {value}")
    target = "met" if killed.recover_s is not None and killed.recover_s <= RECOVERY_TARGET_S else "MISSED"
    print(f"  recovery target: within {RECOVERY_TARGET_S:.0f} s of Neo4j being ready: {target}")
    for backend, fuzzed in (("sqlite", sqlite_fuzz), ("neo4j", neo4j_fuzz)):
        print(f"schemathesis (GraphQL) on {backend}: " + ", ".join(f"{k} {v}" for k, v in fuzzed.figures().items()))


if __name__ == "__main__":
    main()
