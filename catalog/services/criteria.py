"""A list's filter: a frozen dataclass of optional criteria, each field declared with the predicate it asks.

The decisions, the audit trail, the datasets, the share requests and the agreements are filtered alike: a
criterion left out (None or empty) asks nothing, and the filter asks every criterion given, ANDed inside the store
query (`DecisionFilter(requester="ana", at_from=...)` lists Ana's decisions since then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from catalog.store.query import Cmp, Contains, Eq, Predicate, all_of
from catalog.store.records import timestamp

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["Criteria", "TimeWindow", "asked", "asks", "before", "contains", "equals", "since"]


def asks(predicate: Callable[[Any], Predicate | None]) -> Any:
    """A criterion field: None by default, which asks nothing; a value given asks `predicate(value)`."""
    return field(default=None, metadata={"asks": predicate})


def equals(prop: str) -> Any:
    """A criterion field: the record's `prop` is the value given."""
    return asks(lambda value: Eq(prop, value))


def contains(prop: str) -> Any:
    """A criterion field: the record's list `prop` holds the value given."""
    return asks(lambda value: Contains(prop, value))


def since(prop: str) -> Any:
    """A criterion field: the record's time `prop` is the time given or later."""
    return asks(lambda at: Cmp(prop, ">=", timestamp(at)))


def before(prop: str) -> Any:
    """A criterion field: the record's time `prop` is earlier than the time given."""
    return asks(lambda at: Cmp(prop, "<", timestamp(at)))


def asked(criteria: DataclassInstance) -> list[Predicate | None]:
    """What each criterion field of `criteria` that is given asks, in the order the fields are declared."""
    return [
        criterion.metadata["asks"](value)
        for criterion in fields(criteria)
        if "asks" in criterion.metadata and (value := getattr(criteria, criterion.name))
    ]


@dataclass(frozen=True)
class Criteria:
    """The base of a list's filter whose criteria are all its own fields: its predicate asks them together."""

    def predicate(self) -> Predicate:
        """The records that meet every criterion given (every record when none is)."""
        return all_of(*asked(self))


@dataclass(frozen=True)
class TimeWindow(Criteria):
    """Criteria of a log (decisions, audit events): made at `at_from` or later, and before `at_to`."""

    at_from: datetime | None = since("at")
    at_to: datetime | None = before("at")
