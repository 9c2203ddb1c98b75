"""Replicas on one store: three `catalog serve` processes on one Neo4j, two on one SQLite file, driven at once.

The replicas share only the store. Each reads its own copy of the policy files, a line apart, so each has its own
policy version, as in a rolling deploy: a decision names the version of the replica that made it. Writes and
reads go to every replica concurrently (registrations, share requests approved on one replica while rejected on
another, renewals racing revocations, checkAccess everywhere); afterwards every acknowledged write is there, every
race has one winner, and the audit trail is one gap-free chain. The servers are shared by the module's tests.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.client import BOOKMARK_HEADER, CatalogClient, RemoteError
from tests.e2e.conftest import REPO, CatalogServer, ServerGroup, fresh_store
from tests.e2e.test_audit import tokens
from tests.e2e.test_lineage import Receiver, set_webhooks
from tests.support.racing import race as racing

REPLICAS = {"sqlite": 2, "neo4j": 3}
PEOPLE = ("alice.health", "hamid.health", "grace.health", "uma.uni", "auditor")
RELOAD_S = 0.5
SETTINGS = {
    "CATALOG_POLICY_RELOAD_INTERVAL_S": str(RELOAD_S),
    "CATALOG_WEBHOOKS__POLL_INTERVAL_S": "0.2",
    "CATALOG_WEBHOOKS__BACKOFF_S": "0.2",
    "CATALOG_WEBHOOKS__ATTEMPTS": "50",
}
WAIT_S = 60.0

REGISTER = "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { id } }"
STEWARD = 'mutation($d: ID!) { assignSteward(datasetId: $d, personId: "hamid.health") { id } }'
CHECK = """mutation($d: ID!) { checkAccess(input: {datasetId: $d, purpose: "RESEARCH", accessMethod: SECURE_ENCLAVE})
           { id outcome policyVersion } }"""
REQUEST = "mutation($i: RequestShareInput!) { requestShare(input: $i) { id status } }"
APPROVE = "mutation($id: ID!) { approveShare(requestId: $id) { status } }"
REJECT = 'mutation($id: ID!) { rejectShare(requestId: $id, reason: "Not this quarter") { status } }'
RENEW = "mutation($id: ID!, $until: DateTime!) { renewAgreement(id: $id, validUntil: $until) { status } }"
REVOKE = 'mutation($id: ID!) { revokeAgreement(id: $id, reason: "Breach BR-7") { status } }'
DECISIONS = """query($f: DecisionFilterInput) { decisions(filter: $f, first: 100) {
               edges { node { id outcome policyVersion request { action } } } } }"""


@dataclass
class Cluster:
    backend: str
    group: ServerGroup
    replicas: list[CatalogServer]
    versions: list[str]  # the policy version each replica loaded, by index
    token: dict[str, str]
    folder: Path

    def client(self, n: int, person: str, bookmark: str | None = None) -> CatalogClient:
        return CatalogClient(self.replicas[n % len(self.replicas)].url, token=self.token[person], bookmark=bookmark)


def policy_copy(folder: Path, note: str) -> Path:
    """The shipped policy, copied, with a comment that gives the copy a version of its own."""
    shutil.copytree(REPO / "policies", folder)
    with (folder / "rules" / "40-sharing.yaml").open("a") as rules:
        rules.write(f"\n# {note}\n")
    return folder


@pytest.fixture(scope="module", params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp(f"replicas-{request.param}")
    group = ServerGroup(fresh_store(request, request.param, folder), folder)
    try:
        replicas = [
            group.start({**SETTINGS, "CATALOG_POLICY_DIR": str(policy_copy(folder / f"policy-{n}", f"replica {n}"))},
                        demo=n == 0)
            for n in range(REPLICAS[request.param])
        ]
        token = tokens(replicas[0], *PEOPLE)
        versions = []
        for server in replicas:
            with CatalogClient(server.url, token=token["auditor"]) as auditor:
                versions.append(auditor.execute("{ policy { version } }")["policy"]["version"])
        assert len(set(versions)) == len(replicas), versions
        yield Cluster(request.param, group, replicas, versions, token, folder)
    finally:
        group.stop_and_verify()


def race(*calls: Callable[[], Any]) -> list[Any]:
    """The calls at once, each on its own thread; a catalog's refusal (RemoteError) is a result, not a failure."""
    return racing(*calls, refused=RemoteError)

def attempt(client: CatalogClient, query: str, variables: dict[str, Any]) -> dict[str, Any] | RemoteError:
    """The data, or the error the catalog answered."""
    try:
        return client.execute(query, variables)
    except RemoteError as exc:
        return exc


def send(cluster: Cluster, n: int, person: str, query: str, variables: dict[str, Any]) -> Callable[[], Any]:
    def run() -> Any:
        with cluster.client(n, person) as client:
            return client.execute(query, variables)

    return run


def dataset_input(id: str) -> dict[str, Any]:
    return {
        "id": id,
        "title": f"Waiting times {id}",
        "ownerAgencyId": "health",
        "classification": "OFFICIAL",
        "legalBasis": {"article6": "PUBLIC_TASK"},
        "permittedPurposes": ["RESEARCH"],
        "fields": [{"name": "region"}],
    }


def share_input(dataset_id: str) -> dict[str, Any]:
    return {
        "datasetIds": [dataset_id],
        "recipientAgencyId": "uni",
        "purpose": "RESEARCH",
        "legalBasis": {"article6": "PUBLIC_TASK"},
        "accessMethod": "SECURE_ENCLAVE",
        "fields": ["region"],
        "justification": "Waiting times by region",
        "validUntil": (datetime.now(UTC) + timedelta(days=90)).isoformat(),
    }


def register_and_check(cluster: Cluster, n: int, ids: list[str]) -> tuple[list[tuple[str, str | None]], list[Any]]:
    """On replica n: the data owner registers `ids` (each with a steward) while an analyst checks access to each.
    Returns the acknowledged ids with the bookmark after each, and the decisions checkAccess answered."""
    acknowledged, checks = [], []
    with cluster.client(n, "alice.health") as owner, cluster.client(n, "uma.uni") as analyst:
        for id in ids:
            if not isinstance(attempt(owner, REGISTER, {"i": dataset_input(id)}), RemoteError):
                acknowledged.append((id, owner.bookmark))
                owner.execute(STEWARD, {"d": id})
            checks.append(attempt(analyst, CHECK, {"d": "health.admissions-deid"}))
    return acknowledged, checks


def decisions_about(cluster: Cluster, dataset_id: str, action: str) -> list[dict[str, Any]]:
    with cluster.client(0, "auditor") as auditor:
        edges = auditor.execute(DECISIONS, {"f": {"dataset": dataset_id, "action": action}})["decisions"]["edges"]
    return [edge["node"] for edge in edges]


@pytest.mark.timeout(900)
def test_concurrent_writes_on_every_replica_all_land_races_serialize_and_the_chain_is_one(cluster: Cluster) -> None:
    count = len(cluster.replicas)
    ids = {n: [f"health.waits-{n}-{i}" for i in range(2)] for n in range(count)}

    with ThreadPoolExecutor(count) as pool:
        written = dict(zip(ids, pool.map(lambda n: register_and_check(cluster, n, ids[n]), ids), strict=True))
    acknowledged = [(n, id, bookmark) for n, (acks, _) in written.items() for id, bookmark in acks]
    dataset_ids = [id for _, id, _ in acknowledged]
    requests = race(*(send(cluster, k, "uma.uni", REQUEST, {"i": share_input(id)}) for k, id in enumerate(dataset_ids)))
    # Each request: its steward approves on one replica while an approver rejects it on the next.
    verdicts = race(
        *(
            send(cluster, k + way, person, query, {"id": request["requestShare"]["id"]})
            for k, request in enumerate(requests)
            for way, (person, query) in enumerate((("hamid.health", APPROVE), ("grace.health", REJECT)))
        )
    )
    with cluster.client(0, "auditor") as auditor:
        outcome = [auditor.execute("query($id: ID!) { shareRequest(id: $id) { status agreementId approvals { id } } }",
                                   {"id": r["requestShare"]["id"]})["shareRequest"] for r in requests]
    agreements = [o["agreementId"] for o in outcome if o["agreementId"]]
    until = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    # Each agreement: a renewal on one replica races revocations on every replica.
    lifecycle = race(
        *(
            call
            for k, agreement in enumerate(agreements)
            for call in (
                send(cluster, k, "alice.health", RENEW, {"id": agreement, "until": until}),
                *(send(cluster, k + 1 + r, "grace.health", REVOKE, {"id": agreement}) for r in range(count)),
            )
        )
    )
    with cluster.client(0, "auditor") as auditor:
        ended = [auditor.execute("query($id: ID!) { agreement(id: $id) { status version } }", {"id": a})["agreement"]
                 for a in agreements]

    # Every acknowledged write is there, read on another replica with the writer's bookmark.
    assert len(acknowledged) == 2 * count
    for n, id, bookmark in acknowledged:
        with cluster.client(n + 1, "auditor", bookmark) as elsewhere:
            assert elsewhere.execute("query($id: ID!) { dataset(id: $id) { id } }", {"id": id})["dataset"] == {"id": id}
    # Races serialize: one verdict per request, and the loser is told the request was no longer pending.
    assert all("requestShare" in r for r in requests), requests
    for k, found in enumerate(outcome):
        approve, reject = verdicts[2 * k], verdicts[2 * k + 1]
        winners = [v for v in (approve, reject) if not isinstance(v, Exception)]
        assert len(winners) == 1 and len(found["approvals"]) == 1, (approve, reject)
        loser = reject if winners[0] is approve else approve
        assert isinstance(loser, RemoteError) and loser.code == "CONFLICT", loser
        assert found["status"] == ("APPROVED" if winners[0] is approve else "REJECTED")
        assert (found["agreementId"] is not None) == (found["status"] == "APPROVED")
    for k, agreement in enumerate(ended):
        renewal, revocations = lifecycle[k * (count + 1)], lifecycle[k * (count + 1) + 1 : (k + 1) * (count + 1)]
        renewed = not isinstance(renewal, Exception)
        assert len([r for r in revocations if not isinstance(r, Exception)]) == 1, revocations
        assert agreement == {"status": "REVOKED", "version": 2 + renewed}
    # Every decision names the version its replica had loaded.
    for n, (_, checks) in written.items():
        assert {c["checkAccess"]["policyVersion"] for c in checks} == {cluster.versions[n]}
    for n, id, _ in acknowledged:
        [registered] = decisions_about(cluster, id, "register_dataset")
        assert registered["policyVersion"] == cluster.versions[n]
    # One chain: sequence numbers 1..N with no gap, and `catalog audit verify` accepts it.
    export = cluster.folder / "trail.jsonl"
    exported = cluster.replicas[0].run_cli("audit", "export", "--out", str(export))
    verified = cluster.replicas[-1].run_cli("audit", "verify")
    sequences = [json.loads(line)["sequence"] for line in export.read_text().splitlines()]
    assert exported.returncode == 0 and verified.returncode == 0, exported.stderr + verified.stdout + verified.stderr
    assert sorted(sequences) == list(range(1, len(sequences) + 1))
    assert verified.stdout.startswith(f"audit trail intact: {len(sequences)} events")


def post(server: CatalogServer, token: str, query: str, variables: dict[str, Any], bookmark: str | None = None
         ) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", **({BOOKMARK_HEADER: bookmark} if bookmark else {})}
    return httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables}, headers=headers,
                      timeout=30)


def test_a_write_answers_a_bookmark_that_every_replica_honours(cluster: Cluster) -> None:
    first, last = cluster.replicas[0], cluster.replicas[-1]
    owner = cluster.token["alice.health"]
    read = 'query { a: dataset(id: "health.bookmarked-1") { id } b: dataset(id: "health.bookmarked-2") { id } }'

    wrote = post(first, owner, REGISTER, {"i": dataset_input("health.bookmarked-1")})
    bookmark = wrote.headers.get(BOOKMARK_HEADER)
    if cluster.backend == "sqlite":  # one file: nothing to wait for, so no bookmark, and one sent is ignored
        anyway = post(last, owner, read, {}, bookmark="not a bookmark")
        assert (bookmark, "extensions" in wrote.json()) == (None, False)
        assert anyway.status_code == 200 and anyway.json()["data"]["a"] == {"id": "health.bookmarked-1"}
        return
    later = post(last, owner, REGISTER, {"i": dataset_input("health.bookmarked-2")}, bookmark=bookmark)
    later_bookmark = later.headers.get(BOOKMARK_HEADER)
    both = post(first, owner, read, {}, bookmark=later_bookmark)
    malformed = post(first, owner, read, {}, bookmark="not a bookmark")
    unreadable = post(first, owner, read, {}, bookmark="FB:AAAA")  # has the form; only the database can refuse it

    assert bookmark and wrote.json()["extensions"] == {"bookmark": bookmark}
    assert later_bookmark and later_bookmark != bookmark
    assert both.status_code == 200 and both.json()["data"] == {
        "a": {"id": "health.bookmarked-1"},
        "b": {"id": "health.bookmarked-2"},
    }
    assert BOOKMARK_HEADER not in both.headers  # a read makes no bookmark of its own
    assert malformed.status_code == 400, malformed.text  # refused before anything runs
    for refused in (malformed, unreadable):  # the second by the database, as each field read the store
        problems = {(e["extensions"]["code"], e["extensions"]["field"]) for e in refused.json()["errors"]}
        assert problems == {("BAD_USER_INPUT", BOOKMARK_HEADER)}, refused.text
        assert not any((refused.json().get("data") or {}).values())


def check_until(cluster: Cluster, server: CatalogServer, stop: threading.Event) -> list[dict[str, Any]]:
    """checkAccess on `server` until `stop` is set (at most 400 requests): the decisions it made, in order."""
    made = []
    with CatalogClient(server.url, token=cluster.token["uma.uni"]) as analyst:
        for _ in range(400):
            if stop.is_set():
                break
            made.append(analyst.execute(CHECK, {"d": "health.admissions-deid"})["checkAccess"])
    return made


@pytest.mark.timeout(600)
def test_after_a_policy_edit_no_replica_decides_under_the_old_version_past_the_reload_interval(
    cluster: Cluster,
) -> None:
    shared = policy_copy(cluster.folder / "policy-shared", "shared by two replicas")
    two = [cluster.group.start({**SETTINGS, "CATALOG_POLICY_DIR": str(shared)}) for _ in range(2)]
    stop = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        load = [pool.submit(check_until, cluster, server, stop) for server in two]
        time.sleep(1.0)  # decisions under the first version, on both replicas
        with (shared / "rules" / "40-sharing.yaml").open("a") as rules:
            rules.write("# an edit while under load\n")
        edited = datetime.now(UTC)  # the edit is on disk by now
        time.sleep(4 * RELOAD_S)
        stop.set()
        made = [future.result() for future in load]

    with CatalogClient(two[0].url, token=cluster.token["auditor"]) as auditor:
        recorded = [
            auditor.execute("query($id: ID!) { decision(id: $id) { at policyVersion } }", {"id": d["id"]})["decision"]
            for by_one in made
            for d in by_one
        ]
    before = made[0][0]["policyVersion"]
    old = [datetime.fromisoformat(d["at"]) for d in recorded if d["policyVersion"] == before]
    # The guarantee: no decision under the old version later than the reload interval after the files changed,
    # so none later than that after another replica first decided under the new one (which it cannot do before
    # the change). Decisions are timed when they start, before the policy is consulted: that only makes them
    # earlier.
    assert old and max(old) < edited + timedelta(seconds=RELOAD_S), (max(old), edited)
    assert len({d["policyVersion"] for d in recorded}) == 2
    assert all(by_one[-1]["policyVersion"] != before for by_one in made)  # both replicas moved on


def test_outbox_deliveries_reach_a_healthy_receiver_once_whichever_replica_sends_them(cluster: Cluster) -> None:
    receiver, stopped = Receiver(), cluster.replicas[-1]
    try:
        set_webhooks(cluster.replicas[0], {"uni": f"{receiver.url}/ok/uni", "stats": f"{receiver.url}/switch/stats"})
        notices = race(
            *(
                send(cluster, n, "hamid.health", """mutation($d: String!) { issueCorrection(datasetId:
                     "health.admissions", severity: MAJOR, description: $d) { id } }""", {"d": f"Fix {n}"})
                for n in range(len(cluster.replicas))
            )
        )
        ids = sorted(n["issueCorrection"]["id"] for n in notices)
        stats = [f"{id}.stats" for id in ids]
        wait_for(lambda: receiver.hits.get("/switch/stats", 0) >= len(ids))  # each failed at least once
        stopped.stop()  # a replica stops while deliveries are still owed: the others take them over
        receiver.switched_on = True
        query = "{ notices(first: 50) { edges { node { id deliveries { agencyId delivered } } } } }"
        with CatalogClient(cluster.replicas[0].url, token=cluster.token["auditor"]) as auditor:

            def delivered() -> dict[str, list[dict[str, Any]]]:
                edges = auditor.execute(query)["notices"]["edges"]
                return {e["node"]["id"]: e["node"]["deliveries"] for e in edges if e["node"]["id"] in ids}

            # Once every row is recorded delivered no try can be in flight: a row is tried only under a claim.
            wait_for(lambda: sum(d["delivered"] for tries in delivered().values() for d in tries) >= 2 * len(ids))
            attempts = delivered()
    finally:
        receiver.close()
        cluster.replicas.remove(stopped)

    assert sorted(receiver.deliveries) == sorted([f"{id}.uni" for id in ids] + stats)  # each exactly once
    for id in ids:
        tries = [d["delivered"] for d in attempts[id] if d["agencyId"] == "stats"]
        assert tries.count(True) == 1 and len(tries) >= 2, tries


def wait_for(condition: Callable[[], bool]) -> None:
    """Poll until `condition` holds; fail after WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.1)
