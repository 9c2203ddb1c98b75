"""A small httpx client for a running catalog, sync and async. GraphQL errors come back as CatalogErrors.

with CatalogClient("http://127.0.0.1:8000", token=token) as client:
    data = client.execute("{ datasets(first: 5) { edges { node { id title } } } }")

A client keeps the newest bookmark the catalog answered (`X-Catalog-Bookmark`, after each write) and sends it
with every request, so it reads its own writes whichever replica serves it. Hand `client.bookmark` to another
client (`bookmark=`) to carry that guarantee over.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Generic, TypeVar

import httpx

from catalog.errors import CatalogError, Unavailable

GRAPHQL_RESPONSE = "application/graphql-response+json"
BOOKMARK_HEADER = "X-Catalog-Bookmark"


class RemoteError(CatalogError):
    """An error the server reported. `code` is its `extensions.code`; `errors` holds every error it sent."""

    def __init__(self, message: str, code: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.code = code
        self.errors = errors


def _headers(token: str | None) -> dict[str, str]:
    headers = {"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _payload(query: str, variables: dict[str, Any] | None, operation_name: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    if operation_name:
        body["operationName"] = operation_name
    return body


def _bookmark_header(bookmark: str | None) -> dict[str, str] | None:
    return {BOOKMARK_HEADER: bookmark} if bookmark else None


def _result(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise Unavailable(f"catalog at {response.url} answered {response.status_code} without JSON") from None
    errors = body.get("errors") or []
    if errors:
        first = errors[0]
        code = str(first.get("extensions", {}).get("code", "INTERNAL"))
        raise RemoteError(str(first.get("message", "unknown error")), code, errors)
    if response.status_code >= 400 or "data" not in body:
        raise Unavailable(f"catalog at {response.url} answered {response.status_code}")
    data: dict[str, Any] = body["data"]
    return data


HttpT = TypeVar("HttpT", bound=httpx.Client | httpx.AsyncClient)
TransportT = TypeVar("TransportT", bound=httpx.BaseTransport | httpx.AsyncBaseTransport)


class _Client(Generic[HttpT, TransportT]):
    """What the sync and async clients share: how they connect, what an unreachable catalog raises, and the
    bookmark they keep from each answer and send with each request."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: TransportT | None = None,
        bookmark: str | None = None,
    ) -> None:
        self._http = self._connect(
            base_url=url.rstrip("/"), headers=_headers(token), timeout=timeout, transport=transport
        )
        self.bookmark = bookmark

    def _connect(self, **options: Any) -> HttpT:
        raise NotImplementedError

    def _request(self, body: Any) -> dict[str, Any]:
        """What a post sends: `body` as JSON, with the bookmark kept so far."""
        return {"json": body, "headers": _bookmark_header(self.bookmark)}

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        try:
            yield
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the catalog at {self._http.base_url}: {exc}") from None

    def _answered(self, response: httpx.Response) -> httpx.Response:
        self.bookmark = response.headers.get(BOOKMARK_HEADER, self.bookmark)
        return response


class CatalogClient(_Client[httpx.Client, httpx.BaseTransport]):
    def _connect(self, **options: Any) -> httpx.Client:
        return httpx.Client(**options)

    def _post(self, path: str, body: Any) -> httpx.Response:
        with self._reaching():
            response = self._http.post(path, **self._request(body))
        return self._answered(response)

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run one operation and return its `data`. Raises RemoteError for GraphQL errors, Unavailable for I/O."""
        return _result(self._post("/graphql", _payload(query, variables, operation_name)))

    def send_lineage_event(self, event: Any) -> dict[str, Any]:
        """POST one OpenLineage event to /api/v1/lineage and return what the catalog recorded (`process`,
        `datasets`, `placeholders`, `warnings`). Raises RemoteError when it is refused, Unavailable for I/O or 5xx."""
        response = self._post("/api/v1/lineage", event)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 201 and isinstance(body, dict):
            return body
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or response.status_code >= 500:
            message = str(error.get("message")) if isinstance(error, dict) else response.text[:300]
            raise Unavailable(f"catalog at {response.url} answered {response.status_code}: {message}")
        raise RemoteError(str(error.get("message", "unknown error")), str(error.get("code", "INTERNAL")), [error])

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CatalogClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AsyncCatalogClient(_Client[httpx.AsyncClient, httpx.AsyncBaseTransport]):
    def _connect(self, **options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(**options)

    async def _post(self, path: str, body: Any) -> httpx.Response:
        with self._reaching():
            response = await self._http.post(path, **self._request(body))
        return self._answered(response)

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run one operation and return its `data`. Raises RemoteError for GraphQL errors, Unavailable for I/O."""
        return _result(await self._post("/graphql", _payload(query, variables, operation_name)))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncCatalogClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
