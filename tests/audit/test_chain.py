"""The hash chain on its own, with no store: what verification accepts, what it rejects, and where it says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog.audit.chain import (
    GENESIS,
    ExpectedHead,
    canonical,
    content_of,
    digest,
    event_hash,
    read_lines,
    verify_chain,
    write_lines,
)
from catalog.errors import InvalidInput


def chain(size: int) -> list[dict[str, Any]]:
    """A valid log of `size` events, built the way append_event builds them."""
    records, prev = [], GENESIS
    for seq in range(1, size + 1):
        change = {"title": {"before": f"v{seq - 1}", "after": f"v{seq}"}}
        content = {
            "sequence": seq,
            "at": f"2026-01-01T00:00:{seq:02d}.000000Z",
            "principal_id": "alice",
            "action": "update_dataset",
            "target_ids": ["ds"],
            "change_digest": digest(change),
            "change_json": canonical(change),
            "decision_id": None,
        }
        record = {**content, "prev_hash": prev, "hash": event_hash(content, prev)}
        records.append(record)
        prev = record["hash"]
    return records


def test_a_valid_log_verifies_to_its_count_and_head() -> None:
    log = chain(5)

    report = verify_chain(log)

    assert (report.intact, report.count, report.head) == (True, 5, log[-1]["hash"])


def test_verification_stops_reading_at_the_first_break() -> None:
    log = chain(6)
    log[2]["principal_id"] = "mallory"
    read: list[int] = []

    def records() -> Any:
        for record in log:
            read.append(record["sequence"])
            yield record

    report = verify_chain(records())

    assert report.broken is not None and report.broken.sequence == 3
    assert read == [1, 2, 3]


def test_an_absent_optional_property_reads_as_null() -> None:
    """Stores drop null properties, so an event without decision_id must hash as if it were null."""
    record = chain(1)[0]
    stored = {k: v for k, v in record.items() if v is not None}

    assert content_of(stored)["decision_id"] is None
    assert verify_chain([stored]).intact


def test_a_missing_tail_is_found_against_the_writers_count() -> None:
    report = verify_chain(chain(4), written=5)

    assert report.broken is not None
    assert (report.broken.sequence, report.broken.problem) == (
        5,
        "event 5 is missing: 5 events were written but the log ends at 4",
    )


def test_a_log_that_still_ends_in_the_signed_head_matches_the_checkpoint() -> None:
    log = chain(6)

    report = verify_chain(log, expected=ExpectedHead(4, log[3]["hash"]))

    assert report.intact and report.matched == ExpectedHead(4, log[3]["hash"])


def test_a_consistently_rewritten_log_fails_against_an_older_checkpoint() -> None:
    log = chain(6)
    signed = ExpectedHead(4, log[3]["hash"])
    rewritten = chain(6)
    for record in rewritten:  # a different but internally valid history
        record["principal_id"] = "mallory"
    prev = GENESIS
    for record in rewritten:
        record["prev_hash"], record["hash"] = prev, event_hash(content_of(record), prev)
        prev = record["hash"]

    assert verify_chain(rewritten).intact
    report = verify_chain(rewritten, expected=signed)

    assert report.broken is not None and report.broken.sequence == 4
    assert "no longer hash to the head the checkpoint signed" in report.broken.problem


def test_a_log_shorter_than_its_checkpoint_lost_its_end() -> None:
    log = chain(6)

    report = verify_chain(log[:3], expected=ExpectedHead(6, log[5]["hash"]))

    assert report.broken is not None and report.broken.sequence == 4
    assert "deleted from its end" in report.broken.problem


def test_a_sequence_that_is_not_an_integer_is_a_break() -> None:
    log = chain(3)
    log[1]["sequence"] = "2"

    report = verify_chain(log)

    assert report.broken is not None and report.broken.sequence == 2


def test_export_lines_round_trip_and_verify(tmp_path: Path) -> None:
    log = chain(4)
    path = tmp_path / "audit.jsonl"
    with path.open("w") as out:
        assert write_lines(({**r, "id": "ignored"} for r in log), out) == 4

    lines = path.read_text().splitlines()

    assert [json.loads(line) for line in lines] == log  # store-only properties are not exported
    assert verify_chain(read_lines(path)).head == log[-1]["hash"]


def test_an_export_line_that_is_not_json_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(canonical(chain(1)[0]) + "\n{not json\n")

    with pytest.raises(InvalidInput, match=r"--export: .*audit.jsonl line 2 is not a JSON object"):
        verify_chain(read_lines(path))
