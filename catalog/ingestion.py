"""What `catalog ingest` asks of a connector: the contract, and how installed connectors are found.

Connectors are plugins. Each one is an object named by an entry point in the `catalog.connectors` group (see
pyproject.toml), so the catalog finds them through the installed package metadata and never imports the
`connectors` package itself: the layering runs connectors -> catalog only. An entry point is loaded only when
its command is built, and the objects it names are light (they import a connector's own dependencies, such as
rdflib, only when it runs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from catalog.errors import ConfigError
from catalog.principal import Principal

if TYPE_CHECKING:
    from catalog.services import Services

ENTRY_POINT_GROUP = "catalog.connectors"

# Told after each item a connector has read: how many so far, and how many the source holds once it knows.
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class InProcess:
    """Write into the configured store through the services, as `principal`."""

    services: Services
    principal: Principal


@dataclass(frozen=True)
class Remote:
    """Write into the catalog running at `url`, through its API, with a bearer token."""

    url: str
    token: str


Destination = InProcess | Remote


class IngestReport(Protocol):
    """What a run reports: the CLI prints `lines()` and exits 1 when anything failed or the run was stopped."""

    @property
    def failures(self) -> Sequence[object]: ...

    @property
    def aborted(self) -> str | None: ...

    def lines(self) -> list[str]: ...


class IngestRun(Protocol):
    """A connector built from a valid config, holding what it writes through until `run` has finished."""

    def run(self, progress: Progress) -> IngestReport:
        """Write every record into the destination, then release what the run holds."""


class ConnectorPlugin(Protocol):
    """One connector as the command line sees it: `catalog ingest <name> SOURCE`."""

    @property
    def name(self) -> str: ...

    @property
    def summary(self) -> str:
        """One line for `catalog ingest --help`."""

    @property
    def source_field(self) -> str:
        """The config key the positional SOURCE argument fills."""

    @property
    def source_metavar(self) -> str: ...

    @property
    def source_help(self) -> str: ...

    @property
    def agency_help(self) -> str | None:
        """When set, the command takes `--agency`: the agency the system writes for in-process (it owns what the
        run creates without an owner of its own, such as placeholder datasets)."""

    def prepare(self, config: Mapping[str, Any], destination: Destination) -> IngestRun:
        """The connector built to write into `destination`: InvalidInput names a bad config key, before any run."""


def installed() -> dict[str, ConnectorPlugin]:
    """The connectors installed with the package, by name. ConfigError names an entry point that cannot load."""
    found: dict[str, ConnectorPlugin] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = point.load()
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"connector {point.name!r} ({point.value}) cannot be loaded: {exc}") from None
        found[point.name] = plugin
    return dict(sorted(found.items()))
