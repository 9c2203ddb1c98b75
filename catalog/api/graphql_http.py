"""GraphQL over HTTP (the GraphQL-over-HTTP spec): POST JSON, GET for queries, content negotiation, limits."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from catalog.api import json_body
from catalog.api.context import RequestContext
from catalog.api.documents import DocumentPreparer
from catalog.api.errors import camel, client_message, error, format_error, status_for
from catalog.api.graphiql import console_page, graphiql_page
from catalog.api.security import graphiql_policy
from catalog.config import ApiSettings
from catalog.errors import BadRequest, CatalogError, InvalidInput, LimitExceeded
from catalog.principal import Principal
from catalog.services.idempotency import HEADER, idempotent, request_digest
from catalog.store.base import current_causality
from catalog.store.deadline import deadline

GRAPHQL_RESPONSE = "application/graphql-response+json"
TIMEOUT_SETTING = "CATALOG_API__REQUEST_TIMEOUT_S"
JSON = "application/json"


@dataclass
class GraphQLParams:
    query: str
    variables: dict[str, Any]
    operation_name: str | None


def response_media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and GRAPHQL_RESPONSE not in accept


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"request body over {limit} bytes (CATALOG_API__MAX_BODY_BYTES)", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(f"request body over {limit} bytes (CATALOG_API__MAX_BODY_BYTES)", 413)
    return bytes(body)


def _params(raw: dict[str, Any], *, from_query_string: bool) -> GraphQLParams:
    query = raw.get("query")
    if not isinstance(query, str) or not query.strip():
        raise BadRequest("query: a GraphQL document string is required")
    variables = raw.get("variables")
    if from_query_string and isinstance(variables, str):
        variables = json_body.loads(variables, where="variables", root="variables")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("variables: must be a JSON object")
    operation_name = raw.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest("operationName: must be a string")
    return GraphQLParams(query, variables or {}, operation_name)


async def request_params(request: Request, settings: ApiSettings) -> GraphQLParams:
    if request.method == "GET":
        return _params(dict(request.query_params), from_query_string=True)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise BadRequest("Content-Type: expected application/json", 415)
    body = await read_body(request, settings.max_body_bytes)
    raw = json_body.loads(body)
    if not isinstance(raw, dict):
        raise BadRequest("body: expected a JSON object with a 'query'")
    return _params(raw, from_query_string=False)


class GraphQLEndpoint:
    """The /graphql handler. It only speaks HTTP; resolvers call the services."""

    def __init__(self, schema: GraphQLSchema, settings: ApiSettings) -> None:
        self.schema = schema
        self.settings = settings
        rules = list(specified_rules)
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.documents = DocumentPreparer(schema, settings, rules)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id: str = request.state.request_id
        media_type = response_media_type(request)
        if request.method == "GET" and wants_html(request):
            if not self.settings.graphiql:
                return JSONResponse(error("GraphiQL is turned off (CATALOG_API__GRAPHIQL)", "NOT_FOUND"), 404)
            if not self.settings.graphiql_cdn:
                return HTMLResponse(console_page())  # the pages' own strict policy: nothing from elsewhere
            assets = self.settings.graphiql_assets_url
            return HTMLResponse(graphiql_page(assets), headers={"Content-Security-Policy": graphiql_policy(assets)})
        operation_name = None
        try:
            params = await request_params(request, self.settings)
            operation_name = params.operation_name
            status, body = await self._run(request, params, media_type, request_id)
        except BadRequest as exc:
            status, body = status_for(exc), {"errors": [error(exc.message, exc.code, requestId=request_id)]}
            response = JSONResponse(body, status, headers=exc.headers, media_type=media_type)
            self._observe(request, operation_name, status, started, body)
            return response
        self._observe(request, operation_name, status, started, body)
        return JSONResponse(body, status, media_type=media_type)

    def _observe(
        self, request: Request, operation: str | None, status: int, started: float, body: dict[str, Any]
    ) -> None:
        codes = [e.get("extensions", {}).get("code", "INTERNAL") for e in body.get("errors", [])]
        request.app.state.metrics.observe(operation, status, time.perf_counter() - started, codes)

    async def _run(
        self, request: Request, params: GraphQLParams, media_type: str, request_id: str
    ) -> tuple[int, dict[str, Any]]:
        try:
            principal = await request.app.state.verifier.principal_async(request.headers.get("authorization"))
        except CatalogError as exc:
            # 401 only when the token is at fault (a store that cannot say who the person is answers 503); 400 for
            # the request's bookmark, which the store could not read.
            extra = {"field": camel(exc.field)} if isinstance(exc, InvalidInput) else {}
            body = error(client_message(exc, request_id), exc.code, **extra, requestId=request_id)
            return status_for(exc), {"errors": [body]}
        # The stores honour the same deadline (catalog/store/deadline.py): no transaction starts after it.
        with deadline(self.settings.request_timeout_s, TIMEOUT_SETTING):
            try:
                # Preparing a document counts against the time limit too; no extra task, unlike wait_for.
                async with asyncio.timeout(self.settings.request_timeout_s) as limit:
                    return await self._prepare_and_execute(request, params, media_type, request_id, principal, limit)
            except TimeoutError:
                message = f"request took over {self.settings.request_timeout_s} s ({TIMEOUT_SETTING})"
                return 504, {"errors": [error(message, "UNAVAILABLE", requestId=request_id)]}

    async def _prepare_and_execute(
        self,
        request: Request,
        params: GraphQLParams,
        media_type: str,
        request_id: str,
        principal: Principal,
        limit: asyncio.Timeout,
    ) -> tuple[int, dict[str, Any]]:
        # Requests the server cannot even start on: 400 with the spec's media type, 200 for legacy JSON.
        not_executed = 400 if media_type == GRAPHQL_RESPONSE else 200
        try:
            if self.documents.ready(params.query):
                document, errors = self.documents.prepare(params.query, params.variables)
            else:  # parsing and validating a new document is CPU work: keep it off the event loop
                document, errors = await run_in_threadpool(self.documents.prepare, params.query, params.variables)
        except LimitExceeded as exc:
            return not_executed, {"errors": [error(exc.message, exc.code, requestId=request_id)]}
        if document is None or errors:
            return not_executed, {"errors": [format_error(e, request_id) for e in errors]}
        operation = get_operation_ast(document, params.operation_name)
        if operation is None:
            raise BadRequest("operationName: does not name exactly one operation in the document")
        if request.method == "GET" and operation.operation != OperationType.QUERY:
            raise BadRequest("GET can only run queries; send mutations with POST", 405, {"Allow": "POST"})
        if operation.operation == OperationType.MUTATION:
            # Never answer before the outcome is known: cancelling here would leave the write running in its
            # thread. The stores start nothing after the deadline and bound what has started by it, so the
            # answer comes soon after the limit, saying what happened.
            limit.reschedule(None)
        services = request.app.state.services
        context = RequestContext(services=services, principal=principal, request_id=request_id)
        key = request.headers.get(HEADER) if operation.operation == OperationType.MUTATION else None
        if key is None:
            result = await self._execute(document, params, context)
        else:
            try:
                digest = request_digest(params.query, params.variables, params.operation_name)
                with idempotent(principal.id, key, digest, self.settings.idempotency_ttl_s):
                    result = await self._execute(document, params, context)
            except InvalidInput as exc:  # the key itself is malformed: nothing ran
                return not_executed, {"errors": [error(exc.message, exc.code, field=exc.field, requestId=request_id)]}
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [format_error(e, request_id) for e in result.errors]
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            return not_executed, body  # variables could not be coerced: nothing ran
        body["data"] = result.data
        causality = current_causality()
        if causality is not None and causality.latest:
            body["extensions"] = {"bookmark": causality.latest}  # also in the X-Catalog-Bookmark header
        return 200, body

    async def _execute(self, document: Any, params: GraphQLParams, context: RequestContext) -> ExecutionResult:
        outcome = execute(
            self.schema,
            document,
            variable_values=params.variables,
            operation_name=params.operation_name,
            context_value=context,
        )
        if asyncio.iscoroutine(outcome) or isinstance(outcome, asyncio.Future):
            return await outcome
        assert isinstance(outcome, ExecutionResult)
        return outcome
