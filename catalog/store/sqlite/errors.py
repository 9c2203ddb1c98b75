"""Error translation: the one place where sqlite3 errors become CatalogErrors."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from catalog.errors import WRITTEN_NOTHING, CatalogError, Conflict, Unavailable
from catalog.store.base import STORE_FAILED

log = logging.getLogger("catalog.store")


@contextmanager
def _translated(path: str) -> Iterator[None]:
    """The one place where sqlite3 errors become CatalogErrors."""
    try:
        yield
    except CatalogError:
        raise
    except sqlite3.IntegrityError as exc:
        # A key taken by a record written since we looked: the client's change conflicts, and a retry would not
        # help (Neo4j's ConstraintError is the same). The constraint's name is the store's business, not theirs.
        log.warning("SQLite store %s: integrity error: %s", path, exc)
        raise Conflict(f"the change conflicts with a record stored meanwhile; {WRITTEN_NOTHING}") from None
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if "locked" in message or "busy" in message:
            raise Unavailable(
                f"SQLite store {path} is busy (locked by another writer); try again",
                public="the store is busy (locked by another writer); try again",
            ) from None
        raise Unavailable(f"SQLite store {path}: {message}", public=STORE_FAILED) from None
    except sqlite3.DatabaseError as exc:
        raise Unavailable(
            f"CATALOG_STORE: {path} is not a usable SQLite database ({exc}); "
            "point CATALOG_STORE at another file or move this one aside",
            public=STORE_FAILED,
        ) from None
