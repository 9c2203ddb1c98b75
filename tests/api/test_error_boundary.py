"""One error tree and one place it becomes an HTTP status: every route answers a refusal the same way."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sqlite3
from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

import catalog
from catalog.api.errors import error_codes, status_for
from catalog.errors import AlreadyExists, BadRequest, CatalogError, Conflict, LimitExceeded, NotFound
from catalog.store.sqlite.errors import _translated

# Exceptions that never leave the module that raises them: each is caught where it is raised and turned into a
# CatalogError (or, for Refused, into a recorded refusal and then Forbidden).
CONTROL_FLOW = {
    "catalog.services.decisions.Refused",
    "catalog.policy.visibility.Untranslatable",
    "catalog.policy.sentences.TemplateError",
    "catalog.policy.expressions.ExpressionError",
}


def exception_classes() -> Iterator[type[BaseException]]:
    for module in pkgutil.walk_packages(catalog.__path__, "catalog."):
        if module.name.endswith(".__main__"):
            continue  # a __main__ runs its command when imported
        for _, member in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(member, BaseException) and member.__module__ == module.name:
                yield member


def test_every_error_class_is_in_the_tree() -> None:
    outside = sorted(
        f"{kind.__module__}.{kind.__qualname__}"
        for kind in exception_classes()
        if not issubclass(kind, CatalogError) and f"{kind.__module__}.{kind.__qualname__}" not in CONTROL_FLOW
    )

    assert outside == []


def test_every_code_has_its_status() -> None:
    statuses = {code: status_for(type("Probe", (CatalogError,), {"code": code})("probe")) for code in error_codes()}

    assert statuses == {
        "INTERNAL": 500, "NOT_FOUND": 404, "CONFLICT": 409, "BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401,
        "FORBIDDEN": 403, "UNAVAILABLE": 503, "OUTCOME_UNKNOWN": 503, "CONFIG": 500, "BAD_REQUEST": 400,
    }
    assert status_for(AlreadyExists("Dataset", "x")) == 409  # a page answered 500 for it: it is not a Conflict
    assert status_for(BadRequest("Content-Type: expected application/json", 415)) == 415
    assert status_for(LimitExceeded("query depth exceeds 5 (CATALOG_API__MAX_DEPTH)")) == 400


def test_a_sqlite_integrity_error_is_a_conflict_not_unavailable() -> None:
    with pytest.raises(Conflict) as raised, _translated("/tmp/catalog.db"):
        raise sqlite3.IntegrityError("UNIQUE constraint failed: nodes.label, nodes.id")

    assert "nothing was written" in raised.value.message
    assert "nodes.label" not in raised.value.message  # the store's schema is not the client's business


def test_plain_http_routes_answer_one_error_body(client: TestClient, token: Callable[[str], str]) -> None:
    headers = {"X-Request-ID": "req-7"}
    odrl = client.get("/agreements/no-such.odrl.jsonld", headers=headers)
    lineage = client.post(
        "/api/v1/lineage", json=[], headers={**headers, "Authorization": f"Bearer {token('admin')}"}
    )
    media = client.post("/api/v1/lineage", content=b"{}", headers={**headers, "Content-Type": "text/plain",
                                                                    "Authorization": f"Bearer {token('admin')}"})
    anonymous = client.post("/api/v1/lineage", json={}, headers=headers)

    assert (odrl.status_code, odrl.json()) == (404, {"error": {
        "code": "NOT_FOUND", "message": NotFound("SharingAgreement", "no-such").message}})
    assert (lineage.status_code, lineage.json()) == (400, {"error": {
        "code": "BAD_USER_INPUT", "message": "$: must be a JSON object (one OpenLineage event)", "path": "$"}})
    assert (media.status_code, media.json()["error"]["code"]) == (415, "BAD_REQUEST")
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "UNAUTHENTICATED")
    assert all("Traceback" not in r.text for r in (odrl, lineage, media, anonymous))
    assert {r.headers["X-Request-ID"] for r in (odrl, lineage, media, anonymous)} == {"req-7"}


def test_a_page_answers_the_same_status_as_the_api(client: TestClient) -> None:
    page = client.get("/datasets/no-such-dataset")

    assert page.status_code == status_for(NotFound("Dataset", "no-such-dataset")) == 404
    assert "text/html" in page.headers["content-type"]
