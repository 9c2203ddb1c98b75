"""The README's Quickstart and "A first query", run as written against a fresh demo store on each backend.

The shell blocks are read from README.md and run with bash. The Quickstart's first command makes the environment
this suite runs in (venv, pip install), then runs `catalog demo` and `catalog serve`: those two run here, the
server on a free loopback port chosen through CATALOG_PORT, as the Quickstart says to change the port. The
first query's blocks then run against that server (its URL in place of http://127.0.0.1:8000), and every
outcome the text states is asserted: the PERMIT, the DENY and what its reason names, and each row of the table
of outcomes. One server per backend serves the whole module.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ensure_tool, skip_or_fail
from tests.e2e.conftest import (
    BACKENDS,
    CLI_TIMEOUT_S,
    HOST,
    REPO,
    CatalogServer,
    catalog_env,
    free_port,
    fresh_store,
    run_catalog,
    wait_until_ready,
)

README_URL = "http://127.0.0.1:8000"
VENV_BIN = ".venv/bin/"
# The Quickstart's first command, step by step. The first two make the environment this suite runs in.
ENVIRONMENT_STEPS = ["python3 -m venv .venv", ".venv/bin/python -m pip install -q -e ."]
DEMO, DEV_MODE, SERVE = ".venv/bin/catalog demo", "CATALOG_DEV_MODE=true", ".venv/bin/catalog serve"
BLOCK_END = "----- end of README block -----"
CHECK_ACCESS = re.compile(
    r'datasetId: "(?P<dataset>[^"]+)", purpose: "(?P<purpose>[^"]+)", accessMethod: (?P<method>\w+)'
)


def section(title: str) -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index(f"\n## {title}\n")
    return readme[start : readme.index("\n## ", start + 1)]


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def as_run_here(command: str, server_url: str | None = None) -> str:
    """The README's command with this environment's scripts, and the test server's URL for the README's."""
    command = command.replace(VENV_BIN, f"{Path(sys.executable).parent}/")
    return command.replace(README_URL, server_url) if server_url else command


@dataclass(frozen=True)
class Outcome:
    """One row of the README's table of outcomes."""

    person: str
    dataset: str
    purpose: str
    method: str
    outcome: str
    deny_kind: str | None
    decided_by: str  # the deciding rule, or a failed condition
    says: str  # words of the reason

    @classmethod
    def from_row(cls, row: str) -> Outcome:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        person, dataset, purpose, method, outcome, by, says = cells
        verdict = re.fullmatch(r"(PERMIT|DENY)(?: \((EXPLICIT|IMPLICIT)\))?", outcome)
        decided_by, quoted = re.fullmatch(r"`([^`]+)`", by), re.match(r'"([^"]+)"', says)
        assert verdict and decided_by and quoted, f"cannot read the README's outcome row: {row}"
        return cls(person, dataset, purpose, method, verdict[1], verdict[2], decided_by[1], quoted[1])

    def assert_matches(self, decision: dict[str, Any]) -> None:
        assert (decision["outcome"], decision["denyKind"]) == (self.outcome, self.deny_kind), decision
        failed = [name.split("/")[-1] for name in decision.get("failedConditions", [])]  # rule/condition
        named = [*decision.get("determiningRules", []), *failed]
        assert self.decided_by in named, f"{self.decided_by} neither decided nor failed: {decision}"
        assert self.says in decision["reason"], f"the reason does not say {self.says!r}: {decision}"


def outcome_table() -> dict[tuple[str, str, str, str], Outcome]:
    text = section("A first query")
    header = (
        "| person | dataset | purpose | method | outcome | decided by | the reason says |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    assert header in text, "the README's table of outcomes has moved or changed shape"
    rows = text.split(header, 1)[1].split("\n\n", 1)[0].splitlines()
    outcomes = [Outcome.from_row(row) for row in rows]
    return {(o.person, o.dataset, o.purpose, o.method): o for o in outcomes}


@pytest.fixture(scope="module", params=BACKENDS)
def quickstart(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogServer]:
    """The Quickstart's first command on a fresh store: the environment is this one; demo and serve run here."""
    steps = shell_blocks(section("Quickstart"))[0].strip().split(" && ")
    expected = [*ENVIRONMENT_STEPS, DEMO, f"{DEV_MODE} {SERVE}"]
    assert steps == expected, f"the Quickstart's first command changed: {steps}"
    folder = tmp_path_factory.mktemp(f"readme-{request.param}")
    port = free_port()
    env = catalog_env({**fresh_store(request, request.param, folder).env, "CATALOG_PORT": str(port)})
    demo = subprocess.run(
        ["bash", "-c", as_run_here(DEMO)], env=env, cwd=REPO, capture_output=True, text=True, timeout=CLI_TIMEOUT_S
    )
    assert demo.returncode == 0 and "demo loaded" in demo.stdout, demo.stdout + demo.stderr
    log_path = folder / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", f"{DEV_MODE} exec {as_run_here(SERVE)}"],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = CatalogServer(request.param, f"http://{HOST}:{port}", env, log_path, process)
    try:
        wait_until_ready(server)
        yield server
    finally:
        server.stop()


def run_first_query(server: CatalogServer) -> list[str]:
    """Run the first query's blocks in one shell, as a reader would paste them; return each block's output."""
    if not ensure_tool("curl", "curl"):
        skip_or_fail("the README's first query uses curl; install it (apt-get install curl)")
    blocks = shell_blocks(section("A first query"))
    script = "".join(f"{as_run_here(block, server.url)}\necho\necho '{BLOCK_END}'\n" for block in blocks)
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        env=server.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    assert result.returncode == 0, f"the README's first query failed:\n{result.stdout}{result.stderr}"
    outputs = result.stdout.split(f"{BLOCK_END}\n")
    assert len(outputs) == len(blocks) + 1 and outputs[-1] == "", result.stdout
    return outputs[:-1]


def test_the_first_query_runs_as_written_and_decides_as_the_text_says(quickstart: CatalogServer) -> None:
    text = section("A first query")
    blocks = shell_blocks(text)
    person = re.search(r"token issue --person (\S+)\)", blocks[0])
    assert person, "the first block no longer issues a token for a person"
    outputs = run_first_query(quickstart)
    table = outcome_table()

    me = json.loads(outputs[0])
    assert "errors" not in me, me
    assert me["data"]["me"]["id"] == person[1]
    assert me["data"]["datasets"]["totalCount"] > 0
    checked = 0
    for block, output in zip(blocks[1:], outputs[1:], strict=True):
        asked = CHECK_ACCESS.search(block.replace('\\"', '"'))
        assert asked, f"a first-query block that is not a checkAccess: {block}"
        decision = json.loads(output)["data"]["checkAccess"]
        table[(person[1], asked["dataset"], asked["purpose"], asked["method"])].assert_matches(decision)
        # The sentence before the block says what it decides.
        before = text.split(f"```sh\n{block}")[0].rsplit("```", 1)[-1]
        said = re.findall(r"`(PERMIT|DENY)`", before)
        assert said == [decision["outcome"]], f"the text before the block says {said}; it decided {decision}"
        checked += 1
    assert checked == 2  # the PERMIT and the DENY


def test_every_outcome_in_the_readme_table_holds(quickstart: CatalogServer) -> None:
    table = outcome_table()
    mutation = (
        "mutation($input: AccessInput!) "
        "{ checkAccess(input: $input) { outcome denyKind reason determiningRules failedConditions } }"
    )

    assert len(table) >= 4
    for outcome in table.values():
        token = run_catalog(quickstart.env, "token", "issue", "--person", outcome.person)
        assert token.returncode == 0, token.stderr
        asked = {"datasetId": outcome.dataset, "purpose": outcome.purpose, "accessMethod": outcome.method}
        response = httpx.post(
            f"{quickstart.url}/graphql",
            json={"query": mutation, "variables": {"input": asked}},
            headers={"Authorization": f"Bearer {token.stdout.strip()}"},
            timeout=30,
        )
        body = response.json()
        assert "errors" not in body, (outcome, body)
        outcome.assert_matches(body["data"]["checkAccess"])
