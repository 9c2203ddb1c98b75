"""What the standards tests share: the demo landscape under the shipped policy, on every backend (a test file may
start from an empty store instead by defining its own `services`)."""

from __future__ import annotations

import pytest

from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.services import Services
from catalog.store.base import GraphStore


@pytest.fixture
def services(store: GraphStore) -> Services:
    """The demo under the shipped policy (whose public-register rule lets anyone read every register entry)."""
    services = Services(store, load_settings())
    load_demo(services)
    return services
