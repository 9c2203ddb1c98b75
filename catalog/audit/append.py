"""The audit trail: every change appends a hash-chained event in the same transaction as the change.

How an event is hashed and how a log is verified lives in `catalog.audit.chain`, which needs no store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from catalog.audit.chain import GENESIS, canonical, digest, event_hash, event_id
from catalog.errors import Unavailable
from catalog.principal import Principal
from catalog.store.base import GraphTx, Props
from catalog.store.records import timestamp
from catalog.store.schema import Label, Rel

__all__ = [
    "GENESIS",
    "SEQUENCE",
    "append_event",
    "canonical",
    "diff",
    "digest",
    "event_hash",
    "event_id",
    "without_emails",
]

SEQUENCE = "audit"
# An email address is personal data wherever it turns up in a change (a person's record, a harvested dataset's
# maintainer): the trail keeps only its digest, which still shows whether it changed.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def append_event(
    tx: GraphTx,
    *,
    principal: Principal,
    action: str,
    target_ids: list[str],
    change: dict[str, Any],
    at: datetime,
    decision_id: str | None = None,
    alongside: Sequence[tuple[Label, str, Props]] = (),
    edges: Sequence[tuple[Rel, str, str]] = (),
) -> int:
    """Append one audit event after the current head. Returns its sequence number.

    The sequence counter is taken first, with the head in the same statement: it serializes concurrent writers,
    so the head read is final.
    Email addresses anywhere in `change` are recorded as digests. The `alongside` nodes and the `edges` (what
    the event records, such as a decision) are created with the event, in the same round trip.
    """
    change = without_emails(change)
    sequence, previous = tx.advance_sequence(SEQUENCE, Label.AUDIT_EVENT)
    prev_hash = GENESIS
    if sequence > 1:
        if previous is None or not previous.get("hash"):
            # Chaining from anything else would hide the damage behind a valid-looking link: fail closed.
            raise Unavailable(
                f"the audit trail is broken (event {sequence - 1} is missing), so no change can be recorded; "
                "run `catalog audit verify`"
            )
        prev_hash = str(previous["hash"])
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
    event = {**content, "prev_hash": prev_hash, "hash": event_hash(content, prev_hash)}
    tx.create_nodes([*alongside, (Label.AUDIT_EVENT, event_id(sequence), event)], edges)
    return sequence


def without_emails(value: Any) -> Any:
    """`value` with every email address inside its strings replaced by `sha256:<digest of the address>`."""
    if isinstance(value, str):
        return _EMAIL.sub(lambda found: "sha256:" + digest(found.group(0)), value)
    if isinstance(value, dict):
        return {key: without_emails(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_emails(item) for item in value]
    return value


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
