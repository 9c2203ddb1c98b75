"""Idempotency-Key on mutations, on both backends: a retry returns the first result instead of CONFLICT, a key
reused for another request is refused naming the header, concurrent duplicates apply once, refusals are not kept
and expired keys are purged."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.config import load_settings
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.services.idempotency import idempotent, request_digest
from catalog.store.base import GraphStore
from catalog.store.query import TRUE, Eq
from catalog.store.schema import Label
from tests.api.conftest import build_landscape

REGISTER = "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { id title classification } }"
CHECK = "mutation($i: AccessInput!) { checkAccess(input: $i) { id outcome } }"
DATASET = {"id": "beds", "title": "Hospital beds", "ownerAgencyId": "health", "classification": "OFFICIAL"}
ASK = {"datasetId": "clinics", "purpose": "STATISTICS", "accessMethod": "DOWNLOAD"}
Post = Callable[..., dict[str, Any]]


@pytest.fixture
def services(store: GraphStore, tmp_path: Path) -> Iterator[Services]:
    built = Services(store, load_settings(store=f"sqlite:///{tmp_path / 'unused.db'}"))
    build_landscape(built)
    yield built


@pytest.fixture
def post(services: Services) -> Iterator[Post]:
    """POST an operation as a person, with an Idempotency-Key when one is given; returns the JSON body."""
    with TestClient(create_app(services)) as client:

        def run(query: str, variables: dict[str, Any], *, key: str | None = None, as_: str = "admin") -> Any:
            token = issue_token(services.reads.person(SYSTEM, as_), services.ctx.settings.auth)
            headers = {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}
            return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()

        yield run


def count(services: Services, label: Label, prop: str | None = None, value: Any = None) -> int:
    where = Eq(prop, value) if prop else TRUE
    page = services.ctx.store.read(lambda tx: tx.find_nodes(label, where, first=1000))
    return len(page.items)


def exists(services: Services, label: Label, id: str) -> Any:
    return services.ctx.store.read(lambda tx: tx.get_node(label, id))


def test_a_retry_with_the_same_key_returns_the_first_result_instead_of_conflict(
    services: Services, post: Post
) -> None:
    first = post(REGISTER, {"i": DATASET}, key="register-beds-1")
    retried = post(REGISTER, {"i": DATASET}, key="register-beds-1")
    unkeyed = post(REGISTER, {"i": DATASET})

    assert "errors" not in first, first
    assert retried == first
    assert unkeyed["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert count(services, Label.AUDIT_EVENT, "action", "register_dataset") == 6  # the landscape's five, and one


def test_a_retried_access_check_returns_the_decision_first_recorded(services: Services, post: Post) -> None:
    first = post(CHECK, {"i": ASK}, key="ask-1", as_="analyst.social")
    retried = post(CHECK, {"i": ASK}, key="ask-1", as_="analyst.social")
    anew = post(CHECK, {"i": ASK}, key="ask-2", as_="analyst.social")

    assert retried == first
    assert anew["data"]["checkAccess"]["id"] != first["data"]["checkAccess"]["id"]
    assert count(services, Label.DECISION, "principal_id", "analyst.social") == 2


def test_a_key_belongs_to_its_caller(services: Services, post: Post) -> None:
    mine = post(CHECK, {"i": ASK}, key="shared-key", as_="analyst.social")
    theirs = post(CHECK, {"i": ASK}, key="shared-key", as_="admin")

    assert theirs["data"]["checkAccess"]["id"] != mine["data"]["checkAccess"]["id"]


def test_the_same_key_with_a_different_request_is_refused_naming_the_header(services: Services, post: Post) -> None:
    post(REGISTER, {"i": DATASET}, key="k-1")
    other = post(REGISTER, {"i": {**DATASET, "id": "cots", "title": "Cots"}}, key="k-1")

    assert other["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert other["errors"][0]["extensions"]["field"] == "Idempotency-Key"
    assert "different request" in other["errors"][0]["message"]
    assert exists(services, Label.DATASET, "cots") is None


def test_a_malformed_key_is_refused_naming_the_header(services: Services, post: Post) -> None:
    body = post(REGISTER, {"i": DATASET}, key="x" * 300)

    assert body["errors"][0]["extensions"]["field"] == "Idempotency-Key"
    assert exists(services, Label.DATASET, "beds") is None


def test_a_refused_action_is_not_kept_so_a_retry_decides_again(services: Services, post: Post) -> None:
    refused = post(REGISTER, {"i": DATASET}, key="try", as_="analyst.social")
    again = post(REGISTER, {"i": DATASET}, key="try", as_="analyst.social")

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert again["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert count(services, Label.IDEMPOTENCY) == 0
    refusals = count(services, Label.DECISION, "principal_id", "analyst.social")
    assert refusals == 2  # each attempt was decided, and recorded, again


def test_concurrent_duplicates_apply_once(services: Services) -> None:
    payload = {"title": "Hospital beds", "owner_agency_id": "health", "classification": "OFFICIAL", "id": "beds"}
    digest = request_digest("register beds", payload, None)
    results: list[Any] = []
    start = threading.Barrier(6)

    def register() -> None:
        with idempotent(SYSTEM.id, "once", digest, 60):
            start.wait()
            try:
                results.append(services.registration.register_dataset(SYSTEM, payload).id)
            except Exception as exc:  # what a client would be answered
                results.append(exc)

    threads = [threading.Thread(target=register) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["beds"] * 6
    assert count(services, Label.AUDIT_EVENT, "action", "register_dataset") == 6  # the landscape's five, and one


def test_expired_keys_are_forgotten_and_purged(services: Services, post: Post) -> None:
    services.ctx.settings.api.idempotency_ttl_s = 1
    post(REGISTER, {"i": DATASET}, key="old")
    time.sleep(1.1)
    post(REGISTER, {"i": {**DATASET, "id": "cots", "title": "Cots"}}, key="new")  # purges the expired one
    assert count(services, Label.IDEMPOTENCY) == 1

    again = post(REGISTER, {"i": DATASET}, key="old")
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"  # no longer a retry: decided and applied anew
