"""A value open for the code inside a `with` block: how a request's scopes (its causal scope, its deadline, its
idempotency key) reach the stores and services it calls without being passed down every call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

T = TypeVar("T")


class ContextScope(Generic[T]):
    """One kind of scope: the value opened last in this context (threads started with a copy of it share it)."""

    def __init__(self, name: str) -> None:
        self._var: ContextVar[T | None] = ContextVar(name, default=None)

    @contextmanager
    def open(self, value: T) -> Iterator[T]:
        """Make `value` the current scope for the code inside; the one before it is current again afterwards."""
        token = self._var.set(value)
        try:
            yield value
        finally:
            self._var.reset(token)

    def current(self) -> T | None:
        """The scope open in this context, if any."""
        return self._var.get()
