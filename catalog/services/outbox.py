"""The webhook outbox: correction notices owed to agencies' webhooks, kept in the store until they are delivered.

`Corrections.issue` writes one NoticeDelivery row per agency in the correction's own transaction (`outbox_rows`),
so a notice never commits without its deliveries. Any server delivers them. A claim is a compare-and-set under
the row's lock that leases the row for `lease_s` seconds; the try happens outside any transaction; its result (a
DeliveryAttempt and the row's next state) is recorded in one transaction. Claims and results each have their
audit event. A server that stops mid-try leaves the row leased, and when the lease ends any replica (or the same
one, restarted) tries again. A failed try is retried until `attempts` tries were made, waiting `backoff_s`, then
twice that, and so on, counted in the row, so a restart does not start the count again.

At least once, not exactly once: a server that dies after the receiver answered but before it recorded the
answer leaves the row to be tried again. Receivers deduplicate on `X-Catalog-Delivery` (the row's id, the same
on every try). A healthy receiver, one that answers within `timeout_s` (which the lease outlasts), gets each
delivery once.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from catalog.audit.append import SEQUENCE, append_event
from catalog.config import WebhookSettings
from catalog.domain import CorrectionNotice, DeliveryAttempt, DeliveryState, NoticeDelivery
from catalog.errors import CatalogError
from catalog.principal import SYSTEM
from catalog.store.base import GraphStore, GraphTx, Props
from catalog.store.query import Cmp, Eq, all_of
from catalog.store.records import from_props, timestamp, to_props
from catalog.store.schema import Label, Rel

log = logging.getLogger("catalog.outbox")
# Rows looked at per round; more wait for the next round.
_BATCH = 100
_PENDING = Eq("state", DeliveryState.PENDING.value)


@dataclass(frozen=True)
class Delivery:
    """One agency to tell about a notice: where, and which of the affected datasets concern it."""

    agency_id: str
    url: str
    dataset_ids: tuple[str, ...]


def payload(notice: CorrectionNotice, delivery: Delivery) -> dict[str, Any]:
    """What an agency's webhook receives: the correction, and only the affected datasets that concern it."""
    return {
        "type": "catalog.correction",
        "notice": {
            "id": notice.id,
            "datasetId": notice.dataset_id,
            "description": notice.description,
            "severity": notice.severity.value,
            "issuedBy": notice.issued_by,
            "at": timestamp(notice.at),
        },
        "agencyId": delivery.agency_id,
        "datasetIds": list(delivery.dataset_ids),
    }


def outbox_rows(
    notice: CorrectionNotice, deliveries: Sequence[Delivery], now: datetime
) -> tuple[list[tuple[Label, str, Props]], list[tuple[Rel, str, str]]]:
    """The outbox rows for a notice, due at once, and their edges to it: for the notice's own transaction."""
    rows = [
        NoticeDelivery(
            id=f"{notice.id}.{d.agency_id}",
            notice_id=notice.id,
            agency_id=d.agency_id,
            url=d.url,
            payload=payload(notice, d),
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for d in deliveries
    ]
    return [(Label.OUTBOX, r.id, to_props(r)) for r in rows], [(Rel.DELIVERY_OF, r.id, notice.id) for r in rows]


@dataclass(frozen=True)
class SendResult:
    """What one try got: delivered on a 2xx answer; otherwise the status or the transport error."""

    delivered: bool
    status_code: int | None
    error: str | None


class WebhookDeliverer:
    """Delivers the outbox: in a server, continuously (`start`/`stop`); elsewhere, after `submit`, until nothing
    is pending. Any number of processes may run one on the same store."""

    def __init__(
        self,
        store: GraphStore,
        clock: Callable[[], datetime],
        *,
        attempts: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        lease_s: float = 30.0,
        poll_interval_s: float = 1.0,
        owner: str | None = None,
    ) -> None:
        assert attempts >= 1 and lease_s > timeout_s, (attempts, lease_s, timeout_s)
        self.store, self.clock = store, clock
        self.attempts, self.backoff_s, self.timeout_s = attempts, backoff_s, timeout_s
        self.lease_s, self.poll_interval_s = lease_s, poll_interval_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._lock = threading.Lock()
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._serving = False

    @classmethod
    def from_settings(
        cls, store: GraphStore, clock: Callable[[], datetime], settings: WebhookSettings
    ) -> WebhookDeliverer:
        return cls(store, clock, **settings.model_dump())

    # -- running ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Deliver until `stop`, looking in the outbox every `poll_interval_s` (a server's loop)."""
        with self._lock:
            self._serving = True
            self._stopping.clear()
        self._ensure_thread()

    def stop(self, timeout_s: float | None = None) -> bool:
        """Let the try in progress finish and be recorded, then stop. True when the loop has ended.

        Rows not tried stay in the outbox for any replica; a row whose try is cut off stays leased until its
        lease ends, then any replica tries it again.
        """
        with self._lock:
            self._serving = False
            self._stopping.set()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout_s)
        return thread is None or not thread.is_alive()

    def submit(self) -> None:
        """New rows are in the outbox: try them now (outside a server, keep going until nothing is pending)."""
        self._wake.set()
        self._ensure_thread()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until nothing in the outbox is pending (or `timeout_s` passed). True when nothing is."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while self.pending():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def pending(self) -> int:
        """How many deliveries are still to be made (tried and to be retried, or not tried yet)."""
        page = self.store.read(lambda tx: tx.find_nodes(Label.OUTBOX, _PENDING, first=0, with_total=True))
        return page.total or 0

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="webhook-outbox", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    wait = self.deliver_due(client)
                except CatalogError as exc:  # the store is away: the rows are safe in it
                    log.warning("webhook outbox: %s", exc.message)
                    # A server tries again later; elsewhere the rows are left to the servers.
                    wait = self.poll_interval_s if self._serving else None
                with self._lock:
                    if wait is None and not self._serving and not self._wake.is_set():
                        self._thread = None  # nothing pending and nobody asked for more: a submit starts anew
                        return
                self._wake.wait(self.poll_interval_s if wait is None else min(wait, self.poll_interval_s))

    # -- one round --------------------------------------------------------------------------------------------

    def deliver_due(self, client: httpx.Client) -> float | None:
        """Claim and try every delivery due now. Returns the seconds until the next pending one is due (0 when
        this round tried some), or None when nothing is pending."""
        now = timestamp(self.clock())
        due = self.store.read(
            lambda tx: tx.find_nodes(Label.OUTBOX, all_of(_PENDING, Cmp("next_attempt_at", "<=", now)), first=_BATCH)
        )
        tried = False
        for id, _ in due.items:
            if self._stopping.is_set():
                return None
            row = self.claim(id)
            if row is not None:
                outcome = self._try(client, row)
                self.store.write(functools.partial(self._record, claimed=row, outcome=outcome))
                tried = True
        if tried:
            return 0.0
        waiting = self.store.read(lambda tx: tx.find_nodes(Label.OUTBOX, _PENDING, first=_BATCH)).items
        if not waiting:
            return None
        soonest = min(from_props(NoticeDelivery, props).next_attempt_at for _, props in waiting)
        return max(0.0, (soonest - self.clock()).total_seconds())

    def claim(self, id: str) -> NoticeDelivery | None:
        """Lease the row if it is still pending and due (a compare-and-set under its lock, with its audit event);
        None when another server claimed or finished it first."""
        return self.store.write(functools.partial(self._claim, id=id))

    def _claim(self, tx: GraphTx, id: str) -> NoticeDelivery | None:
        tx.hold_sequence(SEQUENCE)  # the audit chain's head before the row, in the order every writer takes them
        tx.lock(Label.OUTBOX, id)
        props = tx.get_node(Label.OUTBOX, id)
        now = self.clock()
        if props is None:
            return None
        row = from_props(NoticeDelivery, props)
        if row.state != DeliveryState.PENDING or row.next_attempt_at > now:
            return None
        until = now + timedelta(seconds=self.lease_s)
        tx.update_node(Label.OUTBOX, id, {"lease_owner": self.owner, "next_attempt_at": timestamp(until)})
        append_event(
            tx,
            principal=SYSTEM,
            action="claim_delivery",
            target_ids=[id, row.notice_id, row.agency_id],
            change={"owner": self.owner, "attempt": row.attempts + 1, "lease_until": timestamp(until)},
            at=now,
        )
        return row.model_copy(update={"lease_owner": self.owner, "next_attempt_at": until})

    def _try(self, client: httpx.Client, row: NoticeDelivery) -> SendResult:
        headers = {"X-Catalog-Notice": row.notice_id, "X-Catalog-Delivery": row.id}
        try:
            status = client.post(row.url, json=row.payload, headers=headers).status_code
        except httpx.HTTPError as exc:
            return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:1000])
        delivered = 200 <= status < 300
        return SendResult(delivered, status, None if delivered else f"HTTP {status}")

    def _record(self, tx: GraphTx, claimed: NoticeDelivery, outcome: SendResult) -> None:
        """The try as a DeliveryAttempt, and the row's next state: delivered, given up, or due after a backoff."""
        tx.hold_sequence(SEQUENCE)
        tx.lock(Label.OUTBOX, claimed.id)
        props = tx.get_node(Label.OUTBOX, claimed.id)
        assert props is not None, f"outbox row {claimed.id} vanished"
        row, now = from_props(NoticeDelivery, props), self.clock()
        number = row.attempts + 1
        change: Props = {"attempts": number}
        if outcome.delivered:
            change.update(state=DeliveryState.DELIVERED.value, lease_owner=None)
        elif row.lease_owner != self.owner or row.state != DeliveryState.PENDING:
            pass  # our lease ran out and another server holds the row now: its try decides what comes next
        elif number >= self.attempts:
            change.update(state=DeliveryState.FAILED.value, lease_owner=None)
        else:
            retry_at = now + timedelta(seconds=self.backoff_s * 2 ** (number - 1))
            change.update(lease_owner=None, next_attempt_at=timestamp(retry_at))
        tx.update_node(Label.OUTBOX, row.id, change)
        attempt = DeliveryAttempt(
            id=f"{row.notice_id}.{row.agency_id}.{number}",
            notice_id=row.notice_id,
            agency_id=row.agency_id,
            url=row.url,
            attempt=number,
            at=now,
            delivered=outcome.delivered,
            status_code=outcome.status_code,
            error=outcome.error,
        )
        append_event(  # the catalog itself made the attempt: it is on the record like any other change
            tx,
            principal=SYSTEM,
            action="deliver_notice",
            target_ids=[attempt.id, row.notice_id, row.agency_id],
            change={
                "attempt": number,
                "delivered": outcome.delivered,
                "status_code": outcome.status_code,
                "error": outcome.error,
                "state": change.get("state", row.state.value),
            },
            at=now,
            alongside=[(Label.DELIVERY, attempt.id, to_props(attempt))],
            edges=[(Rel.ATTEMPT_OF, attempt.id, row.notice_id)],
        )


__all__ = ["Delivery", "SendResult", "WebhookDeliverer", "outbox_rows", "payload"]
