"""A data owner's pages for a dataset's description: registering one (`/datasets/new`), editing one
(`/datasets/ID/edit`), and issuing a correction from its page.

Each goes through the same service as the API's `registerDataset`, `updateDataset` and `issueCorrection`, so it is
decided by the policy and recorded with its audit event. Whether the edit form is offered is the policy's answer
too (`Registration.update_refusal`, decided as the update would be, recording nothing), never worked out here.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from catalog.api.context import call
from catalog.domain import (
    Dataset,
    DatasetField,
    DatasetStatus,
    Decision,
    Identifiability,
    LawfulBasis,
    PersonalData,
    PiiTag,
)
from catalog.errors import AlreadyExists, CatalogError, InvalidInput
from catalog.principal import Principal
from catalog.services import Services
from catalog.web.forms import Rejection, rejection, shown_again
from catalog.web.render import dataset_url, page
from catalog.web.session import NOTICE_KEY, Form, read_form, signed_in
from catalog.web.views_catalog import MAX_LISTED, dataset_page, services_of

# Free text, with the rows of its textarea (0: one line).
TEXT_CONTROLS: tuple[tuple[str, str, int], ...] = (
    ("description", "Description", 4),
    ("collection_method", "How it is collected", 2),
    ("consent_notes", "Consent notes", 2),
    ("known_limitations", "Known limitations and biases", 3),
    ("quality_status", "Quality status", 0),
)
FIELD_LINE_HELP = "one a line: name: type | PII tag | description (type, tag and description may be left out)"


def _signed_in(request: Request, doing: str) -> Principal:
    return signed_in(request, doing, "datasets are described by their agency's people")


# -- the form and the service's payload --------------------------------------------------------------------------


def field_lines(fields: list[DatasetField]) -> str:
    """A dataset's fields as the form's textarea holds them, one a line."""

    def line(f: DatasetField) -> str:
        parts = [f"{f.name}: {f.type}"]
        if f.pii != PiiTag.NONE or f.description:
            parts.append(f.pii.value)
        if f.description:
            parts.append(" ".join(f.description.split()))  # one line: a description's line breaks become spaces
        return " | ".join(parts)

    return "\n".join(line(f) for f in fields)


def parse_fields(text: str) -> list[dict[str, Any]]:
    """The textarea's lines as the service's field list (the service checks each one)."""
    fields = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        name, _, rest = raw.partition(":")
        type_, pii, *description = [*(part.strip() for part in rest.split("|")), "", ""]
        column: dict[str, Any] = {"name": name.strip(), "type": type_ or "string", "pii": pii or PiiTag.NONE.value}
        if any(description):
            column["description"] = " | ".join(description).strip(" |")
        fields.append(column)
    return fields


def form_of(dataset: Dataset, fields: list[DatasetField]) -> Form:
    """The edit form filled in with the dataset as it is."""
    basis = dataset.legal_basis
    values: dict[str, list[str]] = {
        "title": [dataset.title],
        **{name: [str(getattr(dataset, name) or "")] for name, _, _ in TEXT_CONTROLS},
        "classification": [dataset.classification],
        "personal_data": [dataset.personal_data.value],
        "identifiability": [dataset.identifiability.value],
        "legal_basis.article6": [basis.article6.value if basis else ""],
        "legal_basis.statute": [(basis.statute or "") if basis else ""],
        "permitted_purposes": list(dataset.permitted_purposes),
        "retention_days": [str(dataset.retention_days or "")],
        "tags": [", ".join(dataset.tags)],
        "status": [dataset.status.value],
        "source_url": [dataset.source_url or ""],
        "fields": [field_lines(fields)],
    }
    if basis and basis.covers_identified:
        values["legal_basis.covers_identified"] = ["on"]
    return Form(values)


def _text(form: Form, name: str) -> str:
    return (form.get(name) or "").strip()


def description_payload(form: Form) -> dict[str, Any]:
    """What the form describes, as the service's input. A control left empty clears what it sets."""
    payload: dict[str, Any] = {name: _text(form, name) for name in ("title", *(n for n, _, _ in TEXT_CONTROLS))}
    if not payload["quality_status"]:
        del payload["quality_status"]  # the service's own default (UNASSESSED)
    for name in ("classification", "personal_data", "identifiability", "status"):
        if form.get(name):
            payload[name] = form.get(name)
    article6, statute = _text(form, "legal_basis.article6"), _text(form, "legal_basis.statute")
    if statute and not article6:
        raise InvalidInput("legal_basis.article6", "is required with a statute: choose the GDPR Art. 6 basis")
    payload["legal_basis"] = (
        {
            "article6": article6,
            "statute": statute or None,
            "covers_identified": form.get("legal_basis.covers_identified") == "on",
        }
        if article6
        else None
    )
    payload["permitted_purposes"] = [p for p in form.getlist("permitted_purposes") if p]
    retention = _text(form, "retention_days")
    if retention and not retention.isdigit():
        raise InvalidInput("retention_days", "must be a whole number of days, such as 2555")
    payload["retention_days"] = int(retention) if retention else None
    payload["tags"] = [tag.strip() for tag in _text(form, "tags").split(",") if tag.strip()]
    payload["source_url"] = _text(form, "source_url") or None
    payload["fields"] = parse_fields(form.get("fields") or "")
    return payload


def dataset_rejection(exc: CatalogError) -> Rejection:
    """As `rejection`, with a field's problem put beside the fields textarea and naming its line."""
    if isinstance(exc, InvalidInput) and exc.field.startswith("fields."):
        _, index, *rest = exc.field.split(".")
        where = f"line {int(index) + 1}" if index.isdigit() else index
        return Rejection(400, {"fields": f"fields: {where}: {'.'.join(rest) or 'field'}: {exc.rule}"})
    return rejection(exc)


def form_sheet(services: Services) -> dict[str, Any]:
    """The choices the dataset form offers, from the configured vocabularies."""
    return {
        "agencies": services.reads.agencies(MAX_LISTED).items,
        "classifications": services.ctx.settings.classifications,
        "purposes": services.ctx.settings.purposes,
        "personal_data_levels": [p.value for p in PersonalData],
        "identifiability_levels": [i.value for i in Identifiability],
        "bases": [b.value for b in LawfulBasis],
        "statuses": [s.value for s in DatasetStatus],
        "text_controls": TEXT_CONTROLS,
        "field_line_help": FIELD_LINE_HELP,
    }


async def _form_page(
    request: Request,
    status_code: int,
    form: Form,
    *,
    dataset: Dataset | None = None,
    problem: Rejection | None = None,
    refused_now: Decision | None = None,
) -> Response:
    services, principal = services_of(request), request.state.principal
    sheet = await call(form_sheet, services)
    again = await shown_again(services, principal, problem, form)
    return page(request, "dataset_form.html", status_code, dataset=dataset, refused_now=refused_now, **again, **sheet)


# -- registering -------------------------------------------------------------------------------------------------


async def new_dataset_form(request: Request) -> Response:
    principal = _signed_in(request, "register a dataset")
    scheme = services_of(request).ctx.settings.classifications
    blank = {"owner_agency_id": [principal.agency_id or ""], "classification": [scheme[0]], "status": ["ACTIVE"]}
    return await _form_page(request, 200, Form(blank))


async def register_dataset(request: Request) -> Response:
    """Register through the service; the new dataset's page follows. Bad input or a refusal shows the form again,
    as typed, with the field's error or the refusing decisions, and nothing written."""
    services, principal = services_of(request), _signed_in(request, "register a dataset")
    form = await read_form(request)
    try:
        payload = {**description_payload(form), "owner_agency_id": _text(form, "owner_agency_id")}
        if _text(form, "id"):
            payload["id"] = _text(form, "id")
        payload.pop("status", None)
        created: Dataset = await call(services.registration.register_dataset, principal, payload)
    except CatalogError as exc:
        taken = isinstance(exc, AlreadyExists)  # the id is in use (perhaps by a dataset hidden from them)
        problem = Rejection(409, {"id": f"id: {exc.message}; choose another"}) if taken else dataset_rejection(exc)
        return await _form_page(request, problem.status, form, problem=problem)
    request.session[NOTICE_KEY] = f"Dataset {created.id} was registered: decided by the policy and recorded."
    return RedirectResponse(dataset_url(created.id), status_code=303)


# -- editing -----------------------------------------------------------------------------------------------------


def edit_sheet(services: Services, principal: Principal, dataset_id: str) -> tuple[Dataset, Form, Decision | None]:
    """The dataset as `principal` may read it (NotFound otherwise, as on its page), the form filled in with it,
    and the policy's refusal of an edit by them (None when it would permit; nothing is recorded)."""
    dataset = services.reads.dataset(principal, dataset_id)
    fields = services.reads.fields_of([dataset_id])[dataset_id]
    return dataset, form_of(dataset, fields), services.registration.update_refusal(principal, dataset_id)


async def edit_dataset_form(request: Request) -> Response:
    services, principal = services_of(request), request.state.principal
    dataset, form, refused = await call(edit_sheet, services, principal, request.path_params["id"])
    return await _form_page(request, 403 if refused else 200, form, dataset=dataset, refused_now=refused)


def changes_of(services: Services, principal: Principal, dataset_id: str, form: Form) -> dict[str, Any]:
    """The form as the service's changes. Purposes ticked in another order, and fields as they were, are left
    alone, so an edit never records a change (or asks for a reason) that nobody made."""
    changes = description_payload(form)
    dataset = services.reads.dataset(principal, dataset_id)
    current = services.reads.fields_of([dataset_id])[dataset_id]
    if set(changes["permitted_purposes"]) == set(dataset.permitted_purposes):
        changes["permitted_purposes"] = list(dataset.permitted_purposes)
    as_was = [{"name": f.name, "type": f.type, "pii": f.pii.value, "description": f.description} for f in current]
    if [{"description": "", **column} for column in changes["fields"]] == as_was:
        del changes["fields"]
    return changes


def _update(services: Services, principal: Principal, dataset_id: str, form: Form) -> Dataset:
    changes = changes_of(services, principal, dataset_id, form)
    return services.registration.update_dataset(principal, dataset_id, changes, _text(form, "reason") or None)


async def update_dataset(request: Request) -> Response:
    """Update through the service; the dataset's page (its history first) follows. Bad input or a refusal shows
    the form again as typed, with the field's error or the refusing decisions, and nothing written."""
    services, principal = services_of(request), request.state.principal
    dataset_id = request.path_params["id"]
    form = await read_form(request)
    try:
        updated: Dataset = await call(_update, services, principal, dataset_id, form)
    except CatalogError as exc:
        problem = dataset_rejection(exc)
        dataset = await call(services.reads.dataset, principal, dataset_id)
        return await _form_page(request, problem.status, form, dataset=dataset, problem=problem)
    request.session[NOTICE_KEY] = (
        f"Dataset {dataset_id} was updated to version {updated.version}: decided by the policy and recorded."
    )
    return RedirectResponse(dataset_url(dataset_id) + "#history", status_code=303)


# -- a correction ------------------------------------------------------------------------------------------------


async def issue_correction(request: Request) -> Response:
    """Issue a correction through the service; the dataset's notices follow. Bad input or a refusal shows the
    dataset's page again with the error or the refusing decisions, and nothing written."""
    services, principal = services_of(request), _signed_in(request, "issue a correction")
    dataset_id = request.path_params["id"]
    form = await read_form(request)
    severity = form.get("severity") or ""
    try:
        await call(services.corrections.issue, principal, dataset_id, form.get("description") or "", severity)
    except CatalogError as exc:
        problem = rejection(exc, "correct.", "correct", ("description", "severity"))
        return await dataset_page(request, problem.status, problem=problem, form=form)
    request.session[NOTICE_KEY] = f"Your correction of {dataset_id} was decided by the policy, recorded and sent."
    return RedirectResponse(dataset_url(dataset_id) + "#notices", status_code=303)
