"""What every service shares: the store, the decisions module, the settings and the clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from catalog.config import Settings
from catalog.domain import utcnow
from catalog.store.base import GraphStore
from catalog.store.query import Page

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
