"""Every error a client can see carries extensions.code, and none carries a stack trace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.services import Services
from tests.api.conftest import codes

Gql = Callable[..., dict[str, Any]]
REGISTER_DATASET = "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { id } }"


def test_bad_user_input_names_the_field(gql: Gql) -> None:
    body = gql(REGISTER_DATASET, {"i": {"title": "T", "ownerAgencyId": "health", "retentionDays": -5}})

    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "retentionDays"
    assert error["message"] == "retentionDays: must be > 0"


def test_bad_user_input_for_an_unknown_classification_lists_the_scheme(gql: Gql) -> None:
    body = gql(REGISTER_DATASET, {"i": {"title": "T", "ownerAgencyId": "health", "classification": "TOP_SECRET"}})

    assert body["errors"][0]["extensions"]["field"] == "classification"
    assert "PUBLIC, OFFICIAL, OFFICIAL_SENSITIVE, PROTECTED" in body["errors"][0]["message"]


def test_bad_user_input_writes_nothing(gql: Gql) -> None:
    gql(REGISTER_DATASET, {"i": {"id": "half", "title": "T", "ownerAgencyId": "no-such-agency"}})

    assert codes(gql('{ dataset(id: "half") { id } }')) == ["NOT_FOUND"]


def test_unauthenticated_for_an_invalid_token(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": "Bearer abc.def.ghi"})

    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert response.json()["errors"][0]["message"].startswith("invalid token")


def test_forbidden_when_policy_refuses(gql: Gql) -> None:
    body = gql('mutation { registerAgency(input: {id: "rogue", name: "Rogue"}) { id } }', as_="analyst.social")

    assert codes(body) == ["FORBIDDEN"]


def test_not_found(gql: Gql) -> None:
    assert codes(gql('{ dataset(id: "nothing-here") { id } }')) == ["NOT_FOUND"]


def test_conflict_on_a_duplicate_id(gql: Gql) -> None:
    body = gql('mutation { registerAgency(input: {id: "health", name: "Again"}) { id } }')

    assert codes(body) == ["CONFLICT"]
    assert "'health' already exists" in body["errors"][0]["message"]


def test_unavailable_when_the_store_breaks(services: Services, settings: Any) -> None:
    path = Path(settings.store.removeprefix("sqlite:///"))
    with TestClient(create_app(services)) as client:
        services.store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.write_bytes(b"this is not a database" * 100)
        response = client.post("/graphql", json={"query": '{ dataset(id: "clinics") { id } }'})

    assert codes(response.json()) == ["UNAVAILABLE"]
    assert "Traceback" not in response.text


def test_internal_errors_are_hidden_and_carry_the_request_id(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise ZeroDivisionError("secret internal detail")

    monkeypatch.setattr(services.reads, "agency", broken)  # a bug in a service, not a database stand-in
    with TestClient(create_app(services)) as client:
        response = client.post(
            "/graphql", json={"query": '{ agency(id: "health") { id } }'}, headers={"X-Request-ID": "req-42"}
        )

    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "req-42"}
    assert "secret internal detail" not in response.text
    assert "req-42" in caplog.text and "ZeroDivisionError" in caplog.text
