"""The SQLite store: one connection per thread, writers serialized on BEGIN IMMEDIATE, waits bounded by the deadline."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from catalog.errors import Unavailable
from catalog.store.base import STORE_FAILED, GraphStore, GraphTx, T
from catalog.store.deadline import committed, remaining_s
from catalog.store.sqlite.errors import _translated
from catalog.store.sqlite.schema import _SCHEMA, _index_statements
from catalog.store.sqlite.tx import SqliteTx

_BUSY_WAIT_MS = 10_000  # how long a writer waits for another's lock, unless the request has less time left


class SqliteStore(GraphStore):
    """SQLite file store. One connection per thread; writers serialize on BEGIN IMMEDIATE."""

    backend = "sqlite"
    in_process = True

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = str(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if self.path != ":memory:":
            parent = Path(self.path).expanduser().parent
            with _translated(self.path):
                try:
                    parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise Unavailable(
                        f"CATALOG_STORE: cannot create folder {parent}: {exc.strerror}", public=STORE_FAILED
                    ) from None

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with _translated(self.path):
                conn = sqlite3.connect(
                    str(Path(self.path).expanduser()), isolation_level=None, check_same_thread=False, timeout=10
                )
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = NORMAL")
                # A write that changes many pages in one statement (a decision: its row and eight indexes) keeps a
                # statement journal; past 64 KiB SQLite spills it to a new file in /var/tmp, created and unlinked
                # for that one statement, unless temporary storage stays in memory.
                conn.execute("PRAGMA temp_store = MEMORY")
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_WAIT_MS:d}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _run(self, work: Callable[[GraphTx], T], begin: str) -> T:
        with _translated(self.path):
            conn = self._connection()
            self._bound_busy_wait(conn, remaining_s())
            conn.execute(begin)
            try:
                result = work(SqliteTx(self, conn))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

    def _bound_busy_wait(self, conn: sqlite3.Connection, left: float | None) -> None:
        """Wait for another writer's lock no longer than the request has left (10 s without a deadline)."""
        wait_ms = _BUSY_WAIT_MS if left is None else max(1, min(_BUSY_WAIT_MS, int(left * 1000)))
        if getattr(self._local, "busy_ms", _BUSY_WAIT_MS) != wait_ms:
            conn.execute(f"PRAGMA busy_timeout = {wait_ms:d}")
            self._local.busy_ms = wait_ms

    def write(self, work: Callable[[GraphTx], T]) -> T:
        try:
            result = self._run(work, "BEGIN IMMEDIATE")
        except Unavailable as exc:
            raise exc.nothing_written() from None
        committed()
        return result

    def read(self, work: Callable[[GraphTx], T], *, bookmark: str | None = None) -> T:
        # One file, serialized writers: a read sees every committed write, so there is nothing to wait for.
        return self._run(work, "BEGIN")

    def init_schema(self) -> None:
        with _translated(self.path):
            conn = self._connection()
            for statement in [*_SCHEMA, *_index_statements()]:
                conn.execute(statement)

    def ping(self) -> None:
        with _translated(self.path):
            self._connection().execute("SELECT count(*) FROM sqlite_master").fetchone()

    def clear(self) -> None:
        def wipe(tx: GraphTx) -> None:
            assert isinstance(tx, SqliteTx)
            for table in ("edges", "nodes", "counters", "node_text"):
                tx._q(f"DELETE FROM {table}")

        self.write(wipe)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
