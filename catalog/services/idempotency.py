"""Idempotency keys: a retried mutation returns its first result instead of applying the change again.

The API opens an `idempotent()` scope for a mutation that carries an `Idempotency-Key` header. Every write the
request makes through `Decisions.write` is then keyed: the record (the caller's key, a digest of the request, the
result as tagged JSON, when it expires) is created first in the same transaction as the change, so both commit or
neither does, and a concurrent duplicate waits on the record and then reads it. A request's writes are numbered in
order, so a retry of a request that made two replays both.

A refused action stores nothing (its transaction rolls back): a retry decides again, under the policy then in force.
Records are operational state, like web sessions: they carry no audit event (the change they sit beside has its
own) and are removed, a batch at a time, once expired.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from catalog.errors import InvalidInput
from catalog.services import tagged_json
from catalog.store.base import GraphTx
from catalog.store.query import Cmp
from catalog.store.records import timestamp
from catalog.store.schema import Label
from catalog.store.scope import ContextScope

T = TypeVar("T")
HEADER = "Idempotency-Key"
PURGE_BATCH = 100  # expired records removed whenever a new one is made
MAX_KEY_CHARS = 255


@dataclass
class IdempotentRequest:
    """One keyed request: whose key it is, what was asked, and how many writes it has made so far."""

    key_id: str  # the caller and their key, digested: one caller cannot replay another's result
    request_digest: str
    ttl_s: int
    writes: int = 0
    replayed: bool = False

    def next_record_id(self) -> str:
        self.writes += 1
        return f"{self.key_id}:{self.writes}"


_REQUEST: ContextScope[IdempotentRequest] = ContextScope("catalog_idempotent_request")
current_request = _REQUEST.current  # the keyed request open in this context, if any


def check_key(key: str) -> None:
    """Raise InvalidInput naming the header unless `key` is 1 to 255 printable ASCII characters."""
    if not 0 < len(key) <= MAX_KEY_CHARS or not all(" " < char <= "~" for char in key):
        raise InvalidInput(HEADER, f"must be 1 to {MAX_KEY_CHARS} printable ASCII characters without spaces")


def request_digest(query: str, variables: dict[str, Any], operation_name: str | None) -> str:
    """What a key is bound to: the document, its variables and the operation name."""
    canonical = json.dumps([query, variables, operation_name], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(principal_id: str, key: str, digest: str, ttl_s: int) -> AbstractContextManager[IdempotentRequest]:
    """Key the writes made inside (threads started with a copy of this context share the scope)."""
    check_key(key)
    key_id = hashlib.sha256(f"{principal_id}\n{key}".encode()).hexdigest()
    return _REQUEST.open(IdempotentRequest(key_id, digest, ttl_s))


def keyed(work: Callable[[GraphTx], T], scope: IdempotentRequest, now: datetime) -> Callable[[GraphTx], T]:
    """`work` with its idempotency record: the first result when this write was made before, else the work's,
    stored with it. Raises InvalidInput naming the header when the key was used for a different request."""
    record_id = scope.next_record_id()  # fixed here, not per attempt: a retried transaction reuses it

    def unit(tx: GraphTx) -> T:
        found = tx.get_node(Label.IDEMPOTENCY, record_id)
        if found is not None and str(found["expires_at"]) > timestamp(now):
            return _replay(found, scope)
        if found is not None:
            tx.delete_node(Label.IDEMPOTENCY, record_id)
        _purge(tx, now)
        # Created before the work: a concurrent duplicate waits here, then fails on the id and reads this one.
        expires = timestamp(now + timedelta(seconds=scope.ttl_s))
        tx.create_node(Label.IDEMPOTENCY, record_id, {"digest": scope.request_digest, "expires_at": expires})
        result = work(tx)
        tx.update_node(Label.IDEMPOTENCY, record_id, {"result": tagged_json.encode(result)})
        return result

    return unit


def _replay(found: dict[str, Any], scope: IdempotentRequest) -> Any:
    if found.get("digest") != scope.request_digest:
        raise InvalidInput(
            HEADER,
            "was already used for a different request (query, variables or operation name); "
            "send a new key with a new request",
        )
    scope.replayed = True
    return tagged_json.decode(str(found["result"]))


def _purge(tx: GraphTx, now: datetime) -> None:
    expired = tx.find_nodes(Label.IDEMPOTENCY, Cmp("expires_at", "<", timestamp(now)), first=PURGE_BATCH)
    for id, _ in expired.items:
        tx.delete_node(Label.IDEMPOTENCY, id)
