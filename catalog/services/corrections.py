"""Corrections: telling everyone downstream that a dataset was wrong, and proving they were told.

`issue` records a CorrectionNotice on the dataset (NOTICE_OF edge, an `issue_correction` audit event with the
severity, so it shows in the dataset's history) with the downstream datasets, their stewards and the agencies
that received any of it, and one outbox row per agency with a webhook, in one transaction. Any server then
delivers the rows (`catalog.services.outbox`), with retries and exponential backoff, recording each attempt as a
DeliveryAttempt. A webhook that is down therefore never blocks or undoes a correction, and a delivery survives
the server that was making it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from catalog.audit.append import append_event
from catalog.domain import AccessRequest, CorrectionNotice, DeliveryAttempt, Severity, parse_model
from catalog.errors import Forbidden, InvalidInput
from catalog.principal import Principal
from catalog.services.context import Listing, ServiceContext
from catalog.services.outbox import Delivery, WebhookDeliverer, outbox_rows, payload
from catalog.services.redaction import Redaction
from catalog.store.base import GraphTx, Props
from catalog.store.query import Contains, In, all_of
from catalog.store.records import from_props, to_props
from catalog.store.schema import Label, Rel

__all__ = ["Corrections", "Delivery", "NoticeView", "WebhookDeliverer", "payload"]


@dataclass
class NoticeView:
    """A notice as a reader sees it: affected datasets they may not see are redacted."""

    notice: CorrectionNotice
    affected: list[tuple[str, bool]]  # (shown id, redacted)
    deliveries: list[DeliveryAttempt] = field(default_factory=list)


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

        def work(tx: GraphTx) -> tuple[CorrectionNotice, bool]:
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
            agencies = tx.get_nodes(Label.AGENCY, notice.agency_ids)
            deliveries = [
                Delivery(agency, str(agencies[agency]["webhook_url"]), tuple(concerns.get(agency, ())))
                for agency in notice.agency_ids
                if agency in agencies and agencies[agency].get("webhook_url")
            ]
            rows, row_edges = outbox_rows(notice, deliveries, now)
            append_event(  # the notice, its edge and its outbox rows are created with the event
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
                    "deliveries": [id for _, id, _ in rows],
                },
                at=now,
                decision_id=decision.id,
                alongside=[(Label.NOTICE, notice.id, to_props(notice)), *rows],
                edges=[(Rel.NOTICE_OF, notice.id, dataset_id), *row_edges],
            )
            return notice, bool(rows)

        notice, owed = self.decisions.write(work)
        if owed:
            self.deliverer.submit()  # committed: any server may deliver it now, and this one starts at once
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
        listing = self.ctx.listing(Label.NOTICE, where, partial(from_props, CorrectionNotice), first, after, with_total)
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
