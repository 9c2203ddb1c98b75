"""A signed-in person's work, on the home page: the share requests waiting for their verdict, their agency's
agreements that expire soon, and the correction notices addressed to their agency.

Each list is read through the same service, with the same policy gate, as the page that lists it in full, so it
holds only what the person may read; each is capped, with a link to that page (the notices, which have no page of
their own, page here).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from catalog.domain import AgreementStatus
from catalog.principal import Principal
from catalog.services import AgreementFilter, Services

SHOWN = 5  # of each list
EXPIRING_SOON_DAYS = 60  # as the agreements register marks them


def work_sheet(services: Services, principal: Principal, notices_after: str | None) -> dict[str, Any]:
    """What waits for `principal`, or nothing for an anonymous visitor."""
    if principal.anonymous:
        return {}
    waiting = services.sharing.awaiting_verdict(principal, SHOWN)
    agency = principal.agency_id
    now = services.ctx.clock()
    expiring, more_expiring, notices = [], False, None
    if agency:
        soon = now + timedelta(days=EXPIRING_SOON_DAYS)
        for side in ("provider", "recipient"):
            criteria = AgreementFilter(status=AgreementStatus.ACTIVE, expiring_before=soon, **{side: agency})
            listing = services.agreements.list(principal, criteria, SHOWN, with_total=False)
            expiring += listing.items
            more_expiring = more_expiring or listing.has_next
        expiring.sort(key=lambda a: a.valid_until)
        more_expiring = more_expiring or len(expiring) > SHOWN
        expiring = expiring[:SHOWN]
        notices = services.corrections.notices(principal, agency, SHOWN, notices_after)
    named = {view.notice.dataset_id for view in (notices.items if notices else [])}
    parties = {id for a in expiring for id in (a.provider_agency_id, a.recipient_agency_id)}
    return {
        "work": {
            "waiting": waiting,
            "expiring": expiring,
            "more_expiring": more_expiring,
            "notices": notices,
            "notices_after": notices_after,
            "now": now,
            # Only the datasets the person may see are linked; the notice names the others as the service redacted them.
            "datasets": services.reads.datasets_by_ids(principal, sorted(named)) if named else {},
            "agencies": services.reads.agencies_by_ids(sorted(parties)) if parties else {},
        }
    }
