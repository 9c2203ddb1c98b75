"""Hidden is missing: every read and write path, asked for a dataset the caller may not see and for one that does
not exist, answers the same (same status, same code, same message with the id in its place), on both backends.

Callers: anonymous, a partner agency's analyst, and a steward of another agency. `admissions` (PROTECTED, health)
is hidden from all three. Each path asks with what would otherwise trip a later check (an unknown field, a bad
classification), so an answer that validated anything about the hidden dataset first would differ.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.cli import cli
from catalog.store.base import GraphStore
from tests.trust.conftest import HIDDEN, MISSING, Trust, run_event

CALLERS = [None, "analyst.social", "steward.social"]
ACCESS = '{datasetId: "ID", purpose: "RESEARCH", accessMethod: SECURE_ENCLAVE, fields: ["region", "shoe_size"]}'
GRAPHQL: dict[str, str] = {
    "dataset": '{ dataset(id: "ID") { id title history { action } } }',
    "lineage": '{ lineage(datasetId: "ID", direction: BOTH, depth: 2) { nodes { id } } }',
    "lineagePath from": '{ lineagePath(fromId: "ID", toId: "clinics") { nodes { id } } }',
    "lineagePath to": '{ lineagePath(fromId: "clinics", toId: "ID") { nodes { id } } }',
    "impact": '{ impact(datasetId: "ID", depth: 3) { datasets { id } } }',
    "provenance": '{ provenance(datasetId: "ID", format: PROV_JSON) }',
    "explainAccess": f"{{ explainAccess(input: {ACCESS}) {{ outcome reason }} }}",
    "decisions about it": '{ decisions(filter: {dataset: "ID"}) { totalCount } }',
    "agreements covering it": '{ agreements(filter: {dataset: "ID"}) { totalCount } }',
    "checkAccess": f"mutation {{ checkAccess(input: {ACCESS}) {{ outcome reason }} }}",
    "requestShare": """mutation { requestShare(input: {datasetIds: ["ID"], recipientAgencyId: "social",
        purpose: "RESEARCH", legalBasis: {article6: PUBLIC_TASK}, accessMethod: SECURE_ENCLAVE,
        fields: ["shoe_size"], validUntil: "2999-01-01T00:00:00Z"}) { status } }""",
    "updateDataset": """mutation { updateDataset(id: "ID", input: {classification: "NO_SUCH_LEVEL"}) { id } }""",
    "assignSteward": 'mutation { assignSteward(datasetId: "ID", personId: "steward.social") { id } }',
    "unassignSteward": 'mutation { unassignSteward(datasetId: "ID", personId: "steward.health") { id } }',
    "recordLineage input": """mutation { recordLineage(input: {id: "p-probe", name: "probe", inputs: ["ID"],
        outputs: ["cases"]}) { id } }""",
    "recordLineage output": """mutation { recordLineage(input: {id: "p-probe", name: "probe", inputs: ["cases"],
        outputs: ["ID"]}) { id } }""",
    "issueCorrection": 'mutation { issueCorrection(datasetId: "ID", description: "probe", severity: MAJOR) { id } }',
}
PAGES = ["/datasets/ID", "/datasets/ID/lineage", "/datasets/ID/impact", "/datasets/ID/lineage.svg"]


def same_shape(answer: Any, id: str) -> str:
    """The answer with the id asked about replaced, and what differs on every request left out."""
    text = json.dumps(answer, sort_keys=True).replace(id, "ID")
    return re.sub(r'"requestId": "[0-9a-f]+"|request id [0-9a-f]+', "REQUEST", text)


def graphql(trust: Trust, caller: str | None, query: str) -> Callable[[str], Any]:
    return lambda id: trust.gql(query.replace('"ID"', json.dumps(id)), as_=caller)


def ol_event(id: str) -> dict[str, Any]:
    return run_event(("probe", "probe"), read=("catalog", id), written=("catalog", "cases"))


def openlineage(trust: Trust, caller: str | None) -> Callable[[str], Any]:
    def ask(id: str) -> Any:
        headers = {"Authorization": f"Bearer {trust.token(caller)}"} if caller else {}
        response = trust.client.post("/api/v1/lineage", json=ol_event(id), headers=headers)
        return response.status_code, response.json()

    return ask


def page(trust: Trust, caller: str | None, path: str) -> Callable[[str], Any]:
    def ask(id: str) -> Any:
        response = trust.client.get(path.replace("ID", id))
        return response.status_code, response.text

    return ask


def explain_cli(store: GraphStore, caller: str) -> Callable[[str], Any]:
    uri = getattr(store, "uri", None) or f"sqlite:///{getattr(store, 'path', '')}"

    def ask(id: str) -> Any:
        result = CliRunner().invoke(
            cli,
            ["policy", "explain", "--as", caller, "--dataset", id, "--fields", "region,shoe_size"],
            env={"CATALOG_STORE": uri},
        )
        return result.exit_code, str(result.exception or ""), result.output

    return ask


def sign_in(trust: Trust, caller: str | None) -> None:
    trust.client.post("/signout", data={"csrf_token": csrf(trust)})
    if caller:
        trust.client.post("/signin", data={"csrf_token": csrf(trust), "token": trust.token(caller)})


def csrf(trust: Trust) -> str:
    from tests.web.conftest import csrf_of

    return csrf_of(trust.client.get("/signin").text)


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "anonymous")
def test_a_hidden_dataset_answers_exactly_as_a_missing_one_everywhere(
    trust: Trust, store: GraphStore, caller: str | None
) -> None:
    paths: dict[str, Callable[[str], Any]] = {name: graphql(trust, caller, q) for name, q in GRAPHQL.items()}
    paths["POST /api/v1/lineage"] = openlineage(trust, caller)
    if caller:
        paths["catalog policy explain"] = explain_cli(store, caller)
    sign_in(trust, caller)
    paths.update({f"GET {path}": page(trust, caller, path) for path in PAGES})
    differ = {}
    for name, ask in paths.items():
        hidden, missing = same_shape(ask(HIDDEN), HIDDEN), same_shape(ask(MISSING), MISSING)
        if hidden != missing:
            differ[name] = (hidden[:400], missing[:400])
    assert differ == {}
    # The hidden dataset is untouched by all of it: no steward, no lineage, no correction was added.
    assert trust.services.reads.stewards_of([HIDDEN])[HIDDEN] == ["steward.health"]
