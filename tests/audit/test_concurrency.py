"""Concurrent writers never fork the chain or leave a gap, on both backends (threads in one process here; the
end-to-end test does the same over HTTP against two servers).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from catalog.demo import load_demo
from catalog.services import Services
from catalog.services.audit_trail import stored_events, verify_store
from tests.audit.conftest import DEID, PRIYA, RUI, UMA

WRITERS = 8
EACH = 6


def test_parallel_writers_leave_one_unbroken_chain(services: Services) -> None:
    load_demo(services)
    before = verify_store(services.store).count

    def work(writer: int) -> None:
        for i in range(EACH):
            if i % 3 == 2:
                services.registration.update_dataset(
                    PRIYA, "stats.population-estimates", {"known_limitations": f"writer {writer}, change {i}"}
                )
            else:
                services.access.check(UMA if writer % 2 else RUI, DEID)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(work, range(WRITERS)))

    report = verify_store(services.store)
    events = list(stored_events(services.store))
    assert report.intact, report.broken
    updates = WRITERS * len([i for i in range(EACH) if i % 3 == 2])
    # Every check is one event; every update two: its decision's and the change's own.
    assert report.count == before + WRITERS * EACH + updates
    assert [e["sequence"] for e in events] == list(range(1, report.count + 1))
    assert len({e["prev_hash"] for e in events}) == len(events)  # no two events share a parent: no fork
