"""Finding and reading datasets: the home page, search with filters and paging, and a dataset's page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from catalog.api.context import call
from catalog.domain import AccessMethod, Agency, Dataset, Severity
from catalog.errors import InvalidInput
from catalog.principal import Principal
from catalog.services import AgreementFilter, DatasetFilter, Services
from catalog.services.history import History
from catalog.services.redaction import PathStep
from catalog.web.forms import Rejection, page_cursor, shown_again
from catalog.web.render import page
from catalog.web.session import Form
from catalog.web.views_work import EXPIRING_SOON_DAYS, work_sheet

MAX_LISTED = 100  # agencies in a filter menu, agreements on a dataset page


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


@dataclass
class Restriction:
    """Why a dataset's effective classification is what it is."""

    classification: str
    own: str
    personal_data: str
    steps: list[PathStep] = field(default_factory=list)  # origin first, ending with the process into this dataset


def restriction_of(services: Services, principal: Principal, dataset: Dataset) -> Restriction:
    """The effective classification and, when it comes from upstream, the path it came down, with datasets the
    principal may not see redacted (the stored path names them all)."""
    effective = dataset.effective_classification or dataset.classification
    personal = (dataset.effective_personal_data or dataset.personal_data).value
    return Restriction(
        effective, dataset.classification, personal, services.redaction.steps(principal, dataset.restricted_by)
    )


async def home(request: Request) -> Response:
    """The home page; for a signed-in person, their work first (`?notices_after=` pages its notices)."""
    services, principal = services_of(request), request.state.principal
    listing = await call(services.reads.agencies, MAX_LISTED)
    datasets = await call(services.reads.datasets, principal, DatasetFilter(), 8)
    work = await call(work_sheet, services, principal, page_cursor(request, "notices_after"))
    return page(request, "home.html", agencies=listing.items, datasets=datasets, soon_days=EXPIRING_SOON_DAYS, **work)


def _filter_of(request: Request, scheme: list[str]) -> DatasetFilter:
    query = request.query_params
    classification = query.get("classification") or None
    if classification and classification not in scheme:
        raise InvalidInput("classification", f"must be one of {', '.join(scheme)}")
    status = query.get("status") or None
    if status and status not in ("ACTIVE", "DEPRECATED", "WITHDRAWN"):
        raise InvalidInput("status", "must be ACTIVE, DEPRECATED or WITHDRAWN")
    return DatasetFilter(
        agency_id=query.get("agency") or None,
        classification=classification,
        tag=query.get("tag") or None,
        status=status,
        text=query.get("q") or None,
    )


async def datasets(request: Request) -> Response:
    services, principal = services_of(request), request.state.principal
    scheme = services.ctx.settings.classifications
    criteria = _filter_of(request, scheme)
    after = page_cursor(request)
    listing = await call(services.reads.datasets, principal, criteria, None, after)
    agencies = await call(services.reads.agencies, MAX_LISTED)
    query = {k: v for k, v in request.query_params.items() if k != "after" and v}
    return page(
        request,
        "datasets.html",
        listing=listing,
        criteria=criteria,
        query=query,
        after=after,
        agencies=agencies.items,
        scheme=scheme,
        statuses=["ACTIVE", "DEPRECATED", "WITHDRAWN"],
    )


def dataset_sheet(services: Services, principal: Principal, dataset_id: str) -> dict[str, Any]:
    """Everything the dataset page shows, read as `principal` (NotFound unless it may see the dataset)."""
    dataset = services.reads.dataset(principal, dataset_id)
    owner: Agency | None = services.reads.agencies_by_ids([dataset.owner_agency_id]).get(dataset.owner_agency_id)
    steward_ids = services.reads.stewards_of([dataset_id])[dataset_id]
    stewards = services.reads.persons_by_ids(principal, steward_ids)
    agreements = services.agreements.list(principal, AgreementFilter(dataset=dataset_id), MAX_LISTED)
    history = History(services.ctx).of_datasets(principal, [dataset_id]).get(dataset_id, [])
    return {
        "dataset": dataset,
        "owner": owner,
        "fields": services.reads.fields_of([dataset_id])[dataset_id],
        "stewards": [stewards[id] for id in steward_ids if id in stewards],
        "hidden_stewards": len(steward_ids) - len(stewards),
        "restriction": restriction_of(services, principal, dataset),
        "agreements": agreements.items,
        "reads_all": services.agreements.reads_every(principal),
        "history": list(reversed(history)),  # newest first: what changed lately matters most
        "notices": services.corrections.notices_of_dataset(principal, dataset_id),
        "purposes": dataset.permitted_purposes or services.ctx.settings.purposes,
        "all_purposes": services.ctx.settings.purposes,
        "methods": [m.value for m in AccessMethod],
    }


async def dataset_page(
    request: Request, status_code: int = 200, *, problem: Rejection | None = None, form: Form | None = None
) -> Response:
    """The dataset's page; after a form on it failed, with the error beside its field (what was typed kept) or
    the refusing decisions the policy recorded."""
    services, principal = services_of(request), request.state.principal
    sheet = await call(dataset_sheet, services, principal, request.path_params["id"])
    again = await shown_again(services, principal, problem, form)
    return page(request, "dataset.html", status_code, severities=[s.value for s in Severity], **again, **sheet)


async def dataset(request: Request) -> Response:
    return await dataset_page(request)
