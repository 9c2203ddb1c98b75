"""What every service shares: the store, the decisions module, the settings and the clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from catalog.config import Settings
from catalog.domain import utcnow
from catalog.errors import NotFound
from catalog.principal import Principal
from catalog.store.base import GraphStore, Props
from catalog.store.query import Page, Predicate
from catalog.store.schema import Label

if TYPE_CHECKING:
    from catalog.services.decisions import Decisions

T = TypeVar("T")


def new_id(prefix: str, at: datetime) -> str:
    """A fresh id that sorts by creation time, so listings ordered by id are chronological."""
    return f"{prefix}-{at.strftime('%Y%m%d%H%M%S%f')}-{uuid.uuid4().hex[:8]}"


@dataclass
class ServiceContext:
    store: GraphStore
    decisions: Decisions
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    # How records are named: `new_id` everywhere but the demo, which names its agreements so people can find them.
    ids: Callable[[str, datetime], str] = new_id

    def new_id(self, prefix: str) -> str:
        """A fresh id that sorts by creation time, so listings ordered by id are chronological."""
        return self.ids(prefix, self.clock())

    def listing(
        self, label: Label, where: Predicate, convert: Callable[[Props], T], first: int, after: str | None, total: bool
    ) -> Listing[T]:
        """One page of the `label` records matching `where`, read in one transaction, each converted to its item;
        counted in all when `total`."""
        page = self.store.read(lambda tx: tx.find_nodes(label, where, first=first, after=after, with_total=total))
        return Listing.from_page(page, convert)

    def visible(
        self, principal: Principal, label: Label, ids: Sequence[str], convert: Callable[[Props], T]
    ) -> dict[str, T]:
        """The `label` records among `ids` that `principal` may read, read in one transaction, each converted."""
        found = self.store.read(lambda tx: self.decisions.visible(tx, principal, label, ids))
        return {id: convert(props) for id, props in found.items()}


def the_one(found: Mapping[str, T], kind: str, id: str) -> T:
    """Record `id` of what a read of `[id]` found; NotFound naming `kind` when it is not there, so a record that
    does not exist and one the reader may not see answer alike."""
    if id not in found:
        raise NotFound(kind, id)
    return found[id]


@dataclass
class Listing(Generic[T]):
    """One page of a list, as the API's connections need it."""

    items: list[T]
    has_next: bool
    end_cursor: str | None
    total: int | None = None
    cursors: list[str] = field(default_factory=list)

    @classmethod
    def from_page(cls, page: Page, convert: Callable[[dict], T]) -> Listing[T]:
        """A listing of a store page, each node's properties converted to the item it stands for."""
        return cls(
            [convert(props) for _, props in page.items],
            page.has_next,
            page.end_cursor,
            page.total,
            [id for id, _ in page.items],
        )
