"""The audit trail end to end: `catalog serve` as real processes on both backends, a realistic mix of mutations
and decisions over HTTP (some in parallel, against two replicas), then `catalog audit verify` on the result, and an
export that verifies offline against a signed checkpoint.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from catalog.client import CatalogClient, RemoteError
from tests.e2e.conftest import catalog_env, run_catalog

if TYPE_CHECKING:
    from tests.e2e.conftest import CatalogServer, StartServer

CHECK = "mutation($i: AccessInput!) { checkAccess(input: $i) { id outcome } }"
UPDATE = """mutation($id: ID!, $i: UpdateDatasetInput!, $r: String) {
             updateDataset(id: $id, input: $i, reason: $r) { version } }"""
REGISTER = "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { id } }"
DEID = {"datasetId": "health.admissions-deid", "purpose": "RESEARCH", "accessMethod": "SECURE_ENCLAVE"}
INTACT = "audit trail intact: "


@pytest.fixture
def key_env(tmp_path: Path) -> dict[str, str]:
    return {"CATALOG_AUDIT__SIGNING_KEY_FILE": str(tmp_path / "keys" / "audit-signing-key.pem")}


def tokens(server: CatalogServer, *people: str) -> dict[str, str]:
    """A bearer token for each person, from `catalog token issue` (run side by side: each is a process start)."""

    def issue(person: str) -> str:
        issued = server.run_cli("token", "issue", "--person", person)
        assert issued.returncode == 0, issued.stderr
        return issued.stdout.strip()

    with ThreadPoolExecutor(len(people)) as pool:
        return dict(zip(people, pool.map(issue, people), strict=True))


def verified_count(server: CatalogServer) -> int:
    """Run `catalog audit verify` against the server's store; it must pass. Returns the event count."""
    result = server.run_cli("audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(INTACT), result.stdout
    return int(result.stdout.removeprefix(INTACT).split(" ", 1)[0])


def attempt(client: CatalogClient, query: str, variables: dict[str, Any]) -> str | None:
    """Run a mutation; the error code when it is refused, None when it succeeds."""
    try:
        client.execute(query, variables)
    except RemoteError as exc:
        return exc.code
    return None


def test_a_working_day_over_http_leaves_a_trail_that_verifies(
    start_server: StartServer, key_env: dict[str, str]
) -> None:
    served = start_server(key_env, demo=True)
    start = verified_count(served)
    issued = tokens(served, "admin", "auditor", "uma.uni", "rui.uni", "ben.stats", "dan.city")
    outcomes: list[str | None] = []
    with CatalogClient(served.url, token=issued["admin"]) as admin:
        outcomes.append(
            attempt(admin, 'mutation { registerAgency(input: {id: "transport", name: "Transport"}) { id } }', {})
        )
        outcomes.append(
            attempt(
                admin,
                """mutation { registerPerson(input: {id: "olu.transport", name: "Olu Bello", email: "olu@transport.gov",
                   agencyId: "transport", roles: [DATA_OWNER, STEWARD]}) { id } }""",
                {},
            )
        )
    with CatalogClient(served.url, token=tokens(served, "olu.transport")["olu.transport"]) as owner:
        trips = {
            "id": "transport.trips",
            "title": "Trips",
            "ownerAgencyId": "transport",
            "classification": "OFFICIAL",
            "fields": [{"name": "stop_id"}, {"name": "card_id", "pii": "DIRECT_IDENTIFIER"}],
        }
        outcomes.append(attempt(owner, REGISTER, {"i": trips}))
        outcomes.append(attempt(owner, REGISTER, {"i": {**trips, "id": "transport.daily", "title": "Daily counts"}}))
        outcomes.append(
            attempt(
                owner, 'mutation { assignSteward(datasetId: "transport.trips", personId: "olu.transport") { id } }', {}
            )
        )
        outcomes.append(
            attempt(
                owner,
                """mutation { recordLineage(input: {id: "job.daily", name: "daily counts", kind: AGGREGATE,
                   runId: "r1", inputs: ["transport.trips"], outputs: ["transport.daily"]}) { id } }""",
                {},
            )
        )
        outcomes.append(attempt(owner, UPDATE, {"id": "transport.daily", "i": {"classification": "PUBLIC"}}))
        outcomes.append(
            attempt(
                owner,
                UPDATE,
                {"id": "transport.daily", "i": {"classification": "PUBLIC"}, "r": "Aggregated, no small cells"},
            )
        )
        outcomes.append(attempt(owner, 'mutation { registerAgency(input: {id: "x", name: "X"}) { id } }', {}))
    for person, request in (
        ("uma.uni", DEID),
        ("rui.uni", DEID),
        ("uma.uni", {**DEID, "accessMethod": "DOWNLOAD"}),
        ("ben.stats", {"datasetId": "social.housing-cases", "purpose": "STATISTICS", "accessMethod": "SECURE_ENCLAVE"}),
        ("dan.city", {"datasetId": "social.housing-cases", "purpose": "SERVICE_DELIVERY", "accessMethod": "API"}),
    ):
        with CatalogClient(served.url, token=issued[person]) as client:
            outcomes.append(attempt(client, CHECK, {"i": request}))
    with CatalogClient(served.url, token=issued["auditor"]) as auditor:
        trail = auditor.execute(
            '{ auditTrail(filter: {targetId: "transport.daily"}) { totalCount edges { node { action } } } }'
        )
        history = auditor.execute('{ dataset(id: "transport.daily") { history { version by action reason } } }')

    refused = [code for code in outcomes if code]
    assert refused == ["BAD_USER_INPUT", "FORBIDDEN"]  # the update without its reason; an owner registering agencies
    # Each change is two events, its decision's and its own; registering olu also decides each of two roles.
    # A check is its decision's one. The update without a reason wrote nothing; the refused registration, its
    # decision: 2 + (3 + 1) + 2 + 2 + 2 + 2 + 0 + 2 + 1 + 5 checks.
    assert verified_count(served) == start + 22
    assert [e["node"]["action"] for e in trail["auditTrail"]["edges"]] == [
        "decide_register_dataset",
        "register_dataset",
        "decide_record_lineage",
        "record_lineage",
        "decide_update_dataset",
        "update_dataset",
    ]
    assert history["dataset"]["history"] == [
        {"version": 1, "by": "olu.transport", "action": "register_dataset", "reason": None},
        {"version": 2, "by": "olu.transport", "action": "update_dataset", "reason": "Aggregated, no small cells"},
    ]


def test_parallel_mutations_against_two_replicas_never_fork_or_gap(
    start_server: StartServer, key_env: dict[str, str]
) -> None:
    replicas = [start_server(key_env, demo=True), start_server(key_env)]
    start = verified_count(replicas[0])
    issued = tokens(replicas[0], "uma.uni", "rui.uni", "priya.stats", "carla.city")

    def writer(n: int) -> list[str | None]:
        server = replicas[n % 2]
        results = []
        with (
            CatalogClient(server.url, token=issued["uma.uni" if n % 2 else "rui.uni"]) as analyst,
            CatalogClient(server.url, token=issued["priya.stats"]) as owner,
            CatalogClient(server.url, token=issued["carla.city"]) as city,
        ):
            for i in range(4):
                results.append(attempt(analyst, CHECK, {"i": DEID}))
                limitation = {"knownLimitations": f"writer {n} pass {i}"}
                results.append(attempt(owner, UPDATE, {"id": "stats.population-estimates", "i": limitation}))
                dataset = {"id": f"city.sensors-{n}-{i}", "title": f"Sensors {n}/{i}", "ownerAgencyId": "city"}
                results.append(attempt(city, REGISTER, {"i": dataset}))
        return results

    with ThreadPoolExecutor(8) as pool:
        outcomes = [code for batch in pool.map(writer, range(8)) for code in batch]

    assert outcomes == [None] * len(outcomes)
    # Per pass: a check (its decision's event), an update and a registration (a decision's event and a change's).
    assert verified_count(replicas[1]) == start + len(outcomes) // 3 * (1 + 2 + 2)


def test_an_export_verifies_offline_against_an_earlier_checkpoint(
    start_server: StartServer, key_env: dict[str, str], tmp_path: Path
) -> None:
    served = start_server(key_env, demo=True)
    checkpoint, export, public_key = tmp_path / "checkpoint.json", tmp_path / "trail.jsonl", tmp_path / "audit.pub"
    signed = served.run_cli("audit", "checkpoint", "--out", str(checkpoint))
    with CatalogClient(served.url, token=tokens(served, "uma.uni")["uma.uni"]) as analyst:
        analyst.execute(CHECK, {"i": DEID})
    exported = served.run_cli("audit", "export", "--out", str(export))
    published = served.run_cli("audit", "public-key", "--out", str(public_key))
    # An auditor's machine: no store, no signing key; only the export, the checkpoint and the public key.
    offline_env = catalog_env({"CATALOG_STORE": "neo4j://127.0.0.1:9", "CATALOG_AUDIT__SIGNING_KEY_FILE": "/none"})

    offline = run_catalog(
        offline_env,
        "audit",
        "verify",
        "--export",
        str(export),
        "--checkpoint",
        str(checkpoint),
        "--public-key",
        str(public_key),
    )

    assert (signed.returncode, exported.returncode, published.returncode) == (0, 0, 0), signed.stderr + exported.stderr
    size = json.loads(checkpoint.read_text())["size"]
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.startswith(f"{INTACT}{size + 1} events")
    assert f"extends the checkpoint of {size} events" in offline.stdout
