"""A small httpx client for a running catalog, sync and async. GraphQL errors come back as CatalogErrors.

with CatalogClient("http://127.0.0.1:8000", token=token) as client:
    data = client.execute("{ datasets(first: 5) { edges { node { id title } } } }")

A client keeps the newest bookmark the catalog answered (`X-Catalog-Bookmark`, after each write) and sends it
with every request, so it reads its own writes whichever replica serves it. Hand `client.bookmark` to another
client (`bookmark=`) to carry that guarantee over.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

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


class CatalogClient:
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        bookmark: str | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"), headers=_headers(token), timeout=timeout, transport=transport
        )
        self.bookmark = bookmark

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run one operation and return its `data`. Raises RemoteError for GraphQL errors, Unavailable for I/O."""
        try:
            response = self._http.post(
                "/graphql", json=_payload(query, variables, operation_name), headers=_bookmark_header(self.bookmark)
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the catalog at {self._http.base_url}: {exc}") from None
        self.bookmark = response.headers.get(BOOKMARK_HEADER, self.bookmark)
        return _result(response)

    def send_lineage_event(self, event: Any) -> dict[str, Any]:
        """POST one OpenLineage event to /api/v1/lineage and return what the catalog recorded (`process`,
        `datasets`, `placeholders`, `warnings`). Raises RemoteError when it is refused, Unavailable for I/O or 5xx."""
        try:
            response = self._http.post("/api/v1/lineage", json=event, headers=_bookmark_header(self.bookmark))
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the catalog at {self._http.base_url}: {exc}") from None
        self.bookmark = response.headers.get(BOOKMARK_HEADER, self.bookmark)
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


class AsyncCatalogClient:
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        bookmark: str | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=url.rstrip("/"), headers=_headers(token), timeout=timeout, transport=transport
        )
        self.bookmark = bookmark

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run one operation and return its `data`. Raises RemoteError for GraphQL errors, Unavailable for I/O."""
        try:
            response = await self._http.post(
                "/graphql", json=_payload(query, variables, operation_name), headers=_bookmark_header(self.bookmark)
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the catalog at {self._http.base_url}: {exc}") from None
        self.bookmark = response.headers.get(BOOKMARK_HEADER, self.bookmark)
        return _result(response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncCatalogClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
