"""A mutation is answered only once its outcome is known: committed (its result), not committed (UNAVAILABLE,
saying nothing was written) or unknowable (OUTCOME_UNKNOWN). Never a time-out answer while the write goes on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.config import load_settings
from catalog.errors import OutcomeUnknown
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.base import GraphStore, GraphTx
from catalog.store.schema import Label
from tests.api.conftest import build_landscape

REGISTER = 'mutation { registerAgency(input: {id: "%s", name: "Late Agency"}) { id name } }'
LIMIT_S = 1.5  # long enough for a first write on a busy machine


@pytest.fixture
def services(store: GraphStore, tmp_path: Path) -> Iterator[Services]:
    built = Services(store, load_settings(store=f"sqlite:///{tmp_path / 'unused.db'}"))
    build_landscape(built)
    built.ctx.settings.api.request_timeout_s = LIMIT_S
    yield built


@pytest.fixture
def post(services: Services) -> Iterator[Callable[[str], tuple[int, dict[str, Any]]]]:
    """POST a mutation as the admin; the app (which closes the store when it stops) runs for the whole test."""
    token = issue_token(services.reads.person(SYSTEM, "admin"), services.ctx.settings.auth)
    with TestClient(create_app(services)) as client:

        def run(query: str) -> tuple[int, dict[str, Any]]:
            response = client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
            return response.status_code, response.json()

        # One registration before the test's own: on a loaded machine the first request's one-off costs (parsing
        # the document, the policy's first use) took the test's own past LIMIT_S before its write began.
        warm_up_status, _ = run(REGISTER % "warm-up")
        assert warm_up_status == 200
        yield run


def delay_writes(monkeypatch: pytest.MonkeyPatch, store: GraphStore, before: float = 0, after: float = 0) -> None:
    write: Callable[..., Any] = store.write

    def slow_write(work: Callable[[GraphTx], Any]) -> Any:
        time.sleep(before)
        result = write(work)
        time.sleep(after)
        return result

    monkeypatch.setattr(store, "write", slow_write)


def agency(services: Services, id: str) -> Any:
    return services.ctx.store.read(lambda tx: tx.get_node(Label.AGENCY, id))


def test_a_write_that_would_start_after_the_limit_says_nothing_was_written(
    services: Services, post: Callable[[str], tuple[int, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    delay_writes(monkeypatch, services.ctx.store, before=LIMIT_S + 0.3)
    _, body = post(REGISTER % "phantom")
    time.sleep(0.5)  # time for a write still running after the answer to commit (a phantom write)

    assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert "nothing was written" in body["errors"][0]["message"], body
    assert "CATALOG_API__REQUEST_TIMEOUT_S" in body["errors"][0]["message"]
    assert agency(services, "phantom") is None


def test_a_write_committed_past_the_limit_is_answered_with_its_result(
    services: Services, post: Callable[[str], tuple[int, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    delay_writes(monkeypatch, services.ctx.store, after=LIMIT_S + 0.3)
    status, body = post(REGISTER % "slow")

    assert status == 200 and "errors" not in body, body
    assert body["data"]["registerAgency"] == {"id": "slow", "name": "Late Agency"}
    assert agency(services, "slow") is not None


def test_a_commit_whose_outcome_cannot_be_known_says_so(
    services: Services, post: Callable[[str], tuple[int, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def lost(work: Callable[[GraphTx], Any]) -> Any:
        raise OutcomeUnknown("the connection to the store was lost while the change was being committed")

    monkeypatch.setattr(services.ctx.store, "write", lost)
    _, body = post(REGISTER % "maybe")

    assert body["errors"][0]["extensions"]["code"] == "OUTCOME_UNKNOWN"
    assert body["data"] is None
