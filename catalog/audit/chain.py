"""The audit trail's hash chain, independent of any store: how an event is hashed and how a log is verified.

Event n's hash is `sha256(canonical({content, prev_hash}))`, where `prev_hash` is event n-1's hash (GENESIS for
the first). `content` is everything the event says: sequence, time, principal, action, targets, the change
(canonical JSON) and its digest, and the decision id. Altering, deleting, inserting or reordering a stored event
breaks the chain at that event; rewriting the whole tail consistently is caught by a signed checkpoint instead.

The verifier reads events one at a time, so a log of any length is checked in constant memory, whether the
events come from the store a page at a time or from an export file a line at a time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from catalog.errors import InvalidInput
from catalog.store.base import sequence_id

GENESIS = "0" * 64
# What an event's hash covers, in the order a reader would list it. `prev_hash` and `hash` are the links.
CONTENT_KEYS = (
    "sequence",
    "at",
    "principal_id",
    "action",
    "target_ids",
    "change_digest",
    "change_json",
    "decision_id",
)
RECORD_KEYS = (*CONTENT_KEYS, "prev_hash", "hash")


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 kept. The hash chain is defined over this."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: Any) -> str:
    """SHA-256 of the canonical JSON of `value`, as hex."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def event_id(sequence: int) -> str:
    """The store id of event `sequence`: the audit sequence's record id, so a store can read the head with the
    counter (`GraphTx.advance_sequence`)."""
    return sequence_id(sequence)


def event_hash(content: Mapping[str, Any], prev_hash: str) -> str:
    return digest({"content": dict(content), "prev_hash": prev_hash})


def content_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed content of a stored event. An absent property reads as None (stores drop null properties)."""
    return {key: record.get(key) for key in CONTENT_KEYS}


def export_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """An event as one export line holds it: its content and both chain hashes, nothing store-specific."""
    return {key: record.get(key) for key in RECORD_KEYS}


class _Unread:
    """The counter was not read at all (an export file has none)."""


UNREAD = _Unread()


@dataclass(frozen=True)
class ChainBreak:
    """The first event at which the log stops being a valid chain, and what is wrong there."""

    sequence: int
    problem: str


@dataclass(frozen=True)
class ExpectedHead:
    """A head the log must still have at `size` events: what a signed checkpoint vouches for."""

    size: int
    head: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification: how many events were checked, the head hash, and the first break if any."""

    count: int
    head: str
    broken: ChainBreak | None = None
    matched: ExpectedHead | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


class ChainVerifier:
    """Checks events fed in sequence order, and remembers the first one that breaks the chain.

    Args:
        expected: a head the log must have at a given size (from a checkpoint). The first `size` events must
            hash to it; a log shorter than that has lost events from its end.
    """

    def __init__(self, expected: ExpectedHead | None = None) -> None:
        self.expected = expected
        self.count = 0
        self.head = GENESIS
        self._head_before: str | None = None  # event count-1's hash: tells an inserted event from a cut
        self.broken: ChainBreak | None = None
        self.matched: ExpectedHead | None = None

    def feed(self, record: Mapping[str, Any]) -> bool:
        """Check the next stored event. Returns False once the chain is broken (later events prove nothing)."""
        if self.broken is not None:
            return False
        position = self.count + 1
        self.broken = _break(record, position, self.head, self._head_before)
        if self.broken is not None:
            return False
        self.count, self.head, self._head_before = position, str(record["hash"]), self.head
        if self.expected is not None and position == self.expected.size:
            if self.head != self.expected.head:
                self.broken = ChainBreak(
                    position,
                    f"events 1..{position} no longer hash to the head the checkpoint signed "
                    f"({self.expected.head[:16]}...): the log was rewritten at or before event {position}",
                )
                return False
            self.matched = self.expected
        return True

    def finish(self, written: int | None = None, *, counter_after: int | _Unread | None = UNREAD) -> ChainReport:
        """The report, once every event has been fed.

        Args:
            written: how many events the writers' sequence counter said exist before reading; a log that ends
                sooner has lost events from its end.
            counter_after: the counter read after the last event (None when it is missing): every event of the
                log must be within it, since the catalog moves it in the same transaction as it appends.
        """
        if self.broken is None and counter_after is None and self.count > 0:
            self.broken = ChainBreak(
                1,
                f"the writers' sequence counter is missing, but the log holds {self.count} events: the counter was "
                "removed, or the events were written behind the catalog's back",
            )
        if self.broken is None and isinstance(counter_after, int) and self.count > counter_after:
            self.broken = ChainBreak(
                counter_after + 1,
                f"event {counter_after + 1} is past the writers' counter ({counter_after}): the catalog did not "
                "append it, or the counter was turned back",
            )
        if self.broken is None and written is not None and written > self.count:
            self.broken = ChainBreak(
                self.count + 1,
                f"event {self.count + 1} is missing: {written} events were written but the log ends at {self.count}",
            )
        if self.broken is None and self.expected is not None and self.expected.size > self.count:
            self.broken = ChainBreak(
                self.count + 1,
                f"the log ends at event {self.count} but the checkpoint signed {self.expected.size} events: "
                "events were deleted from its end",
            )
        return ChainReport(self.count, self.head, self.broken, self.matched)


def _break(record: Mapping[str, Any], position: int, head: str, head_before: str | None) -> ChainBreak | None:
    """What is wrong with `record` as event `position`, after events whose last two hashes are given, or None."""
    sequence = record.get("sequence")
    if type(sequence) is not int or sequence != position:
        return ChainBreak(
            position,
            f"expected event {position} but found one claiming sequence {sequence!r}: "
            "events were deleted, inserted or reordered",
        )
    stored_id = record.get("id")
    if stored_id is not None and stored_id != event_id(position):
        return ChainBreak(position, f"event {position} is stored under id {stored_id!r}, not {event_id(position)!r}")
    prev_hash = record.get("prev_hash")
    if prev_hash != head:
        if head_before is not None and prev_hash == head_before:
            # This event links to the one two back, so the event just before it was slipped in between them.
            return ChainBreak(
                position - 1,
                f"event {position - 1} was inserted: event {position} links straight to {_name(position - 2)}",
            )
        return ChainBreak(position, f"event {position}'s prev_hash does not match the hash of {_name(position - 1)}")
    change_json = record.get("change_json")
    if not isinstance(change_json, str) or hashlib.sha256(change_json.encode()).hexdigest() != record.get(
        "change_digest"
    ):
        return ChainBreak(position, f"event {position}'s change does not match its change_digest: it was altered")
    if event_hash(content_of(record), head) != record.get("hash"):
        return ChainBreak(position, f"event {position}'s content does not match its hash: it was altered")
    return None


def _name(sequence: int) -> str:
    return f"event {sequence}" if sequence > 0 else "the genesis value"


def verify_chain(
    records: Iterable[Mapping[str, Any]], *, expected: ExpectedHead | None = None, written: int | None = None
) -> ChainReport:
    """Verify a whole log given in sequence order. Stops reading at the first break."""
    verifier = ChainVerifier(expected)
    for record in records:
        if not verifier.feed(record):
            break
    return verifier.finish(written)


# --- export files: JSON Lines, one event per line ------------------------------------------------------------


def write_lines(records: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """Write events as JSON Lines (canonical JSON, one event per line). Returns how many were written."""
    count = 0
    for record in records:
        out.write(canonical(export_record(record)) + "\n")
        count += 1
    return count


def read_lines(path: Path, *, option: str = "--export") -> Iterator[dict[str, Any]]:
    """The events of an export file, one line at a time. A line that is not a JSON object is bad input."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(option, f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                raise InvalidInput(option, f"{path} line {number} is not a JSON object")
            yield record
