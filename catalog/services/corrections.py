"""Corrections: telling everyone downstream that a dataset was wrong, and proving they were told.

`issue` records a CorrectionNotice on the dataset (NOTICE_OF edge, an `issue_correction` audit event with the
severity, so it shows in the dataset's history) with the downstream datasets, their stewards and the agencies
that received any of it, in one transaction. Delivery to those agencies' webhooks happens after the commit, in a
background thread, with retries and exponential backoff; each attempt is stored as a DeliveryAttempt node in
its own transaction. A webhook that is down therefore never blocks or undoes a correction. Deliveries still
pending when the process stops are not resumed: the notice stays queryable (`notices`) either way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from catalog.domain import AccessRequest, CorrectionNotice, DeliveryAttempt, Severity, parse_model
from catalog.errors import CatalogError, Forbidden, InvalidInput
from catalog.principal import SYSTEM, Principal
from catalog.services.audit import append_event
from catalog.services.context import Listing, ServiceContext
from catalog.services.redaction import Redaction
from catalog.store.base import GraphStore, GraphTx, Props
from catalog.store.query import Contains, In, all_of
from catalog.store.records import from_props, timestamp, to_props
from catalog.store.schema import Label, Rel

log = logging.getLogger("catalog.corrections")


@dataclass(frozen=True)
class Delivery:
    """One agency to tell about a notice: where, and which of the affected datasets concern it."""

    agency_id: str
    url: str
    dataset_ids: tuple[str, ...]


@dataclass
class NoticeView:
    """A notice as a reader sees it: affected datasets they may not see are redacted."""

    notice: CorrectionNotice
    affected: list[tuple[str, bool]]  # (shown id, redacted)
    deliveries: list[DeliveryAttempt] = field(default_factory=list)


class WebhookDeliverer:
    """Posts notices to agencies' webhooks off the request path, recording every attempt.

    `attempts` tries per agency, waiting `backoff_s`, then twice that, and so on between them. A 2xx answer is
    delivered; anything else (another status, a timeout, a refused connection) is retried.
    """

    def __init__(
        self,
        store: GraphStore,
        clock: Callable[[], datetime],
        *,
        attempts: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        assert attempts >= 1, attempts
        self.store, self.clock, self.attempts, self.backoff_s = store, clock, attempts, backoff_s
        self.timeout_s, self.sleep = timeout_s, sleep
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, notice: CorrectionNotice, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        thread = threading.Thread(
            target=self._deliver_all, args=(notice, list(deliveries)), name=f"notice-{notice.id}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until every submitted delivery has finished (or `timeout_s` passed). True when all finished."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def _deliver_all(self, notice: CorrectionNotice, deliveries: list[Delivery]) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            for delivery in deliveries:
                try:
                    self._deliver(client, notice, delivery)
                except CatalogError as exc:  # the store went away (shutdown): nothing more can be recorded
                    log.warning("could not record delivery of notice %s: %s", notice.id, exc.message)
                    return

    def _deliver(self, client: httpx.Client, notice: CorrectionNotice, delivery: Delivery) -> None:
        body = payload(notice, delivery)
        for attempt in range(1, self.attempts + 1):
            status, error = None, None
            try:
                response = client.post(delivery.url, json=body, headers={"X-Catalog-Notice": notice.id})
                status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:1000]
            delivered = status is not None and 200 <= status < 300
            if error is None and not delivered:
                error = f"HTTP {status}"
            self._record(notice, delivery, attempt, delivered, status, error)
            if delivered:
                return
            if attempt < self.attempts:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))

    def _record(
        self,
        notice: CorrectionNotice,
        delivery: Delivery,
        attempt: int,
        delivered: bool,
        status: int | None,
        error: str | None,
    ) -> None:
        record = DeliveryAttempt(
            id=f"{notice.id}.{delivery.agency_id}.{attempt}",
            notice_id=notice.id,
            agency_id=delivery.agency_id,
            url=delivery.url,
            attempt=attempt,
            at=self.clock(),
            delivered=delivered,
            status_code=status,
            error=error,
        )

        def work(tx: GraphTx) -> None:
            tx.merge_node(Label.DELIVERY, record.id, to_props(record))
            tx.merge_edge(Rel.ATTEMPT_OF, record.id, notice.id)
            append_event(  # the catalog itself made the attempt: it is on the record like any other change
                tx,
                principal=SYSTEM,
                action="deliver_notice",
                target_ids=[record.id, notice.id, delivery.agency_id],
                change={
                    "attempt": attempt,
                    "delivered": delivered,
                    "status_code": status,
                    "error": error,
                },
                at=record.at,
            )

        self.store.write(work)


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


class Corrections:
    def __init__(self, ctx: ServiceContext, deliverer: WebhookDeliverer, redaction: Redaction) -> None:
        self.ctx, self.deliverer, self.redaction = ctx, deliverer, redaction
        self.decisions = ctx.decisions

    def issue(self, principal: Principal, dataset_id: str, description: str, severity: Severity | str) -> NoticeView:
        """Record a correction of `dataset_id` with everyone it affects, then deliver it to their webhooks."""
        if not description.strip():
            raise InvalidInput("description", "is required: say what was wrong and what changed")
        try:
            level = Severity(severity)
        except ValueError:
            raise InvalidInput("severity", f"must be one of {', '.join(Severity)}") from None
        now = self.ctx.clock()

        def work(tx: GraphTx) -> tuple[CorrectionNotice, list[Delivery]]:
            self.decisions.require_visible(tx, principal, Label.DATASET, dataset_id)
            facts = self.decisions.datasets(tx, [dataset_id])[dataset_id]
            request = AccessRequest(action="issue_correction", dataset_id=dataset_id)
            resource = facts.resource(now, self.ctx.settings.classifications)
            decision = self.decisions.authorize(tx, principal, request, resource, now)
            notice, concerns = _notice(
                tx,
                dataset_id,
                description,
                level,
                principal,
                now,
                self.ctx.settings.lineage_max_depth,
                self.ctx.new_id("notice"),
            )
            tx.create_node(Label.NOTICE, notice.id, to_props(notice))
            tx.merge_edge(Rel.NOTICE_OF, notice.id, dataset_id)
            append_event(
                tx,
                principal=principal,
                action="issue_correction",
                target_ids=[dataset_id, notice.id],
                change={
                    "notice": notice.id,
                    "description": description,
                    "severity": level.value,
                    "affected": notice.affected_dataset_ids,
                    "agencies": notice.agency_ids,
                },
                at=now,
                decision_id=decision.id,
            )
            agencies = tx.get_nodes(Label.AGENCY, notice.agency_ids)
            deliveries = [
                Delivery(agency, str(agencies[agency]["webhook_url"]), tuple(concerns.get(agency, ())))
                for agency in notice.agency_ids
                if agency in agencies and agencies[agency].get("webhook_url")
            ]
            return notice, deliveries

        notice, deliveries = self.decisions.write(work)
        self.deliverer.submit(notice, deliveries)  # only once committed: a failing webhook cannot undo it
        return self._views(principal, [notice])[0]

    def notices(
        self, principal: Principal, agency_id: str | None, first: int, after: str | None, *, with_total: bool = True
    ) -> Listing[NoticeView]:
        """Notices the principal may read (read_notice: the staff of an agency they are addressed to, auditors and
        admins), oldest first; with `agency_id`, those addressed to that agency."""
        if principal.anonymous:
            raise Forbidden("notices: sign in to read correction notices")
        where = all_of(
            Contains("agency_ids", agency_id) if agency_id is not None else None,
            self.decisions.readable(principal, "read_notice"),
        )
        page = self.ctx.store.read(
            lambda tx: tx.find_nodes(Label.NOTICE, where, first=first, after=after, with_total=with_total)
        )
        listing = Listing.from_page(page, lambda props: from_props(CorrectionNotice, props))
        return Listing(
            self._views(principal, listing.items), listing.has_next, listing.end_cursor, listing.total, listing.cursors
        )

    def notices_of_dataset(self, principal: Principal, dataset_id: str) -> list[NoticeView]:
        """Every notice issued about a dataset, oldest first (the caller has been allowed to see the dataset)."""
        ids = self.ctx.store.read(lambda tx: tx.neighbors(Rel.NOTICE_OF, [dataset_id], "in"))[dataset_id]
        found = self.ctx.store.read(lambda tx: tx.get_nodes(Label.NOTICE, ids))
        return self._views(principal, [from_props(CorrectionNotice, found[id]) for id in sorted(found)])

    def _views(self, principal: Principal, notices: list[CorrectionNotice]) -> list[NoticeView]:
        """Notices as the principal may read them: datasets they may not see, corrected or affected, redacted."""
        named = {d for n in notices for d in (n.dataset_id, *n.affected_dataset_ids)}
        hidden = self.redaction.hidden(principal, named)
        attempts = self._attempts([n.id for n in notices])
        redact = self.redaction.redact
        return [
            NoticeView(
                self.redaction.notice(n, hidden),
                [(redact(d), True) if d in hidden else (d, False) for d in n.affected_dataset_ids],
                attempts.get(n.id, []),
            )
            for n in notices
        ]

    def _attempts(self, notice_ids: list[str]) -> dict[str, list[DeliveryAttempt]]:
        if not notice_ids:
            return {}
        where = In("notice_id", tuple(notice_ids))
        page = self.ctx.store.read(lambda tx: tx.find_nodes(Label.DELIVERY, where, first=10_000))
        result: dict[str, list[DeliveryAttempt]] = {}
        for _, props in page.items:
            attempt = from_props(DeliveryAttempt, props)
            result.setdefault(attempt.notice_id, []).append(attempt)
        for attempts in result.values():
            attempts.sort(key=lambda a: (a.agency_id, a.attempt))
        return result


def _notice(
    tx: GraphTx,
    dataset_id: str,
    description: str,
    severity: Severity,
    principal: Principal,
    now: datetime,
    depth: int,
    notice_id: str,
) -> tuple[CorrectionNotice, dict[str, list[str]]]:
    """The notice, and for each agency to tell the affected datasets that concern it (owned or received)."""
    impact = tx.impact(dataset_id, depth)
    affected = sorted(d for d in impact.datasets if d != dataset_id)
    stewards = tx.neighbors(Rel.STEWARD_OF, affected, "in")
    owners: dict[str, Props] = tx.get_nodes(Label.DATASET, affected)
    concerns: dict[str, set[str]] = {}
    for id, props in owners.items():
        concerns.setdefault(str(props.get("owner_agency_id")), set()).add(id)
    recipients = set()
    for agreement in impact.agreements.values():
        if agreement.recipient_agency_id:
            recipients.add(agreement.recipient_agency_id)
            concerns.setdefault(agreement.recipient_agency_id, set()).update(agreement.dataset_ids)
    notice = parse_model(
        CorrectionNotice,
        {
            "id": notice_id,
            "dataset_id": dataset_id,
            "description": description,
            "severity": severity,
            "issued_by": principal.id,
            "at": now,
            "affected_dataset_ids": affected,
            "steward_ids": sorted({s for found in stewards.values() for s in found}),
            "recipient_agency_ids": sorted(recipients),
            "agency_ids": sorted(concerns),
        },
    )
    return notice, {agency: sorted(ids) for agency, ids in concerns.items()}
