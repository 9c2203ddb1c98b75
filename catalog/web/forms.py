"""What every write page shares: turning a service's InvalidInput into an error beside the field it names (and a refusal
into the decisions the policy recorded), and reading dates and choices from a form. A form with an error is shown
again with what was typed, and nothing is written (the services check input before they write, and roll back if they
find a problem while writing)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from starlette.requests import Request

from catalog.api import cursors
from catalog.api.context import call
from catalog.errors import CatalogError, Conflict, Forbidden, InvalidInput
from catalog.principal import Principal
from catalog.services import Services
from catalog.web.session import Form

E = TypeVar("E", bound=Enum)
ITEM = re.compile(r"\.\d+$")  # `dataset_ids.0` is an error in the `dataset_ids` control


def field_errors(exc: InvalidInput, prefix: str = "") -> dict[str, str]:
    """`{control name: "field: rule"}` for the form control the error is about; `prefix` names which form
    (a page with several forms)."""
    return {prefix + ITEM.sub("", exc.field): exc.message}


def date_field(field: str, raw: str | None) -> datetime | None:
    """A `YYYY-MM-DD` date from a form, as midnight UTC; None when left empty."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(field, "must be a date, YYYY-MM-DD") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def page_cursor(request: Request, name: str = "after") -> str | None:
    """The id the page's `?after=` cursor (or `name`) carries; None on a first page. Only a cursor the pages handed
    out is read: any other is InvalidInput naming `name`, as the API answers it."""
    return cursors.decode(request.query_params.get(name) or None, name)


def choice(field: str, raw: str | None, kind: type[E]) -> E | None:
    """One of the values of the enum `kind` (a filter's menu); None when left empty."""
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(field, f"must be one of {', '.join(str(k.value) for k in kind)}") from None


@dataclass(frozen=True)
class Rejection:
    """Why a form's action was not done, as its page shows it again: the status to answer, the error beside each
    control it names, and the refusing decisions the policy recorded (shown in plain words with their links)."""

    status: int
    errors: dict[str, str]
    refusal_ids: tuple[str, ...] = ()


def rejection(
    exc: CatalogError, prefix: str = "", form: str = "form", controls: Collection[str] | None = None
) -> Rejection:
    """The page's answer to a service's bad input (400), policy refusal (403) or conflict (409). `prefix` names
    the form among several on a page; `form` keys an error that belongs to none of its `controls` (when given).
    Anything else (a missing or hidden record, a refusal that recorded no decision) is re-raised for the error
    page."""
    if isinstance(exc, InvalidInput):
        errors = field_errors(exc)
        if controls is not None and not set(errors) <= set(controls):
            return Rejection(400, {form: exc.message})
        return Rejection(400, {prefix + name: message for name, message in errors.items()})
    if isinstance(exc, Forbidden) and exc.decision_ids:
        return Rejection(403, {form: exc.message}, exc.decision_ids)
    if isinstance(exc, Conflict):
        return Rejection(409, {form: exc.message})
    raise exc


async def shown_again(
    services: Services, principal: Principal, problem: Rejection | None, form: Form | None
) -> dict[str, Any]:
    """What a page needs to show a form again after it failed: the errors by control, the refusing decisions (the
    refused person may read their own), and the form as typed. Empty, for a page shown afresh."""
    ids = problem.refusal_ids if problem else ()
    refusal = await call(services.sharing.decisions_by_ids, principal, ids) if ids else {}
    return {"errors": problem.errors if problem else {}, "refusal": list(refusal.values()), "form": form or Form({})}
