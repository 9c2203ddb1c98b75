"""The connector registry: how `catalog ingest <connector> ...` finds each connector.

Entries name their class as `module:Class` and are imported only when used, so listing connectors (or starting
the CLI) does not load rdflib or any other connector's dependencies. Adding a connector is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from catalog.errors import InvalidInput
from connectors.base import Connector


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    target: str  # "module:Class"
    summary: str  # one line for `catalog ingest --help`
    source_field: str  # the config key the CLI's positional SOURCE argument fills
    source_help: str


REGISTRY: dict[str, ConnectorSpec] = {
    spec.name: spec
    for spec in (
        ConnectorSpec(
            "ckan",
            "connectors.ckan:CkanConnector",
            "Harvest a CKAN portal. Its organisations and datasets, through the portal's Action API.",
            "url",
            "The portal's address, e.g. https://ckan.publishing.service.gov.uk",
        ),
        ConnectorSpec(
            "dcat",
            "connectors.dcat:DcatConnector",
            "Import a DCAT or DCAT-AP catalogue. Turtle, RDF/XML or JSON-LD, from a file or URL.",
            "source",
            "A file path or an http(s) URL of the catalogue.",
        ),
    )
}


def register(spec: ConnectorSpec) -> None:
    """Add a connector (or replace one of the same name)."""
    REGISTRY[spec.name] = spec


def names() -> list[str]:
    return sorted(REGISTRY)


def spec(name: str) -> ConnectorSpec:
    found = REGISTRY.get(name)
    if found is None:
        raise InvalidInput("connector", f"must be one of {', '.join(names())}; got {name!r}")
    return found


def connector_class(name: str) -> type[Connector[Any]]:
    """The connector class registered under `name`. InvalidInput names the known ones when it is unknown."""
    module, _, attribute = spec(name).target.partition(":")
    cls: type[Connector[Any]] = getattr(import_module(module), attribute)
    return cls
