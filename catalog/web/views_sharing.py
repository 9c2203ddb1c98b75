"""The sharing workflow's pages: a steward's and approver's queue of share requests, one request with its four-eyes
state and the verdicts the policy lets the viewer give, and an analyst's form to ask for a share.

Every action goes through `services.sharing`, so it is decided by the policy and recorded with its audit event; the
page then shows the decisions it made. Which forms a page offers is the policy's answer too
(`Sharing.verdicts_open_to`), never worked out here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from catalog.api.context import call
from catalog.domain import (
    AccessMethod,
    Approval,
    ApprovalVerdict,
    LawfulBasis,
    ShareRequest,
    ShareRequestStatus,
    SharingFrequency,
)
from catalog.errors import CatalogError, InvalidInput
from catalog.principal import Principal
from catalog.services import DatasetFilter, Services, ShareRequestFilter
from catalog.services.decisions import waiting_for
from catalog.web.forms import choice, date_field, field_errors, page_cursor, rejection
from catalog.web.render import page, path
from catalog.web.session import NOTICE_KEY, Form, read_form, signed_in
from catalog.web.views_catalog import MAX_LISTED, services_of

VIEWS = {"waiting": "Waiting for me", "agency": "My agency's", "all": "All I may see"}
# The text particulars a public register names (AgreementParticulars): label, and textarea rows (0: one line).
PARTICULAR_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("title", "Title", 0),
    ("summary", "Public summary", 3),
    ("expected_benefits", "Expected benefits", 3),
    ("function", "The provider's function the purpose relates to", 2),
    ("further_processing", "Processing after disclosure, and any further use", 2),
    ("dpia_summary", "Summary of the data protection impact assessment", 3),
    ("security_measures", "Security measures (without compromising them)", 2),
    ("retention", "Retention", 0),
)


def _signed_in(request: Request, doing: str) -> Principal:
    return signed_in(request, doing, "share requests are read and made by people")


# -- the queue ---------------------------------------------------------------------------------------------------


def queue_sheet(
    services: Services, principal: Principal, view: str, status: ShareRequestStatus | None, after: str | None
) -> dict[str, Any]:
    """One page of the queue: requests waiting for the viewer's verdict, their agency's, or all they may read."""
    size = services.ctx.settings.api.default_page_size
    if view == "waiting":
        listing = services.sharing.awaiting_verdict(principal, size, after)
    else:
        if view == "agency" and not principal.agency_id:
            raise InvalidInput("view", f"{principal.id} is staff of no agency; choose waiting or all")
        party = principal.agency_id if view == "agency" else None
        listing = services.sharing.requests(principal, ShareRequestFilter(status=status, party=party), size, after)
    dataset_ids = sorted({id for r in listing.items for id in r.dataset_ids})
    return {"listing": listing, "datasets": services.reads.datasets_by_ids(principal, dataset_ids)}


async def queue(request: Request) -> Response:
    services, principal = services_of(request), _signed_in(request, "see share requests")
    view = request.query_params.get("view") or "waiting"
    if view not in VIEWS:
        raise InvalidInput("view", f"must be one of {', '.join(VIEWS)}")
    status = choice("status", request.query_params.get("status"), ShareRequestStatus) if view != "waiting" else None
    after = page_cursor(request)
    sheet = await call(queue_sheet, services, principal, view, status, after)
    kept = {"view": view, "status": status.value if status else ""}
    return page(
        request,
        "share_requests.html",
        view=view,
        views=VIEWS,
        status=kept["status"],
        statuses=[s.value for s in ShareRequestStatus],
        kept=kept,
        after=after,
        **sheet,
    )


# -- one request -------------------------------------------------------------------------------------------------


@dataclass
class Requirement:
    """One approval a request needs, as a person reads it, and the verdict that gave it (None while needed)."""

    label: str
    given_by: Approval | None


def four_eyes(share_request: ShareRequest, approvals: list[Approval]) -> list[Requirement]:
    return [
        Requirement(waiting_for([needed], [])[0], next((a for a in approvals if needed in a.fills), None))
        for needed in share_request.required_approvals
    ]


def request_sheet(
    services: Services, principal: Principal, request_id: str, refusal_ids: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The request (NotFound unless `principal` may read it), its verdicts and decisions, what it still needs,
    and the verdicts the policy would let `principal` give now."""
    share_request = services.sharing.get(principal, request_id)
    approvals = services.sharing.approvals_of([request_id])[request_id]
    ids = [*share_request.decision_ids, *(id for a in approvals for id in a.decision_ids), *refusal_ids]
    decisions = services.sharing.decisions_by_ids(principal, ids)
    mine = next((a for a in approvals if a.approver_id == principal.id), None)
    agencies = [share_request.recipient_agency_id, share_request.provider_agency_id or ""]
    open_to = services.sharing.verdicts_open_to(principal, request_id)
    return {
        "share_request": share_request,
        "approvals": approvals,
        "requirements": four_eyes(share_request, approvals),
        "still_needed": waiting_for(share_request.required_approvals, share_request.filled_approvals),
        "request_decisions": [decisions[id] for id in share_request.decision_ids if id in decisions],
        "decisions_of": {a.id: [decisions[id] for id in a.decision_ids if id in decisions] for a in approvals},
        "my_verdict": mine,
        "my_fills": waiting_for(mine.fills, []) if mine else [],
        "refusal": [decisions[id] for id in refusal_ids if id in decisions],
        "can_approve": ApprovalVerdict.APPROVE in open_to,
        "can_reject": ApprovalVerdict.REJECT in open_to,
        "datasets": services.reads.datasets_by_ids(principal, share_request.dataset_ids),
        "agencies": services.reads.agencies_by_ids([a for a in agencies if a]),
    }


async def _request_page(
    request: Request,
    status_code: int = 200,
    *,
    errors: dict[str, str] | None = None,
    values: Form | None = None,
    refusal_ids: tuple[str, ...] = (),
) -> Response:
    services, principal = services_of(request), request.state.principal
    sheet = await call(request_sheet, services, principal, request.path_params["id"], refusal_ids)
    typed = {name: values.get(name) or "" for name in ("note", "conditions", "reason")} if values else {}
    return page(request, "share_request.html", status_code, errors=errors or {}, values=typed, **sheet)


async def share_request(request: Request) -> Response:
    return await _request_page(request)


async def _give(request: Request, form_name: str, verdict: ApprovalVerdict) -> Response:
    """Give a verdict through the service. A refusal shows its recorded decisions, bad input the field's error,
    a conflict (not pending, already decided) its reason: each on the request's page, with nothing written."""
    services, principal = services_of(request), request.state.principal
    request_id = request.path_params["id"]
    form = await read_form(request)
    try:
        if verdict == ApprovalVerdict.APPROVE:
            conditions = [line.strip() for line in (form.get("conditions") or "").splitlines() if line.strip()]
            await call(services.sharing.approve, principal, request_id, form.get("note") or "", conditions)
        else:
            await call(services.sharing.reject, principal, request_id, form.get("reason") or "")
    except CatalogError as exc:
        problem = rejection(exc, f"{form_name}.", form_name)  # a missing or hidden request goes on to the error page
        return await _request_page(
            request, problem.status, errors=problem.errors, values=form, refusal_ids=problem.refusal_ids
        )
    done = "approval" if verdict == ApprovalVerdict.APPROVE else "rejection"
    request.session[NOTICE_KEY] = f"Your {done} of {request_id} was decided by the policy and recorded."
    return RedirectResponse(path("share-requests", request_id) + "#verdict", status_code=303)


async def approve(request: Request) -> Response:
    return await _give(request, "approve", ApprovalVerdict.APPROVE)


async def reject(request: Request) -> Response:
    return await _give(request, "reject", ApprovalVerdict.REJECT)


# -- asking for a share ------------------------------------------------------------------------------------------


def new_sheet(services: Services, principal: Principal, provider: str | None, dataset_id: str | None) -> dict[str, Any]:
    """What the form offers: the agencies to ask, and the provider's datasets the asker may see with their fields.
    A dataset named in the link picks its provider (NotFound, as on its page, when the asker may not see it)."""
    if dataset_id and not provider:
        provider = services.reads.dataset(principal, dataset_id).owner_agency_id
    offered = services.reads.datasets(principal, DatasetFilter(agency_id=provider), MAX_LISTED) if provider else None
    items = offered.items if offered else []
    return {
        "provider": provider or "",
        "agencies": services.reads.agencies(MAX_LISTED).items,
        "offered": items,
        # A listing carries no field lists: read them, so the form offers each dataset's own fields to choose from.
        "fields_of": services.reads.fields_of([d.id for d in items]) if items else {},
        "purposes": services.ctx.settings.purposes,
        "methods": [m.value for m in AccessMethod],
        "bases": [b.value for b in LawfulBasis],
        "particular_fields": PARTICULAR_FIELDS,
        "frequencies": [f.value for f in SharingFrequency],
    }


async def _new_page(
    request: Request, status_code: int, provider: str | None, dataset_id: str | None, form: Form | None, **extra: Any
) -> Response:
    services, principal = services_of(request), request.state.principal
    sheet = await call(new_sheet, services, principal, provider, dataset_id)
    chosen = form.getlist("dataset_ids") if form else ([dataset_id] if dataset_id else [])
    return page(
        request,
        "share_request_new.html",
        status_code,
        form=form or Form({}),
        chosen=chosen,
        errors=extra.pop("errors", {}),
        **sheet,
        **extra,
    )


async def new_request_form(request: Request) -> Response:
    _signed_in(request, "ask for a share")
    query = request.query_params
    return await _new_page(request, 200, query.get("provider") or None, query.get("dataset") or None, None)


def request_payload(form: Form, recipient: str | None) -> dict[str, Any]:
    """The service's input from the form. Empty controls are left out, so the service names what is missing."""
    payload: dict[str, Any] = {
        "dataset_ids": [id for id in form.getlist("dataset_ids") if id],
        "fields": list(dict.fromkeys(name for name in form.getlist("fields") if name)),
        "justification": (form.get("justification") or "").strip(),
    }
    if recipient:
        payload["recipient_agency_id"] = recipient
    for name in ("purpose", "access_method"):
        if form.get(name):
            payload[name] = form.get(name)
    basis: dict[str, Any] = {"covers_identified": form.get("legal_basis.covers_identified") == "on"}
    if form.get("legal_basis.article6"):
        basis["article6"] = form.get("legal_basis.article6")
    if (form.get("legal_basis.statute") or "").strip():
        basis["statute"] = (form.get("legal_basis.statute") or "").strip()
    payload["legal_basis"] = basis
    for name in ("valid_from", "valid_until"):
        value = date_field(name, form.get(name))
        if value is not None:
            payload[name] = value
    particulars: dict[str, Any] = {
        name: text for name, _, _ in PARTICULAR_FIELDS if (text := (form.get(f"particulars.{name}") or "").strip())
    }
    if form.get("particulars.frequency"):
        particulars["frequency"] = form.get("particulars.frequency")
    review = date_field("particulars.review_date", form.get("particulars.review_date"))
    if review is not None:
        particulars["review_date"] = review
    if particulars:
        payload["particulars"] = particulars
    return payload


async def new_request(request: Request) -> Response:
    """Ask for a share for the asker's agency. The policy decides each dataset and the request is recorded, then
    its page shows the decisions (and, when refused, what would have to change)."""
    services, principal = services_of(request), _signed_in(request, "ask for a share")
    form = await read_form(request)
    provider = form.get("provider") or None
    try:
        created: ShareRequest = await call(
            services.sharing.request, principal, request_payload(form, principal.agency_id)
        )
    except InvalidInput as exc:
        return await _new_page(request, 400, provider, None, form, errors=field_errors(exc))
    outcome = "refused" if created.status == ShareRequestStatus.DENIED else "recorded; it now waits for approval"
    request.session[NOTICE_KEY] = f"Your share request {created.id} was decided by the policy: {outcome}."
    return RedirectResponse(path("share-requests", created.id) + "#decisions", status_code=303)
