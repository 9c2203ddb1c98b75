"""The one exception tree. Every layer raises these; driver errors are translated at each backend's boundary."""

from __future__ import annotations

from typing import ClassVar

WRITTEN_NOTHING = "nothing was written"


class CatalogError(Exception):
    """Base of every error the catalog raises on purpose.

    `code` is the stable machine-readable name (it becomes GraphQL `extensions.code`).
    """

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def public_message(self) -> str:
        """What a client may be told. The message itself, unless it names things only operators should see."""
        return self.message


class RecordError(CatalogError):
    """An error about one record, named by its `kind` and `id`; the subclass says what is wrong with it."""

    problem: ClassVar[str]

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"{kind} {id!r} {self.problem}")
        self.kind = kind
        self.id = id


class NotFound(RecordError):
    """No record of that kind has that id."""

    code = "NOT_FOUND"
    problem = "not found"


class AlreadyExists(RecordError):
    """A record of that kind already has that id, so a new one cannot take it."""

    code = "CONFLICT"
    problem = "already exists"


class Conflict(CatalogError):
    code = "CONFLICT"


class InvalidInput(CatalogError):
    """Bad input from a user. `field` is the dotted path of the offending field or setting."""

    code = "BAD_USER_INPUT"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class LimitExceeded(CatalogError):
    """A query is too deep, too wide or too costly. The message names the setting."""

    code = "BAD_USER_INPUT"


class Unauthenticated(CatalogError):
    code = "UNAUTHENTICATED"


class Forbidden(CatalogError):
    """Not allowed. When the policy refused it, `decision_ids` are the refusing decisions as recorded."""

    code = "FORBIDDEN"

    def __init__(self, message: str, *, decision_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.decision_ids = decision_ids


class Unavailable(CatalogError):
    """The store (or another dependency) cannot be reached or used right now.

    `message` is for operators and the CLI, and may name the store's address; `public`, when given, is what a
    client of the API or the pages is told instead.
    """

    code = "UNAVAILABLE"

    def __init__(self, message: str, *, public: str | None = None) -> None:
        super().__init__(message)
        self.public = public

    @property
    def public_message(self) -> str:
        return self.public or self.message

    def nothing_written(self) -> Unavailable:
        """The same failure, met by a write that rolled back: it says so, so a client knows a retry is safe."""
        if self.message.endswith(WRITTEN_NOTHING):
            return self
        public = f"{self.public}; {WRITTEN_NOTHING}" if self.public else None
        return type(self)(f"{self.message}; {WRITTEN_NOTHING}", public=public)


class DeadlineExceeded(Unavailable):
    """The request's time limit passed before the store was asked: that attempt wrote nothing (the message says
    whether an earlier change in the same request committed)."""

    def nothing_written(self) -> Unavailable:
        return self  # its message already says what was written


class OutcomeUnknown(CatalogError):
    """The connection to the store died while a change was being committed: it may or may not have been written.

    A client should read before it retries, or retry with the same `Idempotency-Key`.
    """

    code = "OUTCOME_UNKNOWN"


class ConfigError(CatalogError):
    """A setting is wrong. The message names the setting and what was expected."""

    code = "CONFIG"


class BadRequest(CatalogError):
    """An HTTP request that cannot be read at all: no query, a body that is not JSON or not text, the wrong
    `Content-Type`, a body over the size limit. `status` is its HTTP status (400, 405, 413 or 415); `headers` go
    with the answer."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, status: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
