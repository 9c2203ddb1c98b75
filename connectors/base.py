"""One connector shape, after DataHub's ingestion sources.

A connector has a pydantic config, is built with `create(config, ctx)`, yields records (work units) from
`records()`, keeps a `Report` of what happened to each item, and releases what it holds in `close()`.
`run()` writes every record through the context's sink. A record that fails is reported and the run goes on.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from catalog.domain import invalid_from
from catalog.errors import CatalogError, Unavailable
from connectors.sinks import Sink


class ConnectorConfig(BaseModel):
    """Base of every connector's config: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


C = TypeVar("C", bound=ConnectorConfig)


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # An event, written as it came: nothing is compared first, and the catalog's own merge makes a repeat of one
    # add nothing (OpenLineage runs are recorded once by their run id).
    RECORDED = "recorded"


COMPARED = (Change.CREATED, Change.UPDATED, Change.UNCHANGED)


@dataclass(frozen=True)
class WriteResult:
    """What writing one record did, and anything worth telling the operator about it."""

    change: Change
    warnings: tuple[str, ...] = ()


class Record(ABC):
    """One unit of work a connector found: an agency, a dataset, a lineage run. It knows how to write itself."""

    kind: ClassVar[str] = "record"

    @property
    @abstractmethod
    def key(self) -> str:
        """How the report names this record, e.g. `dataset eidc.rainfall`."""

    @abstractmethod
    def apply(self, sink: Sink) -> WriteResult:
        """Write the record through `sink`, changing nothing when the catalog already holds it as it is."""


@dataclass(frozen=True)
class Problem:
    item: str
    message: str


@dataclass
class Report:
    """Counts successes per kind and change; lists warnings and failures per item.

    A connector that replays events names their kind as its `tally`: the report then leads with how many were
    recorded and how many failed, since an event has no before and after to count.
    """

    connector: str
    target: str = ""
    tally: str | None = None
    counts: Counter[tuple[str, Change]] = field(default_factory=Counter)
    warnings: list[Problem] = field(default_factory=list)
    failures: list[Problem] = field(default_factory=list)
    aborted: str | None = None

    def succeeded(self, kind: str, change: Change) -> None:
        self.counts[(kind, change)] += 1

    def warn(self, item: str, message: str) -> None:
        self.warnings.append(Problem(item, message))

    def fail(self, item: str, message: str) -> None:
        self.failures.append(Problem(item, message))

    def count(self, kind: str, change: Change | None = None) -> int:
        return sum(n for (k, c), n in self.counts.items() if k == kind and (change is None or c == change))

    @property
    def changed(self) -> int:
        """How many records were created or updated: 0 on a re-run that found nothing new."""
        return sum(n for (_, c), n in self.counts.items() if c in (Change.CREATED, Change.UPDATED))

    def lines(self) -> list[str]:
        """The report as an operator reads it at the end of a run."""
        out = [f"{self.connector} into {self.target}:" if self.target else f"{self.connector}:"]
        if self.tally is not None:
            out.append(f"  {self.count(self.tally)} {self.tally} recorded, {len(self.failures)} failed")
        for kind in sorted({k for k, _ in self.counts} - {self.tally}):
            parts = ", ".join(f"{self.count(kind, c)} {c.value}" for c in COMPARED)
            out.append(f"  {kind}: {parts}")
        if not self.counts and self.tally is None:
            out.append("  nothing written")
        for title, problems in (("warnings", self.warnings), ("failures", self.failures)):
            if problems:
                out.append(f"  {title} ({len(problems)}):")
                # One line each, whatever the source's parser wrote: line breaks and runs of spaces become one.
                out += [f"    {p.item}: {' '.join(p.message.split())}" for p in problems]
        if self.aborted:
            out.append(f"  aborted: {' '.join(self.aborted.split())}")
        return out


@dataclass
class ConnectorContext:
    """What a connector is given: where to write, and the seams tests may swap (the sleep between retries)."""

    sink: Sink
    sleep: Callable[[float], None] = time.sleep


class Connector(ABC, Generic[C]):
    """The shape every connector has. Subclasses set `name`, `config_class` and implement `records`."""

    name: ClassVar[str]
    config_class: ClassVar[type[ConnectorConfig]]
    tally: ClassVar[str | None] = None  # the kind of record a replay of events counts (see Report)

    def __init__(self, config: C, ctx: ConnectorContext) -> None:
        self.config = config
        self.ctx = ctx
        self.report = Report(self.name, ctx.sink.target, tally=self.tally)
        # Items read from the source so far, and how many it holds once the connector knows (a progress bar).
        self.progressed = 0
        self.expected: int | None = None

    @classmethod
    def create(cls, config: Mapping[str, Any] | ConnectorConfig, ctx: ConnectorContext) -> Connector[Any]:
        """Validate `config` (InvalidInput names the bad key) and build the connector."""
        if isinstance(config, ConnectorConfig):
            parsed = config
        else:
            try:
                parsed = cls.config_class.model_validate(dict(config))
            except ValidationError as exc:
                raise invalid_from(exc) from None
        return cls(parsed, ctx)  # type: ignore[arg-type]

    @abstractmethod
    def records(self) -> Iterator[Record]:
        """Yield records one by one. Problems fetching or mapping an item go in `self.report`, not up the stack."""

    def close(self) -> None:
        """Release connections. The default holds none."""


Progress = Callable[[Connector[Any], Record | None], None]


def run(connector: Connector[Any], progress: Progress | None = None) -> Report:
    """Write every record the connector yields through its sink, one failure at a time, then close it.

    A record that fails is reported and the run goes on. A sink that cannot be reached at all stops the run:
    every later record would fail the same way.
    """
    report, sink = connector.report, connector.ctx.sink
    try:
        for record in connector.records():
            try:
                outcome = record.apply(sink)
            except Unavailable as exc:
                report.fail(record.key, exc.message)
                report.aborted = f"the catalog cannot be written to: {exc.message}"
                break
            except CatalogError as exc:
                report.fail(record.key, exc.message)
            else:
                report.succeeded(record.kind, outcome.change)
                for warning in outcome.warnings:
                    report.warn(record.key, warning)
            if progress:
                progress(connector, record)
    finally:
        connector.close()
    return report
