"""The connector registry: each connector's spec, which `catalog ingest <connector> ...` finds as an entry point.

Entries name their class as `module:Class` and are imported only when used, so listing connectors (or starting
the CLI) does not load rdflib or any other connector's dependencies. Adding a connector is one entry here and one
line under `[project.entry-points."catalog.connectors"]` in pyproject.toml (a test holds the two to each other).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from catalog.client import CatalogClient
from catalog.errors import InvalidInput
from catalog.ingestion import Destination, InProcess, Progress
from connectors.base import Connector, ConnectorContext, Report, run
from connectors.sinks import GraphQLSink, ServiceSink, Sink


@dataclass(frozen=True)
class ConnectorSpec:
    """A connector as `catalog ingest` sees it (catalog.ingestion.ConnectorPlugin)."""

    name: str
    target: str  # "module:Class"
    summary: str  # one line for `catalog ingest --help`
    source_field: str  # the config key the CLI's positional SOURCE argument fills
    source_help: str
    source_metavar: str = "SOURCE"
    agency_help: str | None = None  # set when the command takes --agency (in-process runs as the system)

    def prepare(self, config: Mapping[str, Any], destination: Destination) -> PreparedRun:
        """The connector built from `config` to write into `destination` (InvalidInput names a bad key)."""
        cls = connector_class(self.name)
        sink = open_sink(destination)
        try:
            return PreparedRun(cls.create(config, ConnectorContext(sink)))
        except BaseException:
            sink.close()
            raise


@dataclass(frozen=True)
class PreparedRun:
    """A connector ready to run (catalog.ingestion.IngestRun)."""

    connector: Connector[Any]

    def run(self, progress: Progress) -> Report:
        """Write every record through the connector's sink, then close the connector and the sink."""
        try:
            return run(self.connector, lambda c, _: progress(c.progressed, c.expected))
        finally:
            self.connector.ctx.sink.close()


def open_sink(destination: Destination) -> Sink:
    """The sink that writes into `destination`: the services in-process, or a running catalog's API."""
    if isinstance(destination, InProcess):
        return ServiceSink(destination.services, destination.principal)
    return GraphQLSink(CatalogClient(destination.url, token=destination.token), destination.url)


CKAN = ConnectorSpec(
    "ckan",
    "connectors.ckan:CkanConnector",
    "Harvest a CKAN portal. Its organisations and datasets, through the portal's Action API.",
    "url",
    "The portal's address, e.g. https://ckan.publishing.service.gov.uk",
)
DCAT = ConnectorSpec(
    "dcat",
    "connectors.dcat:DcatConnector",
    "Import a DCAT or DCAT-AP catalogue. Turtle, RDF/XML or JSON-LD, from a file or URL.",
    "source",
    "A file path or an http(s) URL of the catalogue.",
)
OPENLINEAGE = ConnectorSpec(
    "openlineage",
    "connectors.openlineage:OpenLineageConnector",
    "Replay OpenLineage events from a JSON Lines file. RunEvent, DatasetEvent and JobEvent are understood.",
    "file",
    "A JSON Lines file: one OpenLineage event per line.",
    source_metavar="FILE",
    agency_help="In-process as the system: the agency that owns placeholder datasets.",
)
REGISTRY: dict[str, ConnectorSpec] = {spec.name: spec for spec in (CKAN, DCAT, OPENLINEAGE)}


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
