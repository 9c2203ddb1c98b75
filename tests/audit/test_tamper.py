"""Tampering with stored events behind the catalog's back is detected, at the right sequence number, on both
backends: sqlite3 straight on the file, Cypher straight through the driver.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog.audit.chain import content_of, event_hash, event_id
from catalog.errors import Unavailable
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.services.audit_trail import verify_store, written_count
from tests.audit.conftest import RawEvents, record_activity

Tamper = Callable[[RawEvents, int, int], int]  # (events, position, log size) -> the sequence expected to break


def alter(field: str, value: object) -> Tamper:
    def tamper(raw: RawEvents, k: int, size: int) -> int:
        raw.replace(event_id(k), {**raw.props(event_id(k)), field: value})
        return k

    return tamper


def alter_and_rehash(raw: RawEvents, k: int, size: int) -> int:
    """Rewrite an event so it is self-consistent: only the next event's link gives it away."""
    props = {**raw.props(event_id(k)), "principal_id": "mallory"}
    raw.replace(event_id(k), {**props, "hash": event_hash(content_of(props), props["prev_hash"])})
    return k + 1


def delete(raw: RawEvents, k: int, size: int) -> int:
    raw.delete(event_id(k))
    return k


def delete_and_renumber(raw: RawEvents, k: int, size: int) -> int:
    """Delete an event and close the gap: later events move down one place, and the counter with them."""
    raw.delete(event_id(k))
    for seq in range(k + 1, size + 1):
        raw.replace(event_id(seq), {**raw.props(event_id(seq)), "sequence": seq - 1})
        raw.move(event_id(seq), event_id(seq - 1))
    raw.set_counter(size - 1)
    return k


def insert_between(raw: RawEvents, k: int, size: int) -> int:
    """Slip a copy of event k in just before it, under an id that sorts between k-1 and k."""
    raw.insert(event_id(k - 1) + "b", raw.props(event_id(k)))
    return k


def insert_and_renumber(raw: RawEvents, k: int, size: int) -> int:
    """A forged event at k with a valid hash, later events moved up one place, and the counter bumped."""
    for seq in range(size, k - 1, -1):
        raw.replace(event_id(seq), {**raw.props(event_id(seq)), "sequence": seq + 1})
        raw.move(event_id(seq), event_id(seq + 1))
    prev_hash = raw.props(event_id(k - 1))["hash"] if k > 1 else "0" * 64
    forged = {**raw.props(event_id(k + 1)), "sequence": k, "principal_id": "mallory", "prev_hash": prev_hash}
    raw.insert(event_id(k), {**forged, "hash": event_hash(content_of(forged), prev_hash)})
    raw.set_counter(size + 1)
    return k


def swap(raw: RawEvents, k: int, size: int) -> int:
    """Exchange two events entirely (properties, sequence numbers and all), each keeping the other's id."""
    other = k + 1 if k < size else k - 1
    first, second = raw.props(event_id(k)), raw.props(event_id(other))
    raw.replace(event_id(k), second)
    raw.replace(event_id(other), first)
    return min(k, other)


def swap_keeping_numbers(raw: RawEvents, k: int, size: int) -> int:
    """Exchange what two events say, but leave each position's sequence number in place."""
    other = k + 1 if k < size else k - 1
    first, second = raw.props(event_id(k)), raw.props(event_id(other))
    raw.replace(event_id(k), {**second, "sequence": k})
    raw.replace(event_id(other), {**first, "sequence": other})
    return min(k, other)


TAMPERS: dict[str, Tamper] = {
    "alter principal": alter("principal_id", "mallory"),
    "alter time": alter("at", "2020-01-01T00:00:00.000000Z"),
    "alter action": alter("action", "noop"),
    "alter targets": alter("target_ids", ["somewhere.else"]),
    "alter change": alter("change_json", '{"outcome":"PERMIT"}'),
    "alter digest": alter("change_digest", "0" * 64),
    "alter decision": alter("decision_id", "dec-forged"),
    "alter prev_hash": alter("prev_hash", "f" * 64),
    "alter hash": alter("hash", "f" * 64),
    "delete": delete,
    "delete and renumber": delete_and_renumber,
    "insert between": insert_between,
    "insert and renumber": insert_and_renumber,
    "swap": swap,
    "swap keeping numbers": swap_keeping_numbers,
}


@pytest.fixture
def size(activity: Services) -> int:
    report = verify_store(activity.store)
    assert report.intact, report.broken
    assert report.count == written_count(activity.store) > 60
    return report.count


# Dropping the newest event and the counter with it leaves a valid, shorter log: only a checkpoint can tell
# (tests/audit/test_checkpoint.py), so that one combination is not expected of the chain alone.
CASES = [
    (kind, where)
    for kind in TAMPERS
    for where in ("first", "middle", "last")
    if (kind, where) != ("delete and renumber", "last")
]


@pytest.mark.parametrize(("kind", "where"), CASES)
def test_tampering_is_detected_at_the_right_sequence(
    activity: Services, size: int, raw: RawEvents, kind: str, where: str
) -> None:
    k = {"first": 1, "middle": size // 2, "last": size}[where]
    expected = TAMPERS[kind](raw, k, size)

    report = verify_store(activity.store)

    assert report.broken is not None, f"{kind} at {k} went unnoticed"
    assert report.broken.sequence == expected, report.broken.problem


def test_the_problem_names_what_happened(activity: Services, size: int, raw: RawEvents) -> None:
    alter("principal_id", "mallory")(raw, 5, size)

    report = verify_store(activity.store)

    assert report.broken is not None
    assert report.broken.problem == "event 5's content does not match its hash: it was altered"


def test_an_intact_trail_reports_its_count_and_head(activity: Services, size: int, raw: RawEvents) -> None:
    report = verify_store(activity.store)

    assert (report.count, report.head) == (size, raw.props(event_id(size))["hash"])
    assert len(raw.ids()) == size


def test_a_write_after_the_newest_event_vanished_is_refused_and_writes_nothing(
    activity: Services, size: int, raw: RawEvents
) -> None:
    raw.delete(event_id(size))

    with pytest.raises(Unavailable, match=f"event {size} is missing"):
        activity.registration.register_agency(SYSTEM, {"id": "transport", "name": "Transport"})

    assert activity.reads.agencies_by_ids(["transport"]) == {}
    assert written_count(activity.store) == size


def test_a_deleted_counter_is_a_broken_trail_even_over_a_forged_event(
    activity: Services, size: int, raw: RawEvents
) -> None:
    # Found in review: with the writers' counter gone, verify said "intact: 0 events" over any log at all.
    forge_after(raw, size)
    raw.delete_counter()

    report = verify_store(activity.store)

    assert report.broken is not None
    assert report.broken.sequence == 1
    assert "counter is missing" in report.broken.problem


def test_an_event_past_the_counter_is_reported(activity: Services, size: int, raw: RawEvents) -> None:
    # A forged event with a valid hash, appended behind the catalog's back: the counter never moved for it.
    forge_after(raw, size)

    report = verify_store(activity.store)

    assert report.broken is not None
    assert report.broken.sequence == size + 1
    assert f"past the writers' counter ({size})" in report.broken.problem


def test_a_counter_behind_the_log_is_reported(activity: Services, size: int, raw: RawEvents) -> None:
    raw.set_counter(size - 3)

    report = verify_store(activity.store)

    assert report.broken is not None and report.broken.sequence == size - 2


def forge_after(raw: RawEvents, size: int) -> None:
    last = raw.props(event_id(size))
    forged = {**last, "sequence": size + 1, "principal_id": "mallory", "prev_hash": last["hash"]}
    raw.insert(event_id(size + 1), {**forged, "hash": event_hash(content_of(forged), last["hash"])})


def test_an_empty_trail_is_intact(services: Services) -> None:
    report = verify_store(services.store)

    assert (report.count, report.head, report.broken) == (0, "0" * 64, None)


def test_verification_reads_the_log_in_pages(services: Services) -> None:
    record_activity(services)
    before = services.store.round_trips

    report = verify_store(services.store)

    # The counter before and after, and one read per 500 events: the whole log is never fetched in one go.
    assert report.intact and services.store.round_trips - before <= 2 + report.count // 500 + 1
