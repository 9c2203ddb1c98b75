"""Replay OpenLineage events from a JSON Lines file: one event a line, each one record and one transaction.

RunEvents, JobEvents and DatasetEvents are understood. What an event means to the catalog is read by the same
parser as POST /api/v1/lineage (catalog/services/openlineage.py), through the sink: in-process the event is
recorded by the services, into a running catalog it is POSTed to that endpoint, as an OpenLineage client would.
A line that is not JSON, or an event that is not valid, is reported with its line number (and the JSON path of
the problem) and the replay goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from connectors.base import Change, Connector, ConnectorConfig, Record, WriteResult
from connectors.sinks import Sink


class OpenLineageConfig(ConnectorConfig):
    file: Path = Field(description="A JSON Lines file: one OpenLineage event per line.")


@dataclass(frozen=True)
class LineageEvent(Record):
    """One decoded event and the line it came from."""

    line: int
    event: Any
    kind: ClassVar[str] = "events"

    @property
    def key(self) -> str:
        return f"line {self.line}"

    def apply(self, sink: Sink) -> WriteResult:
        return WriteResult(Change.RECORDED, tuple(sink.record_lineage_event(self.event)))


class OpenLineageConnector(Connector[OpenLineageConfig]):
    name: ClassVar[str] = "openlineage"
    config_class: ClassVar[type[ConnectorConfig]] = OpenLineageConfig
    tally: ClassVar[str | None] = LineageEvent.kind

    def records(self) -> Iterator[Record]:
        path = self.config.file.expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            self.report.fail(str(path), f"cannot be read: {getattr(exc, 'strerror', None) or exc}")
            return
        numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
        self.expected = len(numbered)
        for number, line in numbered:
            self.progressed += 1
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                self.report.fail(f"line {number}", f"not JSON ({exc.msg})")
                continue
            yield LineageEvent(number, event)
