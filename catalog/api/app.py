"""The app factory: routes, middleware and a lifespan that closes the store. No logic lives here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from catalog.api.auth import Authenticator, TokenVerifier
from catalog.api.dcat import catalog_jsonld, catalog_ttl
from catalog.api.envelope import RequestEnvelope
from catalog.api.errors import handle_catalog_error
from catalog.api.graphql_http import GraphQLEndpoint
from catalog.api.health import healthz, readyz
from catalog.api.metrics import ApiMetrics, metrics_endpoint
from catalog.api.odrl import agreement_odrl
from catalog.api.openlineage import lineage_endpoint
from catalog.api.register import register_csv, register_json
from catalog.api.schema import schema
from catalog.errors import CatalogError
from catalog.policy.watch import watching
from catalog.services import Services
from catalog.web import web_middleware, web_routes


def create_app(services: Services) -> Starlette:
    settings = services.ctx.settings

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        deliverer = services.corrections.deliverer
        deliverer.start()  # this replica delivers the shared webhook outbox too
        try:
            async with watching(services.engine, settings.policy_reload_interval_s):
                yield
        finally:
            # A try in progress finishes and is recorded; what is left stays in the outbox for the other replicas.
            await asyncio.to_thread(deliverer.stop, settings.webhooks.timeout_s + 5)
            services.store.close()

    app = Starlette(
        routes=[
            Route("/graphql", GraphQLEndpoint(schema.graphql_schema, settings.api).handle, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/dcat/catalog.ttl", catalog_ttl, methods=["GET"]),
            Route("/dcat/catalog.jsonld", catalog_jsonld, methods=["GET"]),
            Route("/register.csv", register_csv, methods=["GET"]),
            Route("/register.json", register_json, methods=["GET"]),
            Route("/api/v1/lineage", lineage_endpoint, methods=["POST"]),
            # Before the pages: their /agreements/{id:path} would take the suffix as part of the id.
            Route("/agreements/{id:path}.odrl.jsonld", agreement_odrl, methods=["GET"]),
            *web_routes(settings),
        ],
        middleware=[
            Middleware(
                RequestEnvelope, store=services.store, max_authorization_bytes=settings.api.max_authorization_bytes
            ),
            *web_middleware(settings),
        ],
        exception_handlers={CatalogError: handle_catalog_error},  # the plain-HTTP routes' one error body
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.verifier = Authenticator(
        TokenVerifier(settings.auth), services.people, in_process=services.store.in_process
    )
    app.state.metrics = ApiMetrics()
    return app
