"""Rendering pages: the Jinja2 environment, the context every page gets, and the route wrapper that turns the
catalog's errors into error pages (never a stack trace) and checks the CSRF token on every POST."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from catalog.api import cursors
from catalog.api.errors import client_message, status_for
from catalog.errors import CatalogError
from catalog.principal import ANONYMOUS, Principal
from catalog.web.lineage_svg import colour_index
from catalog.web.session import CSRF_FIELD, check_csrf, csrf_token, pop_notice, principal_of

log = logging.getLogger("catalog.web")
HERE = Path(__file__).resolve().parent
Endpoint = Callable[[Request], Awaitable[Response]]


def path(*parts: str, **query: Any) -> str:
    """A link on this site: each part quoted (ids may hold `/` or `:`), empty query values left out."""
    url = "/" + "/".join(quote(part, safe="") for part in parts)
    kept = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{url}?{urlencode(kept)}" if kept else url


def dataset_url(id: str, view: str = "") -> str:
    return path("datasets", id, view) if view else path("datasets", id)


def when(value: datetime | None) -> str:
    """A timestamp as people read it, in UTC."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def day(value: datetime | None) -> str:
    """A date as people read it."""
    return value.strftime("%Y-%m-%d") if value else ""


def when_html(value: datetime | None) -> Markup:
    """A timestamp on a page: it may wrap between the date and the time of day, never inside either."""
    if not value:
        return Markup("")
    return Markup('<time datetime="{}"><span class="nowrap">{}</span> <span class="nowrap">{}</span></time>').format(
        value.isoformat(), day(value), value.strftime("%H:%M UTC")
    )


def day_html(value: datetime | None) -> Markup:
    """A date on a page, which never wraps inside itself."""
    if not value:
        return Markup("")
    return Markup('<time datetime="{}"><span class="nowrap">{}</span></time>').format(
        value.date().isoformat(), day(value)
    )


def dotted(text: object) -> Markup:
    """Text that may wrap after each `.` of a dotted name (`r.env.agreement.active`) but never inside a word: a
    browser finds no break in such a name, so a table holding it grew wider than its box."""
    return Markup(".<wbr>").join(str(text).split("."))


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(
    path=path, dataset_url=dataset_url, agency_url=lambda id: path("agencies", id), csrf_field=CSRF_FIELD
)
templates.env.globals.update(
    decision_url=lambda id: path("decisions", id),
    agreement_url=lambda id: path("agreements", id),
    person_url=lambda id: path("people", id),
    colour_index=colour_index,
    cursor=cursors.encode,  # pages hand out the API's opaque cursors (`?after=`), and read back only those
)
templates.env.filters.update(when=when_html, day=day_html, dotted=dotted)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """Render a page with what every page needs: who is signed in, the CSRF token, a one-off notice."""
    principal: Principal = request.state.principal
    base = {
        "principal": principal,
        "csrf": csrf_token(request),
        "notice": pop_notice(request),
        "current": request.url.path,
        "scheme": request.app.state.services.ctx.settings.classifications,
    }
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code)


def error_page(request: Request, exc: CatalogError) -> Response:
    status = status_for(exc)
    if status == 500:
        log.error("catalog error on %s: %s", request.url.path, exc.message)
    message = client_message(exc, getattr(request.state, "request_id", None))
    return page(request, "error.html", status, status=status, message=message, code=exc.code)


def web_route(
    route_path: str, endpoint: Endpoint, *, methods: tuple[str, ...] = ("GET",), name: str | None = None
) -> Route:
    """A page route: resolves the principal first, checks CSRF on POST, and renders errors as pages."""

    async def handle(request: Request) -> Response:
        request.state.principal = ANONYMOUS
        try:
            request.state.principal = await principal_of(request)
            if request.method == "POST":
                await check_csrf(request)
            return await endpoint(request)
        except CatalogError as exc:
            return error_page(request, exc)
        except Exception:
            request_id = getattr(request.state, "request_id", "?")
            log.exception("internal error in request %s on %s", request_id, request.url.path)
            message = f"Something went wrong on our side. Quote request id {request_id} to the catalog's operators."
            return page(request, "error.html", 500, status=500, message=message, code="INTERNAL")

    return Route(route_path, handle, methods=list(methods), name=name or endpoint.__name__)
