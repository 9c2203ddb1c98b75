"""What every service shares: the store, the gate, the settings and the clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from catalog.config import Settings
from catalog.domain import utcnow
from catalog.policy.gate import Gate
from catalog.store.base import GraphStore

T = TypeVar("T")


@dataclass
class ServiceContext:
    store: GraphStore
    gate: Gate
    settings: Settings
    clock: Callable[[], datetime] = utcnow

    def new_id(self, prefix: str) -> str:
        """A fresh id that sorts by creation time, so listings ordered by id are chronological."""
        return f"{prefix}-{self.clock().strftime('%Y%m%d%H%M%S%f')}-{uuid.uuid4().hex[:8]}"


@dataclass
class Listing(Generic[T]):
    """One page of a list, as the API's connections need it."""

    items: list[T]
    has_next: bool
    end_cursor: str | None
    total: int | None = None
    cursors: list[str] = field(default_factory=list)
