"""catalog.client: the same GraphQL calls sync and async, with server errors raised as CatalogErrors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from catalog.api.app import create_app
from catalog.client import AsyncCatalogClient, CatalogClient, RemoteError
from catalog.errors import Unavailable
from catalog.services import Services


def test_async_client_reads_and_raises_remote_errors(services: Services, token: Callable[[str], str]) -> None:
    app = create_app(services)

    async def scenario() -> tuple[dict[str, object], RemoteError]:
        transport = httpx.ASGITransport(app=app)
        async with AsyncCatalogClient("http://catalog.test", token=token("auditor"), transport=transport) as client:
            data = await client.execute("query Q($id: ID!) { dataset(id: $id) { title } }", {"id": "admissions"})
            with pytest.raises(RemoteError) as err:
                await client.execute('{ dataset(id: "nope") { id } }')
            return data, err.value

    data, error = asyncio.run(scenario())

    assert data == {"dataset": {"title": "Hospital admissions"}}
    assert (error.code, error.message) == ("NOT_FOUND", "Dataset 'nope' not found")


def test_sync_client_reports_an_unreachable_server_as_unavailable() -> None:
    with CatalogClient("http://127.0.0.1:9", timeout=2) as client, pytest.raises(Unavailable, match="cannot reach"):
        client.execute("{ me { id } }")
