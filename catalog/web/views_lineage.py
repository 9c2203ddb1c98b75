"""The lineage explorer (drawn on the server as SVG, with a table of the same graph), its SVG download, and the
impact view: everything downstream of a dataset, the agreements covering it, and who received derived data."""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from catalog.api.context import call
from catalog.api.security import SVG_POLICY
from catalog.domain import Dataset
from catalog.errors import InvalidInput
from catalog.principal import Principal
from catalog.services import Services
from catalog.services.lineage import Direction
from catalog.web.lineage_svg import LineageDrawing, draw, svg
from catalog.web.render import dataset_url, page, when
from catalog.web.views_catalog import services_of

DIRECTIONS = ("DOWNSTREAM", "UPSTREAM", "BOTH")
DEFAULT_DEPTH = 3
DEFAULT_IMPACT_DEPTH = 10


def _depth(request: Request, default: int, cap: int) -> int:
    raw = request.query_params.get("depth") or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= cap:
        raise InvalidInput("depth", f"must be a whole number from 1 to {cap}")
    return int(raw)


def _direction(request: Request) -> Direction:
    direction = (request.query_params.get("direction") or "BOTH").upper()
    if direction not in DIRECTIONS:
        raise InvalidInput("direction", f"must be one of {', '.join(DIRECTIONS)}")
    return cast(Direction, direction)


def lineage_drawing(
    services: Services, principal: Principal, dataset_id: str, direction: Direction, depth: int
) -> tuple[Dataset, LineageDrawing]:
    """The root dataset and its lineage drawing; each visible dataset links to its own explorer (re-centring)."""
    root = services.reads.dataset(principal, dataset_id)
    view = services.lineage.view(principal, dataset_id, direction, depth)

    def href(id: str) -> str:
        return dataset_url(id, "lineage") + f"?direction={direction}&depth={depth}"

    return root, draw(view, services.ctx.settings.classifications, href)


def _caption(request: Request, services: Services, direction: str, depth: int) -> str:
    principal = request.state.principal
    viewer = "anonymous" if principal.anonymous else principal.id
    return (
        f"{direction.lower()} lineage, depth {depth}, as visible to {viewer} at {when(services.ctx.clock())}; "
        f"policy {services.engine.version[:12]}"
    )


async def lineage(request: Request) -> Response:
    services, principal = services_of(request), request.state.principal
    direction = _direction(request)
    depth = _depth(request, DEFAULT_DEPTH, services.ctx.settings.lineage_max_depth)
    root, drawing = await call(lineage_drawing, services, principal, request.path_params["id"], direction, depth)
    title = f"Lineage of {root.title}"
    caption = _caption(request, services, direction, depth)
    return page(
        request,
        "lineage.html",
        dataset=root,
        drawing=drawing,
        graph=svg(drawing, title=title, caption=caption),
        direction=direction,
        depth=depth,
        directions=DIRECTIONS,
        max_depth=services.ctx.settings.lineage_max_depth,
        caption=caption,
    )


async def lineage_svg(request: Request) -> Response:
    """The drawing alone, with its styles and legend, to print or attach to an audit report."""
    services, principal = services_of(request), request.state.principal
    direction = _direction(request)
    depth = _depth(request, DEFAULT_DEPTH, services.ctx.settings.lineage_max_depth)
    root, drawing = await call(lineage_drawing, services, principal, request.path_params["id"], direction, depth)
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
