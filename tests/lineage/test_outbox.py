"""The webhook outbox on every backend: rows written with the correction, claimed with a lease in the store, and
delivered by whichever deliverer gets there, without loss and without a second delivery to a healthy receiver."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from catalog.domain import DeliveryState, utcnow
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.services.audit_trail import verify_store
from catalog.services.outbox import WebhookDeliverer
from catalog.store.query import TRUE
from catalog.store.schema import Label
from tests.lineage.conftest import Receiver, agreement, dataset, derive


class Clock:
    """The real time, moved forward by `offset` when a test needs a lease to run out."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


def deliverer(services: Services, clock: Clock, owner: str) -> WebhookDeliverer:
    return WebhookDeliverer(services.store, clock, attempts=3, backoff_s=0.01, lease_s=30, owner=owner)


class Stopped(WebhookDeliverer):
    """A server that stops right after the correction commits, before it tries any delivery."""

    def submit(self) -> None:
        pass


@pytest.fixture
def outboxed(services: Services, receiver: Receiver) -> Services:
    """raw (health) -> p1 -> extract; uni receives extract. uni's and health's webhooks answer 200."""
    for agency in ("uni", "health"):
        url = receiver.url(f"/ok/{agency}")
        services.store.write(lambda tx, a=agency, u=url: tx.update_node(Label.AGENCY, a, {"webhook_url": u}))
    dataset(services, "raw")
    dataset(services, "extract")
    derive(services, "p1", ["raw"], ["extract"])
    agreement(services, "health", "uni", "extract")
    return services


def rows(services: Services) -> dict[str, dict]:
    return dict(services.store.read(lambda tx: tx.find_nodes(Label.OUTBOX, TRUE, first=100)).items)


def test_the_outbox_is_written_with_the_correction_and_outlives_the_server_that_wrote_it(
    outboxed: Services, receiver: Receiver
) -> None:
    clock = Clock()
    outboxed.corrections.deliverer = Stopped(outboxed.store, clock)
    notice = outboxed.corrections.issue(SYSTEM, "raw", "Ages were off by one", "MAJOR").notice
    written = rows(outboxed)

    another = deliverer(outboxed, clock, "replica-2")
    another.submit()
    assert another.wait(30)

    assert sorted(written) == [f"{notice.id}.health", f"{notice.id}.uni"]
    assert {row["state"] for row in written.values()} == {"PENDING"}
    assert sorted(path for path, _ in receiver.received) == ["/ok/health", "/ok/uni"]  # each once
    assert {row["state"] for row in rows(outboxed).values()} == {"DELIVERED"}
    assert verify_store(outboxed.store).intact  # the rows, claims and attempts each came with their events


def test_a_claim_is_a_lease_no_other_deliverer_can_take_until_it_ends(outboxed: Services) -> None:
    clock = Clock()
    outboxed.corrections.deliverer = Stopped(outboxed.store, clock)
    notice = outboxed.corrections.issue(SYSTEM, "raw", "Ages were off by one", "MAJOR").notice
    row_id = f"{notice.id}.uni"
    first, second = deliverer(outboxed, clock, "replica-1"), deliverer(outboxed, clock, "replica-2")

    claimed = first.claim(row_id)
    while_leased = second.claim(row_id)
    clock.offset += timedelta(seconds=29)
    still_leased = second.claim(row_id)
    clock.offset += timedelta(seconds=1)
    after_the_lease = second.claim(row_id)

    assert claimed is not None and claimed.lease_owner == "replica-1"
    assert (while_leased, still_leased) == (None, None)
    assert after_the_lease is not None and after_the_lease.lease_owner == "replica-2"


def test_a_server_that_stops_mid_try_is_taken_over_and_the_count_of_tries_goes_on(
    outboxed: Services, receiver: Receiver
) -> None:
    down = receiver.url("/down/uni")
    outboxed.store.write(lambda tx: tx.update_node(Label.AGENCY, "uni", {"webhook_url": down}))
    clock = Clock()
    outboxed.corrections.deliverer = Stopped(outboxed.store, clock)
    notice = outboxed.corrections.issue(SYSTEM, "raw", "Ages were off by one", "MAJOR").notice
    row_id = f"{notice.id}.uni"
    first = deliverer(outboxed, clock, "before-restart")
    with httpx.Client() as client:
        first.deliver_due(client)  # the first try fails and is recorded
    clock.offset += timedelta(seconds=1)
    held = first.claim(row_id)  # the second is claimed, and then the server stops before trying it

    restarted = deliverer(outboxed, clock, "after-restart")
    clock.offset += timedelta(seconds=30)  # the lease it left runs out
    restarted.submit()
    assert restarted.wait(30)

    row = rows(outboxed)[row_id]
    attempts = [a for a in outboxed.corrections.notices(SYSTEM, None, 10, None).items[0].deliveries]
    assert held is not None
    assert (row["state"], row["attempts"]) == (DeliveryState.FAILED.value, 3)
    assert sorted(a.attempt for a in attempts if a.agency_id == "uni") == [1, 2, 3]
    assert receiver.hits["/down/uni"] == 3  # the claim that died with its server never reached the receiver
    assert verify_store(outboxed.store).intact
