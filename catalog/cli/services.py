"""The services a command works with: settings from the environment, the store they name, its schema ensured."""

from __future__ import annotations

from catalog.config import Settings, load_settings
from catalog.errors import CatalogError
from catalog.services import Services
from catalog.store import open_store


def open_services(settings: Settings | None = None) -> Services:
    """Settings from the environment, the store they name, its schema ensured, and the services over it."""
    settings = settings or load_settings()
    store = open_store(settings)
    try:
        store.init_schema()
        return Services(store, settings)
    except CatalogError:
        store.close()
        raise


__all__ = ["open_services"]
