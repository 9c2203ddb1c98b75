"""Web sessions, kept in the store so that signing out ends a session on every replica at once.

The browser's cookie holds only a random session id. The store keeps the id's SHA-256 digest (someone who can
read the store still cannot present a live session), the bearer token the person signed in with and when the
session ends. Signing out deletes the record, so a copy of the cookie made before then opens nothing. Sessions
are the pages' operational state, not catalog data: they carry no audit events and no policy decisions (signing
in verifies the token exactly as the API does).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from catalog.store.base import GraphStore, GraphTx
from catalog.store.query import Cmp
from catalog.store.records import timestamp
from catalog.store.schema import Label

PURGE_BATCH = 100  # ended sessions removed whenever someone signs in


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class WebSessions:
    def __init__(self, store: GraphStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def open(self, token: str, max_age_s: int) -> str:
        """Start a session for `token`; returns the session id for the cookie."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()

        def work(tx: GraphTx) -> None:
            ended = tx.find_nodes(Label.WEB_SESSION, Cmp("expires_at", "<", timestamp(now)), first=PURGE_BATCH)
            for id, _ in ended.items:
                tx.delete_node(Label.WEB_SESSION, id)
            expires = timestamp(now + timedelta(seconds=max_age_s))
            tx.create_node(Label.WEB_SESSION, _key(session_id), {"token": token, "expires_at": expires})

        self.store.write(work)
        return session_id

    def token(self, session_id: str) -> str | None:
        """The bearer token of a live session; None once it was closed or has ended."""
        found = self.store.read(lambda tx: tx.get_node(Label.WEB_SESSION, _key(session_id)))
        if found is None or str(found.get("expires_at", "")) <= timestamp(self.clock()):
            return None
        token = found.get("token")
        return token if isinstance(token, str) else None

    def close(self, session_id: str) -> None:
        """End a session, for every server sharing this store."""
        def work(tx: GraphTx) -> None:
            if tx.get_node(Label.WEB_SESSION, _key(session_id)) is not None:  # signing out twice is no error
                tx.delete_node(Label.WEB_SESSION, _key(session_id))

        self.store.write(work)
