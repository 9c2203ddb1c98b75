"""Prometheus metrics: requests and latency by operation name, errors by code. One registry per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "catalog_graphql_requests",
            "GraphQL requests by operation name and HTTP status",
            ["operation", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "catalog_graphql_request_seconds",
            "GraphQL request latency by operation name",
            ["operation"],
            registry=self.registry,
        )
        self.errors = Counter(
            "catalog_graphql_errors", "GraphQL errors by extensions.code", ["code"], registry=self.registry
        )

    def observe(self, operation: str | None, status: int, seconds: float, codes: list[str]) -> None:
        name = operation or "anonymous"
        self.requests.labels(name, str(status)).inc()
        self.latency.labels(name).observe(seconds)
        for code in codes:
            self.errors.labels(code).inc()


async def metrics_endpoint(request: Request) -> Response:
    metrics: ApiMetrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
