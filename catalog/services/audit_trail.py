"""Reading the audit trail back: verifying the chain in the store, exporting it, checkpointing it, and the
auditor's paginated query.

Who may read what: auditors and platform administrators read every event. Any other signed-in person reads only
the events they caused themselves (their own changes and decisions). Anonymous callers are refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from catalog.audit.append import SEQUENCE
from catalog.audit.chain import ChainReport, ChainVerifier, ExpectedHead, event_id, write_lines
from catalog.audit.checkpoint import Checkpoint, sign_checkpoint
from catalog.domain import AuditEvent, utcnow
from catalog.errors import Conflict, Forbidden
from catalog.principal import Principal
from catalog.services.context import Listing, ServiceContext
from catalog.services.criteria import TimeWindow, contains, equals
from catalog.services.redaction import Redaction
from catalog.store.base import GraphStore, GraphTx, Props
from catalog.store.query import TRUE, Page, Predicate, all_of
from catalog.store.records import timestamp
from catalog.store.schema import Label

# Events read per transaction while streaming the whole log: big enough to be quick, small enough to bound memory.
PAGE_SIZE = 500


def written_count(store: GraphStore) -> int:
    """How many events the writers' sequence counter says were appended (0 when it is missing), read without
    moving it."""
    return store.read(lambda tx: tx.current_sequence(SEQUENCE)) or 0


def stored_events(store: GraphStore, *, upto: int | None = None, page_size: int = PAGE_SIZE) -> Iterator[Props]:
    """Every stored audit event in sequence order, one read transaction per page, up to event `upto`.

    Events past `upto` were appended after the caller's cut and are left for the next run.
    """
    last_id = event_id(upto) if upto is not None else None
    after: str | None = None
    while True:
        page = store.read(partial(_page, first=page_size, after=after))
        for id, props in page.items:
            if last_id is not None and id > last_id:
                return
            yield props
        if not page.has_next:
            return
        after = page.end_cursor


def _page(tx: GraphTx, *, first: int, after: str | None) -> Page:
    return tx.find_nodes(Label.AUDIT_EVENT, TRUE, first=first, after=after)


def verify_store(store: GraphStore, expected: ExpectedHead | None = None) -> ChainReport:
    """Recompute the chain the store holds, streaming every event in sequence order, and hold it to the writers'
    counter read before and after: it trusts neither the events nor the counter alone.

    A counter that is missing or behind the log, an event past it, a gap or a hash that does not chain is a break
    naming the sequence. Events appended while it reads are checked too: the counter read afterwards covers them.
    """
    before = store.read(lambda tx: tx.current_sequence(SEQUENCE))
    verifier = ChainVerifier(expected)
    for record in stored_events(store):
        if not verifier.feed(record):
            break
    after = store.read(lambda tx: tx.current_sequence(SEQUENCE))
    return verifier.finish(before or 0, counter_after=after)


def export_store(store: GraphStore, out: TextIO) -> int:
    """Write every event up to now as JSON Lines with its chain hashes. Returns how many were written."""
    return write_lines(stored_events(store, upto=written_count(store)), out)


def checkpoint_store(store: GraphStore, key: Ed25519PrivateKey) -> Checkpoint:
    """Verify the whole chain, then sign its size and head. A broken chain is never signed."""
    report = verify_store(store)
    if report.broken is not None:
        raise Conflict(
            f"refusing to sign a broken audit trail: sequence {report.broken.sequence}: {report.broken.problem}"
        )
    return sign_checkpoint(key, report.count, report.head, timestamp(utcnow()))


# --- the auditor's query ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter(TimeWindow):
    """Which audit events to list: by a record they concern, who caused them, the action, and when."""

    target_id: str | None = contains("target_ids")
    principal: str | None = equals("principal_id")
    action: str | None = equals("action")


def event_of(props: Props) -> AuditEvent:
    """A stored event as the domain model, its change decoded."""
    change: dict[str, Any] = json.loads(str(props.get("change_json") or "{}"))
    return AuditEvent(
        sequence=int(props["sequence"]),
        at=props["at"],
        principal_id=str(props["principal_id"]),
        action=str(props["action"]),
        target_ids=list(props.get("target_ids") or []),
        change_digest=str(props["change_digest"]),
        change=change,
        decision_id=props.get("decision_id"),
        prev_hash=str(props["prev_hash"]),
        hash=str(props["hash"]),
    )


class AuditTrail:
    def __init__(self, ctx: ServiceContext, redaction: Redaction) -> None:
        self.ctx = ctx
        self.redaction = redaction

    def readable(self, principal: Principal) -> Predicate:
        """The events the principal may read (read_audit: auditors and admins every event, other signed-in people
        the events they caused)."""
        if principal.anonymous:
            raise Forbidden("auditTrail: sign in; the audit trail is for auditors and for people reading their own")
        return self.ctx.decisions.readable(principal, "read_audit")

    def list(
        self, principal: Principal, criteria: AuditFilter, first: int, after: str | None, *, with_total: bool = True
    ) -> Listing[AuditEvent]:
        """One page of events matching `criteria`, oldest first."""
        where = all_of(criteria.predicate(), self.readable(principal))
        listing = self.ctx.listing(Label.AUDIT_EVENT, where, event_of, first, after, with_total)
        # What the reader may not see stays hidden even in events they caused (a correction's affected datasets).
        listing.items = self.redaction.events(principal, listing.items)
        return listing
