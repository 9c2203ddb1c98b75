"""Error translation: the one place where driver errors become CatalogErrors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConfigurationError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from catalog.errors import CatalogError, ConfigError, InvalidInput, Unavailable
from catalog.store.base import STORE_FAILED, STORE_UNREACHABLE

_TIMED_OUT = (
    "Neo.ClientError.Transaction.TransactionTimedOut",
    "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
)
_INVALID_BOOKMARK = (
    "Neo.ClientError.Transaction.InvalidBookmark",
    "Neo.ClientError.Transaction.InvalidBookmarkMixture",
)


def _message(exc: BaseException) -> str:
    # A server error's own text is in `message`; for driver-side errors `message` is a generic GQL status.
    message = (exc.message if isinstance(exc, Neo4jError) else None) or str(exc) or type(exc).__name__
    return " ".join(str(message).split())


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost driver error: the routing driver hides "connection refused" inside an ExceptionGroup.

    Bare OSErrors are skipped, since the driver error wrapping one already quotes it.
    """
    found, seen = exc, {id(exc)}
    current: BaseException | None = exc
    while current is not None:
        if not isinstance(current, (OSError, BaseExceptionGroup)):
            found = current
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__
        if current is not None and id(current) in seen:
            break
        seen.add(id(current))
    return found


def _reason(exc: BaseException) -> str:
    """One line: the error's message, and its root cause's when that says more."""
    message, root = _message(exc), _root_cause(exc)
    detail = _message(root)
    return message if root is exc or detail in message else f"{message}: {detail}"


def _timed_out(exc: BaseException) -> bool:
    """The server ended the transaction at the timeout we gave it (the request's time left): nothing committed."""
    return isinstance(exc, Neo4jError) and exc.code in _TIMED_OUT


@contextmanager
def _translated(uri: str, from_work: Sequence[BaseException] = (), bookmark_name: str = "bookmark") -> Iterator[None]:
    """The one place where driver errors become CatalogErrors.

    `from_work` holds what the caller's unit of work raised: those pass through untouched (the service layer
    raises its own errors), while a ValueError from anywhere else is the driver rejecting the address. A bookmark
    the server cannot parse is the caller's input, named `bookmark_name`.
    """
    try:
        yield
    except CatalogError:
        raise
    except ClientError as exc:
        if exc.code in _INVALID_BOOKMARK:
            raise InvalidInput(bookmark_name, f"the store cannot read this bookmark ({_reason(exc)})") from None
        raise Unavailable(
            f"CATALOG_STORE: Neo4j at {uri} refused the query: {_reason(exc)}", public=STORE_FAILED
        ) from None
    except ValueError as exc:
        if any(exc is raised for raised in from_work):
            raise
        raise ConfigError(f"CATALOG_STORE: {uri!r} is not a usable Neo4j address ({_reason(exc)})") from None
    except AuthError as exc:
        raise Unavailable(
            f"CATALOG_STORE: Neo4j at {uri} rejected the credentials "
            f"(check CATALOG_NEO4J__USER and CATALOG_NEO4J__PASSWORD): {_reason(exc)}",
            public=STORE_FAILED,
        ) from None
    except (ServiceUnavailable, SessionExpired) as exc:
        raise Unavailable(
            f"CATALOG_STORE: cannot reach Neo4j at {uri} ({_reason(exc)})", public=STORE_UNREACHABLE
        ) from None
    except ConfigurationError as exc:
        raise ConfigError(f"CATALOG_STORE: cannot use Neo4j at {uri}: {_reason(exc)}") from None
    except DriverError as exc:
        raise Unavailable(f"CATALOG_STORE: Neo4j at {uri} failed: {_reason(exc)}", public=STORE_FAILED) from None
    except Neo4jError as exc:
        raise Unavailable(
            f"CATALOG_STORE: Neo4j at {uri} refused the query: {_reason(exc)}", public=STORE_FAILED
        ) from None
