"""The agreements register of an agency (as provider and as recipient, with status and expiry) and one agreement
with the decisions and approvals that made and changed it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from catalog.api.context import call
from catalog.domain import AgreementStatus, SharingAgreement
from catalog.errors import InvalidInput
from catalog.principal import Principal
from catalog.services import AgreementFilter, Services
from catalog.web.render import page
from catalog.web.views_catalog import MAX_LISTED, services_of

EXPIRING_SOON_DAYS = 60


def _status(raw: str | None) -> AgreementStatus | None:
    if not raw:
        return None
    try:
        return AgreementStatus(raw)
    except ValueError:
        raise InvalidInput("status", f"must be one of {', '.join(s.value for s in AgreementStatus)}") from None


def register(
    services: Services, principal: Principal, agency_id: str, status: AgreementStatus | None
) -> dict[str, Any]:
    """An agency and the agreements it is party to that `principal` may read, as provider and as recipient."""
    agency = services.reads.agency(agency_id)
    provided = services.agreements.list(principal, AgreementFilter(provider=agency_id, status=status), MAX_LISTED)
    received = services.agreements.list(principal, AgreementFilter(recipient=agency_id, status=status), MAX_LISTED)
    parties = {a.recipient_agency_id for a in provided.items} | {a.provider_agency_id for a in received.items}
    return {
        "agency": agency,
        "provided": provided,
        "received": received,
        "agencies": services.reads.agencies_by_ids(sorted(parties | {agency_id})),
        "now": services.ctx.clock(),
    }


async def agency(request: Request) -> Response:
    services, principal = services_of(request), request.state.principal
    status = _status(request.query_params.get("status"))
    sheet = await call(register, services, principal, request.path_params["id"], status)
    return page(
        request,
        "agency.html",
        status=status.value if status else "",
        statuses=[s.value for s in AgreementStatus],
        soon_days=EXPIRING_SOON_DAYS,
        **sheet,
    )


def agreement_sheet(services: Services, principal: Principal, agreement_id: str) -> dict[str, Any]:
    """The agreement (NotFound unless `principal` may read it), its decisions, and the request and approvals
    behind it."""
    agreement: SharingAgreement = services.agreements.get(principal, agreement_id)
    decisions = services.sharing.decisions_by_ids(principal, agreement.decision_ids)
    request_id = agreement.share_request_id
    share_request = services.sharing.requests_by_ids(principal, [request_id]).get(request_id) if request_id else None
    approvals = services.sharing.approvals_of([request_id])[request_id] if share_request and request_id else []
    if share_request:
        decisions.update(services.sharing.decisions_by_ids(principal, share_request.decision_ids))
    return {
        "agreement": agreement,
        "decisions": sorted(decisions.values(), key=lambda d: d.at),
        "share_request": share_request,
        "approvals": approvals,
        "datasets": services.reads.datasets_by_ids(principal, agreement.dataset_ids),
        "agencies": services.reads.agencies_by_ids([agreement.provider_agency_id, agreement.recipient_agency_id]),
        "now": services.ctx.clock(),
    }


async def agreement(request: Request) -> Response:
    services, principal = services_of(request), request.state.principal
    sheet = await call(agreement_sheet, services, principal, request.path_params["id"])
    return page(request, "agreement.html", **sheet)
