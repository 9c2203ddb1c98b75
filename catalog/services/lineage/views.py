"""What lineage reads and writes hand back: the graph around a dataset as a viewer may see it, what an impact
walk reached, and a run observed by a lineage producer (OpenLineage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from catalog.domain import (
    Dataset,
    DatasetField,
    Process,
)


@dataclass
class LineageNode:
    id: str
    kind: Literal["DATASET", "PROCESS", "FIELD"]
    depth: int
    redacted: bool = False
    dataset: Dataset | None = None
    process: Process | None = None
    field: DatasetField | None = None
    dataset_id: str | None = None  # for a FIELD: the (possibly redacted) dataset it belongs to


@dataclass
class LineageView:
    root: str
    nodes: list[LineageNode] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class ImpactedDataset:
    id: str
    depth: int
    redacted: bool = False


@dataclass
class ImpactedAgreement:
    id: str
    redacted: bool
    status: str | None
    recipient_agency_id: str | None
    dataset_ids: list[str]


@dataclass
class ImpactView:
    """Everything derived from a dataset, the agreements covering any of it, and who received it."""

    root: str
    depth: int
    datasets: list[ImpactedDataset]
    agreements: list[ImpactedAgreement]
    recipient_agency_ids: list[str]


@dataclass(frozen=True)
class ObservedDataset:
    """A dataset an external lineage source (OpenLineage) reported, under the catalog id it maps to."""

    id: str
    title: str
    source: str  # how the source named it, e.g. `namespace/name`
    fields: tuple[DatasetField, ...] = ()
    registered: bool = False  # named by its catalog id: it must be a dataset the sender may see
    path: str = ""  # where the event first names it (a JSON path), for an error


@dataclass(frozen=True)
class ObservedRun:
    """One external lineage event: the datasets it mentions and, for run and job events, the process."""

    datasets: tuple[ObservedDataset, ...]
    process: Process | None = None


@dataclass
class IngestResult:
    placeholders: list[str] = field(default_factory=list)
    process_id: str | None = None
    warnings: list[str] = field(default_factory=list)

