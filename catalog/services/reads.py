"""Reading the catalog as a principal. Every read carries the policy's read predicate (read_metadata, read_person)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from catalog.domain import Agency, Dataset, DatasetField, Person
from catalog.errors import InvalidInput, NotFound
from catalog.principal import Principal
from catalog.services.context import Listing, ServiceContext, the_one
from catalog.services.criteria import Criteria, asks, contains, equals
from catalog.services.redaction import Redaction
from catalog.services.registration import read_fields
from catalog.store.query import TRUE, Text, all_of
from catalog.store.records import from_props
from catalog.store.schema import Label, Rel


@dataclass(frozen=True)
class DatasetFilter(Criteria):
    """Which datasets to list: by the agency that owns them, classification, tag, status, and words they hold."""

    agency_id: str | None = equals("owner_agency_id")
    classification: str | None = equals("classification")
    tag: str | None = contains("tags")
    status: str | None = equals("status")
    text: str | None = asks(lambda text: Text(text) if text.strip() else None)  # blank words ask nothing


class Reads:
    def __init__(self, ctx: ServiceContext, redaction: Redaction) -> None:
        self.ctx = ctx
        self.decisions = ctx.decisions
        self.redaction = redaction

    def page_size(self, first: int | None) -> int:
        api = self.ctx.settings.api
        if first is None:
            return api.default_page_size
        if first < 0 or first > api.max_page_size:
            raise InvalidInput("first", f"must be between 0 and {api.max_page_size}")
        return first

    # -- agencies (public register of who holds data) ----------------------------------------------------

    def agency(self, id: str) -> Agency:
        props = self.ctx.store.read(lambda tx: tx.get_node(Label.AGENCY, id))
        if props is None:
            raise NotFound("Agency", id)
        return from_props(Agency, props)

    def agencies(
        self, first: int | None = None, after: str | None = None, *, with_total: bool = True
    ) -> Listing[Agency]:
        size = self.page_size(first)
        return self.ctx.listing(Label.AGENCY, TRUE, partial(from_props, Agency), size, after, with_total)

    def agencies_by_ids(self, ids: Sequence[str]) -> dict[str, Agency]:
        found = self.ctx.store.read(lambda tx: tx.get_nodes(Label.AGENCY, ids))
        return {id: from_props(Agency, p) for id, p in found.items()}

    # -- people (staff directory: signed-in users only) ----------------------------------------------------

    def person(self, principal: Principal, id: str) -> Person:
        return the_one(self.persons_by_ids(principal, [id]), "Person", id)

    def persons_by_ids(self, principal: Principal, ids: Sequence[str]) -> dict[str, Person]:
        """The people among `ids` the principal may read (read_person: the staff directory is for staff)."""
        return self.ctx.visible(principal, Label.PERSON, ids, partial(from_props, Person))

    # -- datasets -----------------------------------------------------------------------------------------

    def dataset(self, principal: Principal, id: str) -> Dataset:
        """One dataset, or NotFound when it does not exist or the principal may not see it (no leak)."""
        return the_one(self.datasets_by_ids(principal, [id]), "Dataset", id)

    def datasets_by_ids(self, principal: Principal, ids: Sequence[str]) -> dict[str, Dataset]:
        """The datasets among `ids` the principal may see. `restrictedBy` is as stored: the API and the pages
        show it through `Redaction.paths`, which redacts the upstream datasets the principal may not see."""
        return self.ctx.visible(principal, Label.DATASET, ids, partial(from_props, Dataset))

    def datasets(
        self,
        principal: Principal,
        filter: DatasetFilter,
        first: int | None = None,
        after: str | None = None,
        *,
        with_total: bool = True,
    ) -> Listing[Dataset]:
        size = self.page_size(first)
        where = all_of(filter.predicate(), self.decisions.visible_datasets(principal))
        return self.ctx.listing(Label.DATASET, where, partial(from_props, Dataset), size, after, with_total)

    def fields_of(self, dataset_ids: Sequence[str]) -> dict[str, list[DatasetField]]:
        """Fields of datasets the caller has already been allowed to see."""
        return self.ctx.store.read(lambda tx: read_fields(tx, list(dataset_ids)))

    def stewards_of(self, dataset_ids: Sequence[str]) -> dict[str, list[str]]:
        return self.ctx.store.read(lambda tx: tx.neighbors(Rel.STEWARD_OF, dataset_ids, "in"))

    def members_of(self, agency_ids: Sequence[str]) -> dict[str, list[str]]:
        return self.ctx.store.read(lambda tx: tx.neighbors(Rel.MEMBER_OF, agency_ids, "in"))
