"""The Neo4j store: a driver, sessions that honour bookmarks, and our own retry loop bounded by the deadline."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Literal

from neo4j import READ_ACCESS, WRITE_ACCESS, Bookmarks, Driver, GraphDatabase, Session
from neo4j.exceptions import ConfigurationError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from catalog.errors import ConfigError, OutcomeUnknown, Unavailable
from catalog.store.base import STORE_UNREACHABLE, GraphStore, GraphTx, T, current_causality
from catalog.store.circuit import Circuit
from catalog.store.deadline import committed, current_deadline, remaining_s
from catalog.store.neo4j.bookmarks import _bookmark_text, _bookmark_values
from catalog.store.neo4j.errors import _reason, _timed_out, _translated
from catalog.store.neo4j.schema import _schema_statements
from catalog.store.neo4j.tx import Neo4jTx

log = logging.getLogger("catalog.store")
# Long enough for a deadlock or leader switch to clear, short enough that a dead server fails in seconds.
_RETRY_TIME_S = 10.0
# Doubled after each failed attempt, with jitter of half either way. Shorter than the driver's 1 s: the usual
# transient error here is a deadlock on the audit chain's counter between concurrent writers, and a second's wait
# after each made a burst of writes (a store coming back, say) take several seconds to clear.
_FIRST_RETRY_DELAY_S = 0.1


class Neo4jStore(GraphStore):
    """A Neo4j server. Units of work run as managed transaction functions, retried on transient errors."""

    backend = "neo4j"
    supports_bookmarks = True

    def __init__(
        self,
        uri: str,
        *,
        user: str = "neo4j",
        password: str = "",
        database: str | None = None,
        connect_timeout_s: float = 10.0,
    ) -> None:
        super().__init__()
        self.uri = uri
        self._database = database
        self._closed = False
        self.circuit = Circuit()
        auth = (user, password) if password else None
        try:
            self._driver: Driver = GraphDatabase.driver(
                uri,
                auth=auth,
                connection_timeout=connect_timeout_s,
                connection_acquisition_timeout=max(2 * connect_timeout_s, _RETRY_TIME_S),
                max_transaction_retry_time=_RETRY_TIME_S,
                notifications_min_severity="OFF",
            )
        except (ValueError, ConfigurationError) as exc:
            raise ConfigError(f"CATALOG_STORE: {uri!r} is not a usable Neo4j URI ({_reason(exc)})") from None

    def check_open(self) -> None:
        """Raise Unavailable once `close()` ran: the driver itself would quietly reconnect on a retry."""
        if self._closed:
            raise Unavailable(
                f"CATALOG_STORE: the connection to Neo4j at {self.uri} was closed", public=STORE_UNREACHABLE
            )

    def _run(self, work: Callable[[GraphTx], T], mode: Literal["read", "write"], bookmark: str | None = None) -> T:
        """Run `work` in a session that waits for `bookmark` (or the causal scope's newest), and record a write's
        bookmark in the scope: the driver then routes to any member that has caught up, leader or follower."""
        self.check_open()
        passage = self.circuit.allow()
        if passage is None:
            raise Unavailable(
                f"CATALOG_STORE: Neo4j at {self.uri} was unreachable moments ago; requests are refused at once "
                f"until a trial succeeds (one every {self.circuit.trial_interval_s:g} s, or after /readyz answers)",
                public=STORE_UNREACHABLE,
            )
        try:
            return self._session(work, mode, bookmark)
        finally:
            if passage == "trial":
                self.circuit.trial_done()

    def _session(self, work: Callable[[GraphTx], T], mode: Literal["read", "write"], bookmark: str | None) -> T:
        scope = current_causality()
        name = scope.name if scope else "bookmark"
        wanted = bookmark if bookmark is not None else scope.newest if scope else None
        bookmarks = Bookmarks.from_raw_values(_bookmark_values(wanted, name)) if wanted else None
        raised: list[BaseException] = []
        access = WRITE_ACCESS if mode == "write" else READ_ACCESS
        with (
            _translated(self.uri, raised, name),
            self._driver.session(database=self._database, bookmarks=bookmarks, default_access_mode=access) as session,
        ):
            result = self._attempts(session, work, mode, raised)
            if self.circuit.is_open:
                self.circuit.close()  # a trial succeeded: the store is back
            if mode == "write":
                committed()
                if scope is not None:
                    scope.latest = _bookmark_text(session.last_bookmarks()) or scope.latest
            return result

    def _attempts(self, session: Session, work: Callable[[GraphTx], T], mode: str, raised: list[BaseException]) -> T:
        """Our own retry loop, not the driver's `execute_write`: no attempt starts after the request's deadline,
        each gets the time left as its server-side timeout, and a connection lost during a write's commit is
        reported as OUTCOME_UNKNOWN instead of being retried (a retry could apply the change twice)."""
        started, delay = time.monotonic(), _FIRST_RETRY_DELAY_S
        while True:
            left = remaining_s()
            try:
                return self._attempt(session, work, mode, left, raised)
            except (DriverError, Neo4jError) as exc:
                limit = current_deadline()
                if limit is not None and _timed_out(exc):
                    raise limit.exceeded() from None
                if isinstance(exc, ServiceUnavailable):
                    self.circuit.trip()  # unreachable: fail fast from now on, rather than every request waiting
                if self.circuit.is_open or not exc.is_retryable() or time.monotonic() - started > _RETRY_TIME_S:
                    raise
                pause = delay * random.uniform(0.5, 1.5)
                later = remaining_s()
                if later is not None and pause >= later:
                    raise
                log.warning("Neo4j at %s: transaction failed, retrying in %.1f s: %s", self.uri, pause, _reason(exc))
                time.sleep(pause)
                delay *= 2

    def _attempt(
        self, session: Session, work: Callable[[GraphTx], T], mode: str, left: float | None, raised: list[BaseException]
    ) -> T:
        # 0 would mean "no timeout" to the server: a sliver of time left still gets a limit.
        tx = session.begin_transaction(timeout=max(left, 0.01) if left is not None else None)
        try:
            result = work(Neo4jTx(self, tx))
        except Exception as exc:
            raised.append(exc)
            tx.close()
            raise
        try:
            tx.commit()
        except (DriverError, Neo4jError) as exc:
            if mode == "write" and isinstance(exc, (ServiceUnavailable, SessionExpired)):
                raise OutcomeUnknown(
                    "the connection to the store was lost while the change was being committed: it may or may not "
                    "have been written; read before retrying, or retry with the same Idempotency-Key"
                ) from None
            raise
        return result

    def write(self, work: Callable[[GraphTx], T]) -> T:
        try:
            return self._run(work, "write")
        except Unavailable as exc:
            raise exc.nothing_written() from None

    def read(self, work: Callable[[GraphTx], T], *, bookmark: str | None = None) -> T:
        return self._run(work, "read", bookmark)

    def check_bookmark(self, bookmark: str, name: str = "bookmark") -> None:
        _bookmark_values(bookmark, name)

    def _auto_commit(self, query: str) -> None:
        """One statement in its own implicit transaction (schema changes cannot share one with writes)."""
        self.check_open()
        with _translated(self.uri), self._driver.session(database=self._database) as session:
            self.round_trips += 1
            session.run(query).consume()

    def init_schema(self) -> None:
        for statement in _schema_statements():
            self._auto_commit(statement)

    def ping(self) -> None:
        """Ask the store a trivial query, past the circuit; an answer half-opens it (see `circuit`)."""
        # An implicit transaction is not retried, so a dead server is reported at once.
        self._auto_commit("RETURN 1")
        self.circuit.half_open()

    def clear(self) -> None:
        def wipe(tx: GraphTx) -> None:
            assert isinstance(tx, Neo4jTx)
            tx._q("MATCH (n) DETACH DELETE n")

        self.write(wipe)

    def close(self) -> None:
        self._closed = True
        with _translated(self.uri):
            self._driver.close()
