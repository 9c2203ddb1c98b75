"""A request's deadline, which the stores honour: no transaction attempt starts after it.

The API opens a `deadline()` scope around a request; threads started with a copy of the context (the API's
`call`) share it. Each backend asks `remaining_s()` before every attempt, first or retry, and raises
`DeadlineExceeded` when nothing is left: then that attempt wrote nothing. A Neo4j transaction gets the remaining
time as its server-side timeout and SQLite's busy wait is bounded by it, so a write that has started ends soon
after the deadline, one way or the other, and the API can answer with its outcome instead of guessing.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass

from catalog.errors import WRITTEN_NOTHING, DeadlineExceeded
from catalog.store.scope import ContextScope


@dataclass
class Deadline:
    """When the request must be done (monotonic seconds), the limit and the setting it comes from.

    `committed` counts the write transactions committed in the scope, so a deadline met after one of them can
    say that the earlier change stands.
    """

    at: float
    limit_s: float
    setting: str
    committed: int = 0

    def remaining_s(self) -> float:
        return self.at - time.monotonic()

    def exceeded(self) -> DeadlineExceeded:
        done = WRITTEN_NOTHING if not self.committed else "a change committed before then stands"
        return DeadlineExceeded(f"request took over {self.limit_s:g} s ({self.setting}); {done}")


_DEADLINE: ContextScope[Deadline] = ContextScope("catalog_deadline")
current_deadline = _DEADLINE.current  # the deadline open in this context, if any


def deadline(limit_s: float, setting: str) -> AbstractContextManager[Deadline]:
    """Open a deadline `limit_s` seconds from now for the code inside; `setting` is what an error names."""
    return _DEADLINE.open(Deadline(time.monotonic() + limit_s, limit_s, setting))


def remaining_s() -> float | None:
    """Seconds left before the deadline, for an attempt about to start: raises DeadlineExceeded when none are.

    None when no deadline is open (the CLI, background work): then the backend's own limits apply.
    """
    scope = _DEADLINE.current()
    if scope is None:
        return None
    left = scope.remaining_s()
    if left <= 0:
        raise scope.exceeded()
    return left


def committed() -> None:
    """Note that a write transaction committed in this context."""
    scope = _DEADLINE.current()
    if scope is not None:
        scope.committed += 1
