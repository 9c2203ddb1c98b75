"""Signing in and out: paste a token (dev mode), or the OIDC authorization-code flow against the issuer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from catalog.config import Settings
from catalog.errors import CatalogError, Forbidden, Unauthenticated
from catalog.web.oidc import OidcClient, PendingSignIn
from catalog.web.render import error_page, page
from catalog.web.session import csrf_token, read_form, safe_next, sign_in, sign_out

PENDING_KEY = "oidc"
CALLBACK_PATH = "/signin/callback"


class SignIn:
    """The sign-in endpoints. One per app: it keeps the issuer's discovered endpoints."""

    def __init__(self, settings: Settings) -> None:
        self.web = settings.web
        self.oidc = OidcClient(settings.auth, settings.web)

    def _redirect_uri(self, request: Request) -> str:
        return self.web.oidc_redirect_url or str(request.base_url).rstrip("/") + CALLBACK_PATH

    async def form(self, request: Request) -> Response:
        return self._form(request)

    def _form(self, request: Request, error: str | None = None, status: int = 200) -> Response:
        return page(
            request,
            "signin.html",
            status,
            next=safe_next(request.query_params.get("next")),
            token_sign_in=self.web.token_sign_in,
            oidc=self.oidc.configured,
            error=error,
        )

    async def with_token(self, request: Request) -> Response:
        if not self.web.token_sign_in:
            raise Forbidden("signing in with a pasted token is turned off (CATALOG_WEB__TOKEN_SIGN_IN)")
        form = await read_form(request)
        target = safe_next(form.get("next") or "/")
        try:
            request.state.principal = await sign_in(request, form.get("token") or "")
        except Unauthenticated as exc:
            return self._form(request, error=exc.message, status=401)
        return RedirectResponse(target, status_code=303)

    async def out(self, request: Request) -> Response:
        await sign_out(request)
        return RedirectResponse("/", status_code=303)

    async def start_oidc(self, request: Request) -> Response:
        url, pending = await self.oidc.start(self._redirect_uri(request), safe_next(request.query_params.get("next")))
        request.session[PENDING_KEY] = pending.as_session()
        return RedirectResponse(url, status_code=303)

    async def callback(self, request: Request) -> Response:
        pending = PendingSignIn.from_session(request.session.pop(PENDING_KEY, None))
        params = {k: v for k, v in request.query_params.items()}
        try:
            signed_in = await self.oidc.finish(pending, params, self._redirect_uri(request))
            request.state.principal = await sign_in(request, signed_in.access_token)
        except CatalogError as exc:
            await sign_out(request)
            csrf_token(request)
            return error_page(request, exc)
        return RedirectResponse(pending.next, status_code=303)
