"""Fixtures for the connectors: a real CKAN portal on loopback, services on each backend, sinks and runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.config import load_settings
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.query import TRUE
from catalog.store.schema import Label
from connectors import ConnectorContext, Report, ServiceSink, connector_class, run
from tests.connectors.portal import Portal, load_organizations, load_packages, serve
from tests.e2e.conftest import start_server, store_env  # noqa: F401  (the e2e harness, for CLI and remote runs)

Harvest = Callable[..., Report]


@pytest.fixture
def ckan_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "ckan"


@pytest.fixture
def portal(ckan_dir: Path) -> Iterator[Portal]:
    """The fixture portal, capping pages at two packages the way real portals cap `rows`."""
    packages = load_packages(ckan_dir)
    yield from serve(Portal(packages, load_organizations(ckan_dir, packages), max_rows=2))


@pytest.fixture
def services(store: GraphStore, tmp_path: Path) -> Services:
    return Services(store, load_settings(store=f"sqlite:///{tmp_path / 'unused.db'}"))


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait a connector asked for between retries (nothing actually waits)."""
    return []


@pytest.fixture
def ingest(services: Services, sleeps: list[float]) -> Harvest:
    """Run a connector in-process as SYSTEM with the given config; returns its report."""

    def go(name: str, **config: Any) -> Report:
        context = ConnectorContext(ServiceSink(services, SYSTEM), sleep=sleeps.append)
        return run(connector_class(name).create(config, context))

    return go


@pytest.fixture
def harvest(ingest: Harvest, portal: Portal) -> Harvest:
    """Harvest the fixture portal in-process; config keys override the defaults."""

    def go(**config: Any) -> Report:
        return ingest("ckan", **{"url": portal.url, "backoff_s": 0.5, **config})

    return go


def audit_events(store: GraphStore) -> int:
    page = store.read(lambda tx: tx.find_nodes(Label.AUDIT_EVENT, TRUE, first=1, with_total=True))
    return page.total or 0
