"""The lineage explorer (drawn on the server as SVG, with a table of the same graph, and a steward's form to attest
a de-identify or aggregate process in it), its SVG download, and the impact view: everything downstream of a
dataset, the agreements covering it, and who received derived data."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from catalog.api.context import call
from catalog.api.security import SVG_POLICY
from catalog.domain import Dataset, Identifiability, Process
from catalog.errors import CatalogError, InvalidInput
from catalog.principal import Principal
from catalog.services import Services
from catalog.services.lineage import ATTESTABLE_IDENTIFIABILITY, ATTESTABLE_KINDS
from catalog.store.base import LineageDirection
from catalog.web.forms import Rejection, rejection, shown_again
from catalog.web.lineage_svg import LineageDrawing, draw, svg
from catalog.web.render import dataset_url, page, when
from catalog.web.session import NOTICE_KEY, Form, read_form, signed_in
from catalog.web.views_catalog import services_of

DIRECTIONS = ("DOWNSTREAM", "UPSTREAM", "BOTH")
DEFAULT_DEPTH = 3
DEFAULT_IMPACT_DEPTH = 10


def _depth(request: Request, default: int, cap: int) -> int:
    raw = request.query_params.get("depth") or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= cap:
        raise InvalidInput("depth", f"must be a whole number from 1 to {cap}")
    return int(raw)


def _direction(request: Request) -> LineageDirection:
    direction = (request.query_params.get("direction") or "BOTH").upper()
    if direction not in DIRECTIONS:
        raise InvalidInput("direction", f"must be one of {', '.join(DIRECTIONS)}")
    return cast(LineageDirection, direction)


def lineage_drawing(
    services: Services, principal: Principal, dataset_id: str, direction: LineageDirection, depth: int
) -> tuple[Dataset, LineageDrawing, list[Process]]:
    """The root dataset, its lineage drawing (each visible dataset links to its own explorer, re-centring), and
    the de-identify and aggregate processes in it, which a steward of their outputs may attest."""
    root = services.reads.dataset(principal, dataset_id)
    view = services.lineage.view(principal, dataset_id, direction, depth)

    def href(id: str) -> str:
        return dataset_url(id, "lineage") + f"?direction={direction}&depth={depth}"

    attestable = [n.process for n in view.nodes if n.process is not None and n.process.kind in ATTESTABLE_KINDS]
    return root, draw(view, services.ctx.settings.classifications, href), attestable


def _caption(request: Request, services: Services, direction: str, depth: int) -> str:
    principal = request.state.principal
    viewer = "anonymous" if principal.anonymous else principal.id
    return (
        f"{direction.lower()} lineage, depth {depth}, as visible to {viewer} at {when(services.ctx.clock())}; "
        f"policy {services.engine.version[:12]}"
    )


async def lineage_page(
    request: Request, status_code: int = 200, *, problem: Rejection | None = None, form: Form | None = None
) -> Response:
    """The explorer; after an attestation failed, with the error beside its field (what was typed kept) or the
    refusing decisions the policy recorded."""
    services, principal = services_of(request), request.state.principal
    direction = _direction(request)
    depth = _depth(request, DEFAULT_DEPTH, services.ctx.settings.lineage_max_depth)
    found = await call(lineage_drawing, services, principal, request.path_params["id"], direction, depth)
    root, drawing, attestable = found
    again = await shown_again(services, principal, problem, form)
    title = f"Lineage of {root.title}"
    caption = _caption(request, services, direction, depth)
    return page(
        request,
        "lineage.html",
        status_code,
        attestable=attestable,
        levels=[level.value for level in ATTESTABLE_IDENTIFIABILITY],
        dataset=root,
        drawing=drawing,
        graph=svg(drawing, title=title, caption=caption),
        direction=direction,
        depth=depth,
        directions=DIRECTIONS,
        max_depth=services.ctx.settings.lineage_max_depth,
        caption=caption,
        **again,
    )


async def lineage(request: Request) -> Response:
    return await lineage_page(request)


async def attest_process(request: Request) -> Response:
    """Attest a process through the service (as the API's `attestProcess`); the explorer follows, the attestation
    marked. Bad input or a refusal shows the explorer again with the error or the refusing decisions, and
    nothing written."""
    principal = signed_in(request, "attest a process", "a steward of its outputs attests it")
    services = services_of(request)
    form = await read_form(request)
    process_id = form.get("process_id") or ""
    try:
        if not process_id:
            raise InvalidInput("process_id", "is required: choose the process you checked")
        level = form.get("output_identifiability") or ""
        if level not in ATTESTABLE_IDENTIFIABILITY:
            raise InvalidInput("output_identifiability", f"must be one of {', '.join(ATTESTABLE_IDENTIFIABILITY)}")
        note = form.get("note") or ""
        await call(services.lineage.attest, principal, process_id, Identifiability(level), note)
    except CatalogError as exc:
        problem = rejection(exc, "attest.", "attest", ("process_id", "output_identifiability", "note"))
        return await lineage_page(request, problem.status, problem=problem, form=form)
    request.session[NOTICE_KEY] = f"Your attestation of {process_id} was decided by the policy and recorded."
    kept = urlencode({k: v for k, v in request.query_params.items() if k in ("direction", "depth")})
    explorer = dataset_url(request.path_params["id"], "lineage") + (f"?{kept}" if kept else "")
    return RedirectResponse(explorer + "#attest", status_code=303)


async def lineage_svg(request: Request) -> Response:
    """The drawing alone, with its styles and legend, to print or attach to an audit report."""
    services, principal = services_of(request), request.state.principal
    direction = _direction(request)
    depth = _depth(request, DEFAULT_DEPTH, services.ctx.settings.lineage_max_depth)
    root, drawing, _ = await call(lineage_drawing, services, principal, request.path_params["id"], direction, depth)
    caption = f"{root.title} ({root.id}): " + _caption(request, services, direction, depth)
    body = svg(drawing, title=f"Lineage of {root.title}", caption=caption, standalone=True)
    filename = f"lineage-{root.id.replace('/', '_')}-{direction.lower()}-{depth}.svg"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Content-Security-Policy": SVG_POLICY}
    return Response(body, media_type="image/svg+xml", headers=headers)


def impact_report(services: Services, principal: Principal, dataset_id: str, depth: int) -> dict[str, Any]:
    root = services.reads.dataset(principal, dataset_id)
    impact = services.lineage.impact(principal, dataset_id, depth)
    visible_ids = [d.id for d in impact.datasets if not d.redacted]
    datasets = services.reads.datasets_by_ids(principal, visible_ids)
    agencies = services.reads.agencies_by_ids(
        sorted({*impact.recipient_agency_ids, *(d.owner_agency_id for d in datasets.values())})
    )
    return {"dataset": root, "impact": impact, "datasets": datasets, "agencies": agencies}


async def impact(request: Request) -> Response:
    services, principal = services_of(request), request.state.principal
    depth = _depth(request, DEFAULT_IMPACT_DEPTH, services.ctx.settings.lineage_max_depth)
    report = await call(impact_report, services, principal, request.path_params["id"], depth)
    return page(request, "impact.html", depth=depth, max_depth=services.ctx.settings.lineage_max_depth, **report)
