"""OpenLineage events read into what the catalog records: one parser for POST /api/v1/lineage and the connector.

Validation is structural, with pydantic models of the parts of the spec (2-0-x) the catalog uses (extra properties
are allowed, as the spec allows them). An invalid event raises EventError naming the JSON path of the first
problem, e.g. `$.run.runId`. A valid one becomes an ObservedRun, which services.lineage.ingest writes in one
transaction, so nothing is ever partially written.

Mapping:
- A dataset's namespace and name map to the catalog id `ol:<agency>:<namespace>/<name>`, in the sending agency's
  own space of ids; characters an id may not hold are replaced and a short hash of the original appended, so the
  id stays deterministic and unique. A dataset the catalog does not hold there becomes a placeholder owned by the
  sending agency. Because the space is the agency's own, an event can never meet another agency's dataset by
  name, so what it answers never tells whether a dataset hidden from the sender exists.
- Namespace `catalog` names a registered dataset by its catalog id (`{"namespace": "catalog", "name":
  "health.admissions"}`): one the sender may see, or the event is refused naming that dataset's JSON path, in the
  same words whether it is missing or hidden.
- A job maps to the process `ol:<agency>:<namespace>/<name>`; the run id becomes the process's run id, so repeated
  events of one run are recorded once. A FAIL or ABORT run records its datasets but no lineage edges.
- The `schema` dataset facet gives fields (nested fields flattened as `parent.child`); the `columnLineage`
  facet of an output gives column-level lineage (DERIVED_FROM between fields).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.domain import ColumnLineage, DatasetField, Process, ProcessKind
from catalog.errors import InvalidInput
from catalog.services.lineage import ObservedDataset, ObservedRun

CATALOG_NAMESPACE = "catalog"
_UNSAFE = re.compile(r"[^A-Za-z0-9._:/@-]")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$")
_MAX_ID = 200
NO_OUTPUT_EVENTS = frozenset({"FAIL", "ABORT"})


class EventError(InvalidInput):
    """An event that does not follow the spec: `path` (the field) is the JSON path of the problem."""

    @property
    def path(self) -> str:
        return self.field


# --- the parts of the spec the catalog reads ----------------------------------------------------------------


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Facet(_Part):
    producer: str = Field(alias="_producer")
    schema_url: str = Field(alias="_schemaURL")


class SchemaField(_Part):
    name: str = Field(min_length=1)
    type: str | None = None
    description: str | None = None
    fields: list[SchemaField] = Field(default_factory=list)


class SchemaFacet(_Facet):
    fields: list[SchemaField] = Field(default_factory=list)


class InputField(_Part):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    field: str = Field(min_length=1)


class ColumnFields(_Part):
    input_fields: list[InputField] = Field(alias="inputFields")


class ColumnLineageFacet(_Facet):
    fields: dict[str, ColumnFields] = Field(default_factory=dict)


class DatasetFacets(_Part):
    schema_facet: SchemaFacet | None = Field(None, alias="schema")
    column_lineage: ColumnLineageFacet | None = Field(None, alias="columnLineage")


class OLDataset(_Part):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    facets: DatasetFacets = Field(default_factory=lambda: DatasetFacets.model_validate({}))


class Job(_Part):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    facets: dict[str, Any] = Field(default_factory=dict)


class Run(_Part):
    run_id: UUID = Field(alias="runId")
    facets: dict[str, Any] = Field(default_factory=dict)


class _Event(_Part):
    event_time: datetime = Field(alias="eventTime")
    producer: str
    schema_url: str = Field(alias="schemaURL")


class RunEvent(_Event):
    event_type: Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"] | None = Field(
        None, alias="eventType"
    )
    run: Run
    job: Job
    inputs: list[OLDataset] = Field(default_factory=list)
    outputs: list[OLDataset] = Field(default_factory=list)


class JobEvent(_Event):
    job: Job
    inputs: list[OLDataset] = Field(default_factory=list)
    outputs: list[OLDataset] = Field(default_factory=list)


class DatasetEvent(_Event):
    dataset: OLDataset


Event = RunEvent | JobEvent | DatasetEvent


def _json_path(loc: tuple[int | str, ...]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def validate_event(raw: Any) -> Event:
    """The event as a RunEvent (run and job), JobEvent (job, no run) or DatasetEvent (dataset, no job/run)."""
    if not isinstance(raw, dict):
        raise EventError("$", "must be a JSON object (one OpenLineage event)")
    model: type[Event]
    if "run" in raw and "job" in raw:
        model = RunEvent
    elif "job" in raw and "run" not in raw:
        model = JobEvent
    elif "dataset" in raw:
        model = DatasetEvent
    else:
        raise EventError("$", "must be a RunEvent (run and job), a JobEvent (job) or a DatasetEvent (dataset)")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = "is required" if first["type"] == "missing" else first["msg"]
        raise EventError(_json_path(tuple(first["loc"])), message) from None


# --- mapping to the catalog --------------------------------------------------------------------------------


def catalog_id(namespace: str, name: str, *, path: str, scope: str | None) -> str:
    """The deterministic catalog id for an OpenLineage dataset or job, in the `scope` agency's space of ids."""
    if namespace == CATALOG_NAMESPACE:
        if not _ID.match(name) or len(name) > _MAX_ID:
            raise EventError(path, f"{name!r} is not a catalog dataset id")
        return name
    raw = f"{namespace}/{name}"
    prefix = f"ol:{scope}:" if scope else "ol:"
    safe = prefix + _UNSAFE.sub("-", raw)
    if safe == prefix + raw and len(safe) <= _MAX_ID:
        return safe
    # Replacing characters could make two names meet, and cutting could too: a hash of the original keeps apart.
    return f"{safe[: _MAX_ID - 12]}.{hashlib.sha256(raw.encode()).hexdigest()[:11]}"


def _flatten(fields: list[SchemaField], prefix: str = "") -> list[DatasetField]:
    out = []
    for column in fields:
        name = f"{prefix}{column.name}"
        out.append(
            DatasetField(
                name=name[:300], type=(column.type or "unknown")[:100], description=(column.description or "")[:20_000]
            )
        )
        out += _flatten(column.fields, f"{name}.")
    return out


def _observed(
    datasets: list[tuple[str, OLDataset]], referenced: dict[str, set[str]], scope: str | None
) -> tuple[ObservedDataset, ...]:
    """Each dataset once, with its schema fields plus any column the column lineage names."""
    found: dict[str, ObservedDataset] = {}
    for path, dataset in datasets:
        id = catalog_id(dataset.namespace, dataset.name, path=f"{path}.name", scope=scope)
        schema = dataset.facets.schema_facet
        fields = {f.name: f for f in (found[id].fields if id in found else ())}
        for column in _flatten(schema.fields if schema else []):
            fields.setdefault(column.name, column)
        for name in sorted(referenced.get(id, ())):
            fields.setdefault(name, DatasetField(name=name[:300], type="unknown"))
        first = found[id].path if id in found else path
        found[id] = ObservedDataset(
            id,
            dataset.name[:500],
            f"openlineage:{dataset.namespace}/{dataset.name}",
            tuple(fields.values()),
            registered=dataset.namespace == CATALOG_NAMESPACE,
            path=first,
        )
    return tuple(found.values())


def _column_lineage(outputs: list[tuple[str, OLDataset]], scope: str | None) -> list[ColumnLineage]:
    columns = []
    for path, dataset in outputs:
        facet = dataset.facets.column_lineage
        if facet is None:
            continue
        out_id = catalog_id(dataset.namespace, dataset.name, path=f"{path}.name", scope=scope)
        for name, derived in sorted(facet.fields.items()):
            where = f"{path}.facets.columnLineage.fields.{name}"
            sources = sorted(
                {f"{catalog_id(i.namespace, i.name, path=where, scope=scope)}#{i.field}" for i in derived.input_fields}
            )
            if sources:
                columns.append(ColumnLineage(output=f"{out_id}#{name}", inputs=sources))
    return columns


def to_observed_run(event: Event, scope: str | None) -> ObservedRun:
    """What the catalog records for one valid event, sent by (or on behalf of) the `scope` agency."""
    if isinstance(event, DatasetEvent):
        return ObservedRun(_observed([("$.dataset", event.dataset)], {}, scope))
    inputs = [(f"$.inputs[{i}]", d) for i, d in enumerate(event.inputs)]
    outputs = [(f"$.outputs[{i}]", d) for i, d in enumerate(event.outputs)]
    columns = _column_lineage(outputs, scope)
    referenced: dict[str, set[str]] = {}
    for column in columns:
        for name in (column.output, *column.inputs):
            dataset_id, _, field_name = name.partition("#")
            referenced.setdefault(dataset_id, set()).add(field_name)
    datasets = _observed([*inputs, *outputs], referenced, scope)
    run_id = str(event.run.run_id) if isinstance(event, RunEvent) else None
    produced = not (isinstance(event, RunEvent) and event.event_type in NO_OUTPUT_EVENTS)
    ids = {path: catalog_id(d.namespace, d.name, path=f"{path}.name", scope=scope) for path, d in [*inputs, *outputs]}
    process = Process(
        id=catalog_id(event.job.namespace, event.job.name, path="$.job.name", scope=scope),
        name=event.job.name[:500],
        kind=ProcessKind.TRANSFORM,
        run_id=run_id,
        inputs=sorted({ids[p] for p, _ in inputs}) if produced else [],
        outputs=sorted({ids[p] for p, _ in outputs}) if produced else [],
        column_lineage=columns if produced else [],
        recorded_at=event.event_time,
    )
    return ObservedRun(datasets, process)


def parse_event(raw: Any, scope: str | None) -> ObservedRun:
    """Validate one decoded event and map it into the `scope` agency's ids. Raises EventError naming the JSON
    path of the problem."""
    event = validate_event(raw)
    try:
        return to_observed_run(event, scope)
    except ValidationError as exc:  # a value valid in the spec but beyond what the catalog can hold
        first = exc.errors()[0]
        raise EventError("$", f"cannot be recorded: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
