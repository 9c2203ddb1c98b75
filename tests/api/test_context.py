"""Where resolvers' store reads run: bounded lookups inline on the embedded store, everything else in a thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from catalog.api.context import RequestContext, call
from catalog.principal import SYSTEM
from catalog.services import Services


def _thread_of_lookup(context: RequestContext) -> int:
    async def go() -> int:
        return await context.lookup(threading.get_ident)

    return asyncio.run(go())


def test_lookups_on_the_embedded_store_run_on_the_event_loop_thread(services: Services) -> None:
    context = RequestContext(services, SYSTEM, "req-1")

    assert services.store.in_process
    assert _thread_of_lookup(context) == threading.get_ident()  # asyncio.run drives the loop on this thread


def test_lookups_on_a_network_store_leave_the_event_loop(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services.store, "in_process", False)  # a Neo4j store says this of itself
    context = RequestContext(services, SYSTEM, "req-1")

    assert _thread_of_lookup(context) != threading.get_ident()


def test_calls_always_leave_the_event_loop(services: Services) -> None:
    async def go() -> int:
        return await call(threading.get_ident)

    assert services.store.in_process
    assert asyncio.run(go()) != threading.get_ident()


def test_a_batch_loader_fetches_every_key_asked_in_one_tick_at_once(services: Services) -> None:
    fetched: list[list[str]] = []

    def fetch(ids: list[str]) -> dict[str, str]:
        fetched.append(ids)
        return {id: id.upper() for id in ids if id != "missing"}

    context = RequestContext(services, SYSTEM, "req-1")

    async def go() -> list[str | None]:
        loader = context.batch_loader("letters", fetch, default=None)
        return list(await asyncio.gather(loader.load("a"), loader.load("b"), loader.load("a"), loader.load("missing")))

    assert asyncio.run(go()) == ["A", "B", "A", None]
    assert fetched == [["a", "b", "missing"]]
    assert context.batch_loader("letters", fetch) is context.batch_loader("letters", fetch)
