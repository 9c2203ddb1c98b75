"""The audit trail: every change appends a hash-chained event in the same transaction as the change."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from catalog.principal import Principal
from catalog.store.base import GraphTx
from catalog.store.records import timestamp
from catalog.store.schema import Label

GENESIS = "0" * 64
SEQUENCE = "audit"


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 kept. The hash chain is defined over this."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def event_id(sequence: int) -> str:
    return f"{sequence:012d}"


def event_hash(content: dict[str, Any], prev_hash: str) -> str:
    return digest({"content": content, "prev_hash": prev_hash})


def append_event(
    tx: GraphTx,
    *,
    principal: Principal,
    action: str,
    target_ids: list[str],
    change: dict[str, Any],
    at: datetime,
    decision_id: str | None = None,
) -> int:
    """Append one audit event after the current head. Returns its sequence number.

    The sequence counter is taken first: it serializes concurrent writers, so the head read next is final.
    """
    sequence = tx.next_sequence(SEQUENCE)
    previous = tx.get_node(Label.AUDIT_EVENT, event_id(sequence - 1)) if sequence > 1 else None
    prev_hash = str(previous["hash"]) if previous else GENESIS
    content = {
        "sequence": sequence,
        "at": timestamp(at),
        "principal_id": principal.id,
        "action": action,
        "target_ids": sorted(target_ids),
        "change_digest": digest(change),
        "change_json": canonical(change),
        "decision_id": decision_id,
    }
    tx.create_node(
        Label.AUDIT_EVENT,
        event_id(sequence),
        {**content, "prev_hash": prev_hash, "hash": event_hash(content, prev_hash)},
    )
    return sequence


def diff(before: dict[str, Any] | None, after: dict[str, Any], *, personal: frozenset[str] = frozenset()) -> dict:
    """What changed, field by field. Values of `personal` fields are replaced by their digests."""
    before = before or {}
    changed: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in personal:
            old = None if old is None else "sha256:" + digest(old)
            new = None if new is None else "sha256:" + digest(new)
        changed[key] = {"before": old, "after": new}
    return changed
