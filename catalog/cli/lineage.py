"""`catalog ingest openlineage FILE`: replay a JSON Lines file of OpenLineage events.

In-process, each event is written into the configured store (as the system, `--as PERSON`, and with
`--agency` naming who owns placeholders when the system writes); with `--server URL --token T` each line is
POSTed to the running catalog's /api/v1/lineage, exactly as an OpenLineage client would. One event is one
transaction: a bad line is reported with its line number and JSON path, and the replay goes on. The exit code
is 1 when any line failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from catalog.cli.ingest import Person, Token
from catalog.cli.services import open_services
from catalog.errors import CatalogError, InvalidInput, Unavailable

Server = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        show_default="none: write in-process into CATALOG_STORE",
        help="POST the events to the catalog running at this URL.",
    ),
]
Agency = Annotated[
    str | None,
    typer.Option(
        metavar="AGENCY",
        show_default="none",
        help="In-process as the system: the agency that owns placeholder datasets.",
    ),
]


@dataclass
class Replay:
    recorded: int = 0
    failures: list[str] = field(default_factory=list)


def events(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, decoded event) for every non-blank line; a line that is not JSON yields the error text."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInput("FILE", f"cannot be read: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, exc


def _in_process(person: str | None, agency: str | None) -> tuple[Callable[[Any], None], Callable[[], None]]:
    from catalog.api.openlineage import parse_event
    from catalog.principal import SYSTEM, Principal

    services = open_services()
    principal = Principal(id=SYSTEM.id, agency_id=agency, roles=SYSTEM.roles)
    if person:
        principal = services.people.principal(person)  # as the catalog records them; refused if deactivated

    def send(event: Any) -> None:
        services.lineage.ingest(principal, parse_event(event, principal.agency_id))  # EventError is InvalidInput

    return send, services.store.close


def _remote(server: str, token: str) -> tuple[Callable[[Any], None], Callable[[], None]]:
    client = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30.0)

    def send(event: Any) -> None:
        try:
            response = client.post("/api/v1/lineage", json=event)
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach {server}: {exc}") from None
        if response.status_code != 201:
            try:
                error = response.json()["error"]
                message = str(error.get("message"))
            except (ValueError, KeyError, TypeError):
                message = response.text[:300]
            if response.status_code >= 500:
                raise Unavailable(f"HTTP {response.status_code}: {message}")
            raise InvalidInput("event", f"HTTP {response.status_code}: {message}")

    return send, client.close


def replay(path: Path, send: Callable[[Any], None]) -> Replay:
    """Send every event; a failing line is noted and the replay goes on, unless the catalog is unreachable."""
    result = Replay()
    for number, event in events(path):
        if isinstance(event, json.JSONDecodeError):
            result.failures.append(f"line {number}: not JSON ({event.msg})")
            continue
        try:
            send(event)
        except Unavailable as exc:
            result.failures.append(f"line {number}: {exc.message}; stopped")
            break
        except CatalogError as exc:
            result.failures.append(f"line {number}: {exc.message}")
        else:
            result.recorded += 1
    return result


def ingest_openlineage(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A JSON Lines file: one OpenLineage event per line.")],
    server: Server = None,
    token: Token = None,
    person: Person = None,
    agency: Agency = None,
) -> None:
    """Replay OpenLineage events from a JSON Lines file. RunEvent, DatasetEvent and JobEvent are understood."""
    if server:
        if person or agency:
            raise InvalidInput("--as" if person else "--agency", "is for in-process runs; the token says who writes")
        if not token:
            raise InvalidInput("--token", "is required with --server")
        send, close = _remote(server, token)
    else:
        if token:
            raise InvalidInput("--token", "is only used with --server")
        send, close = _in_process(person, agency)
    try:
        result = replay(file, send)
    finally:
        close()
    typer.echo(f"openlineage {file}: {result.recorded} events recorded, {len(result.failures)} failed")
    for failure in result.failures:
        typer.echo(f"  {failure}")
    if result.failures:
        raise typer.Exit(1)
