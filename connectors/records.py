"""The records harvesting connectors yield: agencies and datasets, each written only when something changed.

Idempotence lives here. A record reads what the catalog holds, compares the fields its source owns, and writes
only the difference, so a re-run with nothing new upstream writes nothing, not even an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from catalog.domain import Agency, Dataset
from catalog.errors import Conflict
from connectors.base import Change, Record, WriteResult
from connectors.sinks import Sink

# The dataset fields a harvest owns. Everything else (classification aside, see below), such as purposes, legal
# basis, stewards and fields, is the data owner's to curate, and a harvest leaves it alone.
HARVESTED = (
    "title",
    "description",
    "tags",
    "source_url",
    "harvest_source",
    "source_modified",
    "licence",
    "distributions",
    "extras",
)
TIGHTEN_REASON = "the source no longer publishes this dataset openly"


@dataclass(frozen=True)
class AgencyRecord(Record):
    agency: Agency
    kind: ClassVar[str] = "agencies"

    @property
    def key(self) -> str:
        return f"agency {self.agency.id}"

    def apply(self, sink: Sink) -> WriteResult:
        current = sink.agency(self.agency.id)
        if current is None:
            sink.register_agency(self.agency.model_dump(mode="json", exclude_none=True))
            return WriteResult(Change.CREATED)
        if current.name != self.agency.name:
            # There is no way to rename an agency yet; say so rather than pretend it was updated.
            return WriteResult(Change.UNCHANGED, (f"the source names it {self.agency.name!r}; kept {current.name!r}",))
        return WriteResult(Change.UNCHANGED)


def _comparable(value: Any) -> Any:
    """A field value in a form where equal metadata compares equal, whichever sink it was read from."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    return value


def harvested_fields(dataset: Dataset) -> dict[str, Any]:
    """The fields a harvest owns, comparable across sinks."""
    return {name: _comparable(value) for name, value in dataset.model_dump(include=set(HARVESTED)).items()}


@dataclass(frozen=True)
class DatasetRecord(Record):
    """A dataset as its source describes it. `open_classification` is what the connector gives open records."""

    dataset: Dataset
    open_classification: str = "PUBLIC"
    kind: ClassVar[str] = "datasets"

    @property
    def key(self) -> str:
        return f"dataset {self.dataset.id}"

    def apply(self, sink: Sink) -> WriteResult:
        desired = self.dataset
        current = sink.dataset(desired.id)
        if current is None:
            payload = desired.model_dump(
                exclude={"created_at", "updated_at", "version", "placeholder"}, exclude_none=True
            )
            sink.register_dataset(payload)
            return WriteResult(Change.CREATED)
        if current.harvest_source != desired.harvest_source:
            raise Conflict(
                f"dataset {desired.id!r} already exists and was not harvested from {desired.harvest_source}; "
                "left as it is"
            )
        wanted, held = harvested_fields(desired), harvested_fields(current)
        changes = desired.model_dump(include={name for name in HARVESTED if wanted[name] != held[name]})
        reason = None
        # Only ever tighten: a dataset the source has closed must stop being public here, but a data owner's
        # decision to restrict a dataset is never undone by a harvest.
        if current.classification == self.open_classification != desired.classification:
            changes["classification"] = desired.classification
            reason = TIGHTEN_REASON
        warnings = _ownership_warnings(current, desired)
        if not changes:
            return WriteResult(Change.UNCHANGED, warnings)
        sink.update_dataset(desired.id, changes, reason)
        return WriteResult(Change.UPDATED, warnings)


def _ownership_warnings(current: Dataset, desired: Dataset) -> tuple[str, ...]:
    if current.owner_agency_id == desired.owner_agency_id:
        return ()
    return (
        f"the source now says {desired.owner_agency_id!r} publishes it; the owner stays "
        f"{current.owner_agency_id!r} (a harvest cannot move ownership)",
    )
