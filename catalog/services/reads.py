"""Reading the catalog as a principal. Every dataset read carries the gate's visibility predicate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from catalog.domain import Agency, Dataset, DatasetField, Person
from catalog.errors import InvalidInput, NotFound
from catalog.principal import Principal
from catalog.services.context import Listing, ServiceContext
from catalog.services.registration import read_fields
from catalog.store.base import GraphTx
from catalog.store.query import TRUE, Contains, Eq, IdIn, Predicate, Text, all_of
from catalog.store.records import from_props
from catalog.store.schema import Label, Rel


@dataclass(frozen=True)
class DatasetFilter:
    agency_id: str | None = None
    classification: str | None = None
    tag: str | None = None
    status: str | None = None
    text: str | None = None

    def predicate(self) -> Predicate:
        return all_of(
            Eq("owner_agency_id", self.agency_id) if self.agency_id else None,
            Eq("classification", self.classification) if self.classification else None,
            Contains("tags", self.tag) if self.tag else None,
            Eq("status", self.status) if self.status else None,
            Text(self.text) if self.text and self.text.strip() else None,
        )


class Reads:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

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
        page = self.ctx.store.read(
            lambda tx: tx.find_nodes(Label.AGENCY, TRUE, first=size, after=after, with_total=with_total)
        )
        return Listing(
            [from_props(Agency, p) for _, p in page.items],
            page.has_next,
            page.end_cursor,
            page.total,
            [id for id, _ in page.items],
        )

    def agencies_by_ids(self, ids: Sequence[str]) -> dict[str, Agency]:
        found = self.ctx.store.read(lambda tx: tx.get_nodes(Label.AGENCY, ids))
        return {id: from_props(Agency, p) for id, p in found.items()}

    # -- people (staff directory: signed-in users only) ----------------------------------------------------

    def person(self, principal: Principal, id: str) -> Person:
        found = self.persons_by_ids(principal, [id])
        if id not in found:
            raise NotFound("Person", id)
        return found[id]

    def persons_by_ids(self, principal: Principal, ids: Sequence[str]) -> dict[str, Person]:
        if principal.anonymous:
            return {}  # the staff directory is for signed-in users; anonymous users see no people
        found = self.ctx.store.read(lambda tx: tx.get_nodes(Label.PERSON, ids))
        return {id: from_props(Person, p) for id, p in found.items()}

    # -- datasets -----------------------------------------------------------------------------------------

    def dataset(self, principal: Principal, id: str) -> Dataset:
        """One dataset, or NotFound when it does not exist or the principal may not see it (no leak)."""
        found = self.datasets_by_ids(principal, [id])
        if id not in found:
            raise NotFound("Dataset", id)
        return found[id]

    def datasets_by_ids(self, principal: Principal, ids: Sequence[str]) -> dict[str, Dataset]:
        where = all_of(IdIn(tuple(ids)), self.ctx.gate.visible_datasets(principal))
        page = self.ctx.store.read(lambda tx: tx.find_nodes(Label.DATASET, where, first=len(ids)))
        return {id: from_props(Dataset, p) for id, p in page.items}

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
        where = all_of(filter.predicate(), self.ctx.gate.visible_datasets(principal))

        def work(tx: GraphTx) -> Listing[Dataset]:
            page = tx.find_nodes(Label.DATASET, where, first=size, after=after, with_total=with_total)
            return Listing(
                [from_props(Dataset, p) for _, p in page.items],
                page.has_next,
                page.end_cursor,
                page.total,
                [id for id, _ in page.items],
            )

        return self.ctx.store.read(work)

    def fields_of(self, dataset_ids: Sequence[str]) -> dict[str, list[DatasetField]]:
        """Fields of datasets the caller has already been allowed to see."""
        return self.ctx.store.read(lambda tx: read_fields(tx, list(dataset_ids)))

    def stewards_of(self, dataset_ids: Sequence[str]) -> dict[str, list[str]]:
        return self.ctx.store.read(lambda tx: tx.neighbors(Rel.STEWARD_OF, dataset_ids, "in"))

    def members_of(self, agency_ids: Sequence[str]) -> dict[str, list[str]]:
        return self.ctx.store.read(lambda tx: tx.neighbors(Rel.MEMBER_OF, agency_ids, "in"))
