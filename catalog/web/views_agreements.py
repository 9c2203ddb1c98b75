"""The agreements register of an agency (as provider and as recipient, with status and expiry), one agreement with
the decisions and approvals that made and changed it, and its lifecycle changes (suspend, resume, revoke, renew).

The changes go through `services.agreements`, so each is decided by the policy and recorded with its audit event;
which of them a page offers is the policy's answer too (`Agreements.changes_open_to`), never worked out here."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from catalog.api.context import call
from catalog.domain import AgreementStatus, SharingAgreement
from catalog.errors import CatalogError, InvalidInput, NotFound
from catalog.principal import Principal
from catalog.services import AgreementFilter, Services
from catalog.web.forms import choice, date_field, rejection
from catalog.web.render import page, path
from catalog.web.session import NOTICE_KEY, Form, read_form
from catalog.web.views_catalog import MAX_LISTED, services_of
from catalog.web.views_sharing import PARTICULAR_FIELDS
from catalog.web.views_work import EXPIRING_SOON_DAYS


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
        "reads_all": services.agreements.reads_every(principal),
    }


async def agency(request: Request) -> Response:
    services, principal = services_of(request), request.state.principal
    status = choice("status", request.query_params.get("status"), AgreementStatus)
    sheet = await call(register, services, principal, request.path_params["id"], status)
    return page(
        request,
        "agency.html",
        status=status.value if status else "",
        statuses=[s.value for s in AgreementStatus],
        soon_days=EXPIRING_SOON_DAYS,
        **sheet,
    )


CHANGES = {"suspend": "Suspend", "resume": "Resume", "revoke": "Revoke", "renew": "Renew"}
PAST = {"suspend": "suspended", "resume": "resumed", "revoke": "revoked", "renew": "renewed"}


def agreement_sheet(
    services: Services, principal: Principal, agreement_id: str, shown_ids: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The agreement (NotFound unless `principal` may read it), its decisions, the request and approvals behind
    it, the changes the policy would let `principal` make now, and the decisions `shown_ids` a change just
    made (of its own, or refused) that the page shows first."""
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
        "changes": {verb: CHANGES[verb] for verb in services.agreements.changes_open_to(principal, agreement_id)},
        "result": list(services.sharing.decisions_by_ids(principal, shown_ids).values()),
        "particular_fields": PARTICULAR_FIELDS,
    }


async def _agreement_page(
    request: Request,
    status_code: int = 200,
    *,
    shown_ids: tuple[str, ...] = (),
    errors: dict[str, str] | None = None,
    form: Form | None = None,
) -> Response:
    services, principal = services_of(request), request.state.principal
    sheet = await call(agreement_sheet, services, principal, request.path_params["id"], shown_ids)
    failed = next(iter(errors or {}), "").split(".")[0]  # the form the error is in, shown again as typed
    typed = form if form and failed else Form({})
    return page(request, "agreement.html", status_code, errors=errors or {}, failed=failed, form=typed, **sheet)


async def agreement(request: Request) -> Response:
    """The agreement's page; `?decided=ID,ID` shows the decisions a change just made on it (only its own)."""
    services, principal = services_of(request), request.state.principal
    decided = tuple(id for id in (request.query_params.get("decided") or "").split(",") if id)
    if decided:
        known = (await call(services.agreements.get, principal, request.path_params["id"])).decision_ids
        decided = tuple(id for id in decided if id in known)
    return await _agreement_page(request, shown_ids=decided)


async def change(request: Request) -> Response:
    """Suspend, resume, revoke or renew through the service. A refusal shows its recorded decisions, bad input the
    field's error, a conflict (the agreement is in another state) its reason: each on the agreement's page, with
    nothing written. Done, the page shows the decisions the change made."""
    services, principal = services_of(request), request.state.principal
    agreement_id, verb = request.path_params["id"], request.path_params["verb"]
    if verb not in CHANGES:
        raise NotFound("page", request.url.path)
    form = await read_form(request)
    reason = form.get("reason") or ""
    try:
        before = (await call(services.agreements.get, principal, agreement_id)).decision_ids
        if verb == "renew":
            until = date_field("valid_until", form.get("valid_until"))
            if until is None:
                raise InvalidInput("valid_until", "is required: the new end date, YYYY-MM-DD")
            changed = await call(services.agreements.renew, principal, agreement_id, until, reason)
        else:
            changed = await call(getattr(services.agreements, verb), principal, agreement_id, reason)
    except CatalogError as exc:
        problem = rejection(exc, f"{verb}.", verb)  # a missing or hidden agreement goes on to the error page
        return await _agreement_page(
            request, problem.status, shown_ids=problem.refusal_ids, errors=problem.errors, form=form
        )
    made = [id for id in changed.decision_ids if id not in before]
    request.session[NOTICE_KEY] = f"Agreement {agreement_id} was {PAST[verb]}: decided by the policy and recorded."
    return RedirectResponse(path("agreements", agreement_id, decided=",".join(made)) + "#result", status_code=303)
