"""A person's page, and the changes made on it: recording their data-ethics training, granting and withdrawing their
roles, and deactivating or reactivating them.

Each change goes through the service the API's mutation calls (`recordTraining`, `setRoles`, `deactivatePerson`,
`reactivatePerson`), so it is decided by the policy and recorded with its audit event. Which forms the page offers is
the policy's answer too (`People.changes_open_to`), never worked out here; a forged post is refused all the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from catalog.api.context import call
from catalog.domain import Decision, Role
from catalog.errors import CatalogError
from catalog.principal import Principal
from catalog.services import DecisionFilter, Services
from catalog.web.forms import Rejection, date_field, rejection, shown_again
from catalog.web.render import page, path
from catalog.web.session import NOTICE_KEY, Form, read_form, signed_in
from catalog.web.views_catalog import services_of

REFUSED = {
    "training": "Recording the training was refused",
    "roles": "Changing the roles was refused",
    "status": "The change of status was refused",
}
MAX_SHOWN = 10  # decisions a change made, shown after it (one per role changed, at most one per role)


def _signed_in(request: Request, doing: str) -> Principal:
    # Asked before the person is read, so a visitor learns nothing of who exists.
    return signed_in(request, doing, "people are administered by their agency's data owners")


def person_sheet(
    services: Services, principal: Principal, person_id: str, shown_ids: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The person as `principal` may read them (NotFound otherwise), their agency and training, the changes the
    policy would let `principal` make on them now, and the decisions `shown_ids` a change just made about them."""
    found = services.reads.person(principal, person_id)
    asked = DecisionFilter(requester=found.id)
    readable = services.access.list(principal, asked, 1, None, with_total=False)
    now = services.ctx.clock()
    made = services.sharing.decisions_by_ids(principal, shown_ids).values() if shown_ids else []
    return {
        "person": found,
        "agency": services.reads.agencies_by_ids([found.agency_id]).get(found.agency_id),
        "training_current": found.training is not None and found.training.is_current(now),
        # The link shows when the policy (read_decision) lets the reader see any decision this person asked for.
        "can_read_decisions": bool(readable.items),
        "changes": services.people.changes_open_to(principal, person_id),
        "all_roles": [role.value for role in Role],
        "result": [d for d in made if d.request.person_id == found.id],  # only decisions about this person
    }


async def person_page(
    request: Request, status_code: int = 200, *, problem: Rejection | None = None, form: Form | None = None
) -> Response:
    """The person's page; after a form on it failed, with the error beside its field (what was typed kept) or the
    refusing decisions the policy recorded; `?decided=ID,ID` shows the decisions a change just made."""
    services, principal = services_of(request), request.state.principal
    decided = tuple(id for id in (request.query_params.get("decided") or "").split(",") if id)[:MAX_SHOWN]
    sheet = await call(person_sheet, services, principal, request.path_params["id"], decided)
    again = await shown_again(services, principal, problem, form)
    failed = next(iter(again["errors"]), "").split(".")[0]  # the form the error is in, shown again as typed
    return page(request, "person.html", status_code, failed=failed, refused_titles=REFUSED, **again, **sheet)


async def person(request: Request) -> Response:
    return await person_page(request)


async def record_training(request: Request) -> Response:
    """Record a person's data-ethics training through the service (as the API's `recordTraining`). Bad input or a
    refusal shows their page again with the error or the refusing decisions, and nothing written."""
    services, principal = services_of(request), _signed_in(request, "record training")
    person_id = request.path_params["id"]
    form = await read_form(request)
    try:
        payload = {
            name: value
            for name in ("completed_at", "expires_at")
            if (value := date_field(f"training.{name}", form.get(f"training.{name}"))) is not None
        }
        await call(services.registration.record_training, principal, person_id, payload)
    except CatalogError as exc:
        problem = rejection(exc, "", "training", ("training.completed_at", "training.expires_at"))
        return await person_page(request, problem.status, problem=problem, form=form)
    request.session[NOTICE_KEY] = f"The training of {person_id} was recorded: decided by the policy and recorded."
    return RedirectResponse(path("people", person_id) + "#training", status_code=303)


def _decided_since(
    services: Services, principal: Principal, action: str, person_id: str, since: datetime
) -> list[Decision]:
    """The decisions on `action` about the person that `principal` caused from `since` on: what a change made."""
    asked = DecisionFilter(action=action, requester=principal.id, at_from=since)
    listing = services.access.list(principal, asked, MAX_SHOWN, None, with_total=False)
    return [d for d in listing.items if d.request.person_id == person_id]


def _done(request: Request, person_id: str, made: list[Decision], notice: str) -> Response:
    request.session[NOTICE_KEY] = notice
    decided = ",".join(d.id for d in made)
    return RedirectResponse(path("people", person_id, decided=decided) + "#result", status_code=303)


async def set_roles(request: Request) -> Response:
    """Give the person exactly the roles ticked, through the service (as the API's `setRoles`): each role granted
    or withdrawn is its own decision. A refusal shows its recorded decisions, bad input the field's error."""
    services, principal = services_of(request), _signed_in(request, "change roles")
    person_id = request.path_params["id"]
    form = await read_form(request)
    reason = (form.get("reason") or "").strip() or None
    since = services.ctx.clock()
    try:
        await call(services.people.set_roles, principal, person_id, form.getlist("roles"), reason)
    except CatalogError as exc:
        problem = rejection(exc, "roles.", "roles", ("roles", "reason"))  # a missing person goes to the error page
        return await person_page(request, problem.status, problem=problem, form=form)
    made = await call(_decided_since, services, principal, "grant_role", person_id, since)
    if not made:
        return _done(request, person_id, made, f"Nothing changed: {person_id} already holds exactly those roles.")
    notice = f"The roles of {person_id} were changed: decided by the policy and recorded."
    return _done(request, person_id, made, notice)


async def _set_status(request: Request, active: bool) -> Response:
    """Deactivate or reactivate the person through the service, with the reason the form gives."""
    verb = "reactivate" if active else "deactivate"
    services, principal = services_of(request), _signed_in(request, f"{verb} a person")
    person_id = request.path_params["id"]
    form = await read_form(request)
    since = services.ctx.clock()
    try:
        await call(getattr(services.people, verb), principal, person_id, form.get("reason") or "")
    except CatalogError as exc:
        problem = rejection(exc, "status.", "status", ("reason",))
        return await person_page(request, problem.status, problem=problem, form=form)
    made = await call(_decided_since, services, principal, f"{verb}_person", person_id, since)
    return _done(request, person_id, made, f"{person_id} was {verb}d: decided by the policy and recorded.")


async def deactivate(request: Request) -> Response:
    return await _set_status(request, active=False)


async def reactivate(request: Request) -> Response:
    return await _set_status(request, active=True)
