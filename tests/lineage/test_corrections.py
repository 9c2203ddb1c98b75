"""Correction notices on every backend: who is told, the dataset's history, and webhook delivery with retries.

Webhooks are a real HTTP server on the loopback interface (see the `receiver` fixture).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalog.errors import Forbidden, InvalidInput
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.services.corrections import WebhookDeliverer
from catalog.services.history import History
from catalog.store.query import Eq
from catalog.store.schema import Label, Rel
from tests.lineage.conftest import Receiver, acting, agreement, dataset, derive

Gql = Callable[..., dict[str, Any]]


@pytest.fixture
def corrected(services: Services, receiver: Receiver) -> Services:
    """raw (health) -> p1 -> extract (health) -> p2 -> tables (stats). uni receives extract, city receives tables.

    Webhooks: uni's answers, city's is down, stats' fails once then answers. Retries back off 10 ms at first.
    """
    for agency, path in (("uni", "/ok/uni"), ("city", "/down/city"), ("stats", "/flaky/stats")):
        url = receiver.url(path)
        services.store.write(lambda tx, a=agency, u=url: tx.update_node(Label.AGENCY, a, {"webhook_url": u}))
    dataset(services, "raw")
    dataset(services, "extract")
    dataset(services, "tables", owner="stats")
    services.registration.assign_steward(SYSTEM, "raw", "steward.health")
    services.registration.assign_steward(SYSTEM, "tables", "steward.stats")
    derive(services, "p1", ["raw"], ["extract"])
    derive(services, "p2", ["extract"], ["tables"])
    agreement(services, "health", "uni", "extract")
    agreement(services, "stats", "city", "tables")
    services.corrections.deliverer = WebhookDeliverer(services.store, services.ctx.clock, attempts=3, backoff_s=0.01)
    return services


def test_a_correction_lists_everyone_downstream(corrected: Services) -> None:
    view = corrected.corrections.issue(acting(corrected, "steward.health"), "raw", "Ages were off by one", "MAJOR")

    notice = view.notice
    assert notice.affected_dataset_ids == ["extract", "tables"]
    assert notice.steward_ids == ["steward.stats"]
    assert notice.recipient_agency_ids == ["city", "uni"]
    assert notice.agency_ids == ["city", "health", "stats", "uni"]
    assert corrected.corrections.deliverer.wait(30)


def test_a_correction_is_on_the_dataset_history_with_its_severity(corrected: Services) -> None:
    corrected.corrections.issue(SYSTEM, "raw", "Ages were off by one", "CRITICAL")
    corrected.corrections.deliverer.wait(30)

    entries = History(corrected.ctx).of_datasets(SYSTEM, ["raw"])["raw"]

    assert (entries[-1].action, entries[-1].severity, entries[-1].reason) == (
        "issue_correction",
        "CRITICAL",
        "Ages were off by one",
    )
    notice_ids = corrected.store.read(lambda tx: tx.neighbors(Rel.NOTICE_OF, ["raw"], "in"))
    assert len(notice_ids["raw"]) == 1


def test_notices_reach_webhooks_and_every_attempt_is_recorded(corrected: Services, receiver: Receiver) -> None:
    view = corrected.corrections.issue(SYSTEM, "raw", "Ages were off by one", "MAJOR")
    assert corrected.corrections.deliverer.wait(30)

    delivered = {path: body for path, body in receiver.received}
    assert delivered["/ok/uni"]["notice"]["id"] == view.notice.id
    assert delivered["/ok/uni"]["datasetIds"] == ["extract"]  # only what concerns that agency
    assert receiver.hits == {"/ok/uni": 1, "/down/city": 3, "/flaky/stats": 2}
    listing = corrected.corrections.notices(SYSTEM, None, 10, None)
    attempts = {(a.agency_id, a.attempt): (a.delivered, a.status_code) for a in listing.items[0].deliveries}
    assert attempts == {
        ("city", 1): (False, 503),
        ("city", 2): (False, 503),
        ("city", 3): (False, 503),
        ("stats", 1): (False, 503),
        ("stats", 2): (True, 200),
        ("uni", 1): (True, 200),
    }


def test_a_webhook_that_cannot_be_reached_is_recorded_and_the_correction_stands(corrected: Services) -> None:
    corrected.store.write(lambda tx: tx.update_node(Label.AGENCY, "uni", {"webhook_url": "http://127.0.0.1:9/none"}))

    view = corrected.corrections.issue(SYSTEM, "raw", "Ages were off by one", "MINOR")
    assert corrected.corrections.deliverer.wait(30)

    page = corrected.store.read(lambda tx: tx.find_nodes(Label.DELIVERY, Eq("agency_id", "uni"), first=10))
    assert [p["delivered"] for _, p in page.items] == [False, False, False]
    assert all(p.get("error") for _, p in page.items)
    assert corrected.store.read(lambda tx: tx.get_node(Label.NOTICE, view.notice.id)) is not None


def test_notices_are_read_per_agency(corrected: Services, gql: Gql) -> None:
    corrected.corrections.issue(SYSTEM, "raw", "Ages were off by one", "MAJOR")
    corrected.corrections.deliverer.wait(30)
    query = """query($a: ID) { notices(agencyId: $a) {
                 totalCount edges { node { datasetId severity affectedDatasets { id redacted } } } } }"""

    mine = gql(query, {"a": "uni"}, as_="analyst.uni")["data"]["notices"]
    theirs = gql(query, {"a": "health"}, as_="analyst.uni")["data"]["notices"]

    assert mine["totalCount"] == 1
    assert mine["edges"][0]["node"]["severity"] == "MAJOR"
    # read_notice: a notice is read by the agencies it is addressed to. Asked for health's notices, uni's analyst
    # gets only those addressed to uni as well: here the one, which tells uni all its staff may know.
    assert theirs == mine


def test_only_those_accountable_may_issue_a_correction(corrected: Services) -> None:
    with pytest.raises(Forbidden):
        corrected.corrections.issue(acting(corrected, "analyst.uni"), "raw", "I think it is wrong", "MINOR")
    with pytest.raises(InvalidInput) as raised:
        corrected.corrections.issue(SYSTEM, "raw", "x", "URGENT")

    assert raised.value.field == "severity"
    assert corrected.store.read(lambda tx: tx.find_nodes(Label.NOTICE, Eq("dataset_id", "raw"), first=1)).items == []


def test_issue_correction_through_graphql(corrected: Services, gql: Gql) -> None:
    body = gql(
        """mutation { issueCorrection(datasetId: "raw", description: "Ages off by one", severity: MAJOR) {
             datasetId severity recipientAgencyIds affectedDatasets { id } } }""",
        as_="steward.health",
    )
    corrected.corrections.deliverer.wait(30)

    assert body["data"]["issueCorrection"] == {
        "datasetId": "raw",
        "severity": "MAJOR",
        "recipientAgencyIds": ["city", "uni"],
        "affectedDatasets": [{"id": "extract"}, {"id": "tables"}],
    }
