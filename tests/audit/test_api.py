"""The audit trail and dataset history through GraphQL, in-process, on both backends."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.audit.append import append_event
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.services.audit_trail import verify_store
from tests.audit.conftest import PRIYA, PURPOSES_REASON

Gql = Callable[..., dict[str, Any]]
HISTORY = """query($id: ID!) { dataset(id: $id) { version history { version at by action reason severity
             change { field before after } } } }"""
TRAIL = """query($f: AuditFilterInput, $first: Int, $after: String) { auditTrail(filter: $f, first: $first,
           after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { sequence at principalId
           action targetIds change changeDigest decisionId prevHash hash } } } }"""


@pytest.fixture
def gql(activity: Services) -> Iterator[Gql]:
    with TestClient(create_app(activity), raise_server_exceptions=False) as client:

        def run(query: str, variables: dict[str, Any] | None = None, *, as_: str | None = "auditor") -> dict[str, Any]:
            headers = {}
            if as_:
                person = activity.reads.person(SYSTEM, as_)
                headers["Authorization"] = f"Bearer {issue_token(person, activity.ctx.settings.auth)}"
            body: dict[str, Any] = client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            ).json()
            return body

        yield run


def history(gql: Gql, dataset_id: str, *, as_: str | None = "priya.stats") -> list[dict[str, Any]]:
    body = gql(HISTORY, {"id": dataset_id}, as_=as_)
    assert "errors" not in body, body["errors"]
    entries: list[dict[str, Any]] = body["data"]["dataset"]["history"]
    return entries


def changes(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["before"], c["after"]) for c in entry["change"]}


def test_history_lists_each_version_with_who_what_and_why(gql: Gql) -> None:
    entries = history(gql, "stats.hospital-activity")

    assert [(e["version"], e["action"], e["by"]) for e in entries] == [
        (1, "register_dataset", "system"),
        (1, "assign_steward", "system"),
        (2, "update_dataset", "priya.stats"),
        (3, "update_dataset", "priya.stats"),
        (3, "assign_steward", "system"),
    ]
    registered, named, described, repurposed, second_steward = entries
    # Who answers for the dataset is part of its history: each steward named, with the stewards before and after.
    assert changes(named) == {"stewards": ("[]", '["priya.stats"]')}
    assert changes(second_steward) == {"stewards": ('["priya.stats"]', '["ben.stats", "priya.stats"]')}
    assert changes(registered)["title"] == (None, '"Hospital Activity by Region and Diagnosis Chapter"')
    assert changes(registered)["legalBasis"][1] == (
        '{"article6": "PUBLIC_TASK", "covers_identified": false, "statute": "Statistics Act 2011 s. 9 (official '
        'statistics)"}'
    )
    assert set(changes(described)) == {"description"} and described["reason"] is None
    assert changes(repurposed) == {
        "permittedPurposes": (
            '["SERVICE_DELIVERY", "POLICY_AND_PROGRAMS", "RESEARCH", "STATISTICS"]',
            '["POLICY_AND_PROGRAMS", "RESEARCH", "STATISTICS"]',
        )
    }
    assert repurposed["reason"] == PURPOSES_REASON
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)


def test_a_classification_change_needs_a_reason_and_then_shows_it(activity: Services, gql: Gql) -> None:
    mutation = """mutation($reason: String) { updateDataset(id: "stats.population-estimates",
                  input: {classification: "OFFICIAL"}, reason: $reason) { version } }"""
    before = verify_store(activity.store).count

    refused = gql(mutation, {"reason": None}, as_="priya.stats")
    assert refused["errors"][0]["extensions"] | {"requestId": None} == {
        "code": "BAD_USER_INPUT",
        "field": "reason",
        "requestId": None,
    }
    assert verify_store(activity.store).count == before  # nothing was written, not even an event
    assert [e["action"] for e in history(gql, "stats.population-estimates")] == ["register_dataset", "assign_steward"]

    done = gql(mutation, {"reason": "Contains small-area counts under review"}, as_="priya.stats")
    latest = history(gql, "stats.population-estimates")[-1]

    assert done["data"]["updateDataset"]["version"] == 2
    assert (latest["version"], latest["reason"]) == (2, "Contains small-area counts under review")
    assert changes(latest)["classification"] == ('"PUBLIC"', '"OFFICIAL"')


def test_a_correction_shows_in_the_corrected_datasets_history_with_its_severity(activity: Services, gql: Gql) -> None:
    def correct(tx: Any) -> None:
        append_event(
            tx,
            principal=PRIYA,
            action="issue_correction",
            target_ids=["stats.hospital-activity", "stats.population-estimates", "notice-1"],  # + one downstream
            change={
                "dataset_id": "stats.hospital-activity",
                "severity": "MAJOR",
                "description": "Q3 counts double-counted transfers",
            },
            at=activity.ctx.clock(),
        )

    activity.store.write(correct)

    latest = history(gql, "stats.hospital-activity")[-1]

    assert (latest["action"], latest["severity"], latest["version"]) == ("issue_correction", "MAJOR", 3)
    assert latest["reason"] == "Q3 counts double-counted transfers"
    assert latest["change"] == []
    assert [e["action"] for e in history(gql, "stats.population-estimates")] == ["register_dataset", "assign_steward"]


def test_anonymous_viewers_see_public_history_but_not_who_changed_it(gql: Gql) -> None:
    entries = history(gql, "stats.hospital-activity", as_=None)

    assert len(entries) == 5
    assert {e["by"] for e in entries} == {None}


def test_history_of_a_hidden_dataset_is_not_found(gql: Gql) -> None:
    body = gql(HISTORY, {"id": "health.admissions"}, as_=None)

    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_an_auditor_pages_through_the_whole_chain(activity: Services, gql: Gql) -> None:
    size = verify_store(activity.store).count
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = gql(TRAIL, {"first": 25, "after": after})["data"]["auditTrail"]
        seen += [edge["node"] for edge in page["edges"]]
        assert page["totalCount"] == size
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert [node["sequence"] for node in seen] == list(range(1, size + 1))
    assert all(later["prevHash"] == earlier["hash"] for earlier, later in itertools.pairwise(seen))


def test_filters_narrow_the_trail(activity: Services, gql: Gql) -> None:
    def trail(**filter: Any) -> list[dict[str, Any]]:
        page = gql(TRAIL, {"f": filter, "first": 100})["data"]["auditTrail"]
        return [edge["node"] for edge in page["edges"]]

    about = trail(targetId="stats.hospital-activity")
    decided = trail(action="decide_access")
    by_priya = trail(principal="priya.stats")
    window = trail(principal="priya.stats", **{"from": by_priya[0]["at"], "to": by_priya[-1]["at"]})

    assert {"register_dataset", "assign_steward", "update_dataset", "record_lineage"} <= {e["action"] for e in about}
    assert all("stats.hospital-activity" in e["targetIds"] for e in about)
    assert [(e["principalId"], json.loads(e["change"])["outcome"]) for e in decided[-3:]] == [  # after the demo's
        ("uma.uni", "PERMIT"),
        ("rui.uni", "DENY"),
        ("uma.uni", "DENY"),
    ]
    assert all(e["decisionId"] for e in decided)
    assert {e["principalId"] for e in by_priya} == {"priya.stats"}
    assert [e["action"] for e in by_priya][-4:] == [
        "decide_update_dataset",
        "update_dataset",
        "decide_update_dataset",
        "update_dataset",
    ]
    assert window == [e for e in by_priya if e["at"] < by_priya[-1]["at"]]  # `from` is inclusive, `to` exclusive


def test_others_read_only_their_own_events(gql: Gql) -> None:
    own = gql(TRAIL, {"first": 100}, as_="uma.uni")["data"]["auditTrail"]
    someone_elses = gql(TRAIL, {"f": {"principal": "priya.stats"}}, as_="uma.uni")["data"]["auditTrail"]

    assert {edge["node"]["principalId"] for edge in own["edges"]} == {"uma.uni"}
    as_the_auditor_reads_them = gql(TRAIL, {"f": {"principal": "uma.uni"}, "first": 100})["data"]["auditTrail"]
    assert own["totalCount"] == as_the_auditor_reads_them["totalCount"] >= 2
    assert someone_elses["totalCount"] == 0


def test_anonymous_callers_may_not_read_the_trail(gql: Gql) -> None:
    body = gql(TRAIL, {"first": 5}, as_=None)

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None
