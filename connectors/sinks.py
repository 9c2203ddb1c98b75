"""Where connectors write: the configured store in-process (through the services), or a running catalog's API.

Both sinks speak the same small interface, so a connector never knows which one it has. Every write goes
through the catalog's own use cases, so policy, validation and the audit trail apply exactly as for a person.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime
from enum import Enum
from typing import Any

from catalog.client import CatalogClient, RemoteError
from catalog.domain import Agency, Dataset
from catalog.errors import NotFound
from catalog.principal import Principal
from catalog.services import DatasetFilter, Services
from catalog.services.openlineage import parse_event


class Sink(ABC):
    """The writes and look-ups a connector needs, against one catalog."""

    target: str = "a catalog"

    @abstractmethod
    def agency(self, id: str) -> Agency | None:
        """The agency, or None when there is none with that id."""

    @abstractmethod
    def register_agency(self, payload: dict[str, Any]) -> None:
        """Register an agency (the payload holds Agency fields)."""

    @abstractmethod
    def dataset(self, id: str) -> Dataset | None:
        """The dataset as this sink's principal sees it, or None."""

    @abstractmethod
    def register_dataset(self, payload: dict[str, Any]) -> None:
        """Register a dataset (the payload holds Dataset fields)."""

    @abstractmethod
    def update_dataset(self, id: str, changes: dict[str, Any], reason: str | None) -> None:
        """Change the named fields of a dataset; `reason` is required for classification changes."""

    @abstractmethod
    def harvested(self, source: str) -> Iterator[Dataset]:
        """Every dataset, visible to this sink's principal, that a connector harvested from `source`."""

    @abstractmethod
    def record_lineage(self, payload: dict[str, Any]) -> None:
        """Record a process with its inputs and outputs (the payload holds Process fields)."""

    @abstractmethod
    def record_lineage_event(self, event: Any) -> list[str]:
        """Record one decoded OpenLineage event as the catalog's own endpoint would; returns its warnings.
        InvalidInput names the JSON path of what is wrong with it."""

    @abstractmethod
    def purposes_by_iri(self) -> dict[str, str]:
        """The catalog's configured purposes, keyed by their standard (DPV) IRI, as its vocabulary maps them."""

    def close(self) -> None:  # noqa: B027  (an optional hook: the in-process sink holds nothing to release)
        """Release connections. The default holds none."""


class ServiceSink(Sink):
    """Writes into the configured store through the services, as SYSTEM or as a given person."""

    def __init__(self, services: Services, principal: Principal) -> None:
        self.services = services
        self.principal = principal
        self.target = f"the {services.store.backend} store as {principal.id}"

    def agency(self, id: str) -> Agency | None:
        try:
            return self.services.reads.agency(id)
        except NotFound:
            return None

    def register_agency(self, payload: dict[str, Any]) -> None:
        self.services.registration.register_agency(self.principal, payload)

    def dataset(self, id: str) -> Dataset | None:
        try:
            return self.services.reads.dataset(self.principal, id)
        except NotFound:
            return None

    def register_dataset(self, payload: dict[str, Any]) -> None:
        self.services.registration.register_dataset(self.principal, payload)

    def update_dataset(self, id: str, changes: dict[str, Any], reason: str | None) -> None:
        self.services.registration.update_dataset(self.principal, id, changes, reason)

    def purposes_by_iri(self) -> dict[str, str]:
        return {term.iri: term.id for term in self.services.vocabulary.purposes}

    def harvested(self, source: str) -> Iterator[Dataset]:
        reads, after = self.services.reads, None
        while True:
            listing = reads.datasets(
                self.principal, DatasetFilter(), self.services.ctx.settings.api.max_page_size, after
            )
            yield from (d for d in listing.items if d.harvest_source == source)
            if not listing.has_next:
                return
            after = listing.end_cursor

    def record_lineage(self, payload: dict[str, Any]) -> None:
        self.services.lineage.record(self.principal, payload)

    def record_lineage_event(self, event: Any) -> list[str]:
        # Scoped as POST /api/v1/lineage scopes it: ids in the writing agency's own space.
        run = parse_event(event, self.principal.agency_id)
        return self.services.lineage.ingest(self.principal, run).warnings


# The dataset fields a connector reads back over GraphQL to compare with what its source says.
DATASET_SELECTION = """
  id title description ownerAgencyId classification status tags sourceUrl harvestSource sourceModified
  licence { id title url }
  distributions { title description accessUrl downloadUrl format mediaType }
  extras { key value }
"""
AGENCY_QUERY = "query Agency($id: ID!) { agency(id: $id) { id name kind } }"
DATASET_QUERY = f"query Dataset($id: ID!) {{ dataset(id: $id) {{ {DATASET_SELECTION} }} }}"
DATASETS_QUERY = f"""query Datasets($after: String) {{
  datasets(first: 100, after: $after) {{
    edges {{ node {{ {DATASET_SELECTION} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
REGISTER_AGENCY = "mutation Register($input: RegisterAgencyInput!) { registerAgency(input: $input) { id } }"
REGISTER_DATASET = "mutation Register($input: RegisterDatasetInput!) { registerDataset(input: $input) { id } }"
UPDATE_DATASET = """mutation Update($id: ID!, $input: UpdateDatasetInput!, $reason: String) {
  updateDataset(id: $id, input: $input, reason: $reason) { id }
}"""
RECORD_LINEAGE = "mutation Record($input: RecordLineageInput!) { recordLineage(input: $input) { id } }"
# Fields the API sets itself: sending them in an input is an error.
SERVER_SET = frozenset({"created_at", "updated_at", "version", "placeholder", "recorded_at"})


def camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def to_input(value: Any) -> Any:
    """Plain Python (snake_case keys, datetimes, enums) as GraphQL input variables."""
    if isinstance(value, dict):
        return {camel(k): to_input(v) for k, v in value.items() if k not in SERVER_SET}
    if isinstance(value, list | tuple):
        return [to_input(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def from_output(value: Any) -> Any:
    """A GraphQL result (camelCase keys) as the snake_case dicts the domain models read."""
    if isinstance(value, dict):
        return {snake(k): from_output(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_output(v) for v in value]
    return value


class GraphQLSink(Sink):
    """Writes into a running catalog through its GraphQL API, with a bearer token."""

    def __init__(self, client: CatalogClient, url: str) -> None:
        self.client = client
        self.target = f"the catalog at {url}"

    def _maybe(self, query: str, id: str) -> dict[str, Any] | None:
        try:
            return self.client.execute(query, {"id": id})
        except RemoteError as exc:
            if exc.code == "NOT_FOUND":
                return None
            raise

    def agency(self, id: str) -> Agency | None:
        data = self._maybe(AGENCY_QUERY, id)
        return Agency.model_validate(data["agency"]) if data and data.get("agency") else None

    def register_agency(self, payload: dict[str, Any]) -> None:
        self.client.execute(REGISTER_AGENCY, {"input": to_input(payload)})

    def dataset(self, id: str) -> Dataset | None:
        data = self._maybe(DATASET_QUERY, id)
        return Dataset.model_validate(from_output(data["dataset"])) if data and data.get("dataset") else None

    def register_dataset(self, payload: dict[str, Any]) -> None:
        self.client.execute(REGISTER_DATASET, {"input": to_input(payload)})

    def update_dataset(self, id: str, changes: dict[str, Any], reason: str | None) -> None:
        self.client.execute(UPDATE_DATASET, {"id": id, "input": to_input(changes), "reason": reason})

    def purposes_by_iri(self) -> dict[str, str]:
        terms = self.client.execute("{ vocabulary { purposes { id iri } } }")["vocabulary"]["purposes"]
        return {str(term["iri"]): str(term["id"]) for term in terms}

    def harvested(self, source: str) -> Iterator[Dataset]:
        after: str | None = None
        while True:
            page = self.client.execute(DATASETS_QUERY, {"after": after})["datasets"]
            for edge in page["edges"]:
                if edge["node"].get("harvestSource") == source:
                    yield Dataset.model_validate(from_output(edge["node"]))
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    def record_lineage(self, payload: dict[str, Any]) -> None:
        self.client.execute(RECORD_LINEAGE, {"input": to_input(payload)})

    def record_lineage_event(self, event: Any) -> list[str]:
        return [str(warning) for warning in self.client.send_lineage_event(event).get("warnings", [])]

    def close(self) -> None:
        self.client.close()
