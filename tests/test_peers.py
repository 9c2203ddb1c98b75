"""The Cedar and Rego translations of the access policy decide as our engine does, and bench.peers runs.

Every case of policies/tests/access.yaml and a few hundred generated requests go through all three engines; each
must give the same outcome and name the same determining rules. cedarpy comes with the test extra; OPA is built
once from the Go module proxy into ~/.cache/public-catalog (on CI the test builds it; elsewhere it skips).
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.peers import opa
from bench.peers.ours import permitted
from bench.peers.table import ACCESS_CASES, access_cases, request_table
from bench.policy_eval import request as synthetic_request
from bench.policy_eval import synthetic_rules, write_policy
from catalog.policy.attributes import RequestAttributes
from catalog.policy.engine import PolicyEngine
from catalog.policy.testing import load_cases
from tests.conftest import ON_CI, REPO

pytestmark = pytest.mark.timeout(opa.BUILD_TIMEOUT_S + 300)  # on CI the first test builds OPA
GENERATED = 400


def peer_problem() -> str | None:
    """What is missing to run these tests here (OPA only counts off CI, where the test will not build it)."""
    if importlib.util.find_spec("cedarpy") is None:
        return "cedarpy is not installed (the test extra brings it: pip install -e '.[test]')"
    if opa.find_opa() is None and not ON_CI:
        return f"opa not found: `python -m bench.peers` builds OPA {opa.OPA_VERSION} into {opa.CACHE}"
    return None


if peer_problem() and not ON_CI:
    pytest.skip(str(peer_problem()), allow_module_level=True)  # one line for the whole module


@pytest.fixture(scope="module")
def cedar() -> Any:
    problem = peer_problem()
    if problem:
        pytest.fail(problem)  # only reached on CI: elsewhere the module is skipped
    from bench.peers import cedar

    return cedar


@pytest.fixture(scope="module")
def opa_binary() -> Path:
    """OPA, built on CI when the cache lacks it (a few minutes, once per machine)."""
    binary = opa.find_opa()
    if binary is None:
        problem = opa.build_problem()
        if problem:
            pytest.fail(problem)
        binary = opa.install_opa()
    return binary


@pytest.fixture(scope="module")
def opa_server(opa_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[opa.OpaServer]:
    with opa.serve(opa_binary, tmp_path_factory.mktemp("opa")) as server:
        yield server


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine(REPO / "policies")


def ours(engine: PolicyEngine, table: list[RequestAttributes]) -> list[tuple[bool, list[str]]]:
    evaluations = [engine.decide(row) for row in table]
    return [(e.outcome.value == "PERMIT", sorted(e.determining_rules)) for e in evaluations]


def rego(server: opa.OpaServer, table: list[RequestAttributes]) -> list[tuple[bool, list[str]]]:
    decided = [server.query("decision", row.snapshot()) for row in table]
    return [(d["allow"], d["rules"]) for d in decided]


def disagreements(names: list[str], expected: list[Any], got: list[Any]) -> list[str]:
    return [f"{name}: ours {want}, theirs {have}" for name, want, have in zip(names, expected, got, strict=True)
            if want != have][:10]


def test_cedar_and_rego_decide_every_request_as_ours_and_name_the_same_rules(
    engine: PolicyEngine, cedar: Any, opa_server: opa.OpaServer
) -> None:
    table = request_table(len(access_cases()) + GENERATED)
    names = [name for name, _ in access_cases()] + [f"generated {i}" for i in range(GENERATED)]
    opa_server.install(opa.ACCESS_RULES.read_text())
    cedar_table = cedar.CedarTable.prepare(cedar.ACCESS_POLICIES.read_text(), table)

    expected = ours(engine, table)
    by_cedar = [cedar_table.explained(row) for row in range(len(table))]
    by_rego = rego(opa_server, table)

    assert disagreements(names, expected, by_cedar) == []
    assert disagreements(names, expected, by_rego) == []
    kinds = Counter("PERMIT" if allow else "explicit DENY" if rules else "implicit DENY" for allow, rules in expected)
    assert min(kinds["PERMIT"], kinds["explicit DENY"], kinds["implicit DENY"]) >= 20, kinds  # the table tests all


def test_the_batch_and_outcome_only_paths_the_bench_times_give_the_same_outcomes(
    engine: PolicyEngine, cedar: Any, opa_server: opa.OpaServer
) -> None:
    table = request_table(300)
    opa_server.install(opa.ACCESS_RULES.read_text())
    cedar_table = cedar.CedarTable.prepare(cedar.ACCESS_POLICIES.read_text(), table)
    batch_input = {"requests": [row.snapshot() for row in table]}
    expected = ours(engine, table)
    outcomes = [allow for allow, _ in expected]

    assert [permitted(engine.policy, row) for row in table] == outcomes
    assert cedar_table.allowed_batch() == outcomes
    assert cedar_table.explained_batch() == expected
    assert opa_server.query("outcomes", batch_input) == outcomes
    assert [(d["allow"], d["rules"]) for d in opa_server.query("decisions", batch_input)] == expected


def test_each_access_case_gets_its_expected_outcome_from_cedar_and_rego(cedar: Any, opa_server: opa.OpaServer) -> None:
    cases = load_cases(ACCESS_CASES)
    opa_server.install(opa.ACCESS_RULES.read_text())
    cedar_table = cedar.CedarTable.prepare(cedar.ACCESS_POLICIES.read_text(), [case.attributes for case in cases])

    by_cedar = [cedar_table.allowed(row) for row in range(len(cases))]
    by_rego = [opa_server.query("allow", case.attributes.snapshot()) for case in cases]

    names, expected = [case.name for case in cases], [case.expect["outcome"] == "PERMIT" for case in cases]
    assert disagreements(names, expected, by_cedar) == []
    assert disagreements(names, expected, by_rego) == []


def test_the_synthetic_rules_of_each_engine_decide_alike(
    cedar: Any, opa_server: opa.OpaServer, tmp_path: Path
) -> None:
    from bench.peers import synthetic

    rules = synthetic_rules(10)
    engine = PolicyEngine(write_policy(rules, tmp_path / "policies"))
    probes = [synthetic_request(owner) for owner in ("agency-0", "agency-1", "agency-7")]
    probes[1].env.purpose = "LAW_ENFORCEMENT"  # agency-1's deny rule
    probes[0].sub.training_current = False  # every allow rule reads it
    opa_server.install(synthetic.rego_rules(rules))
    cedar_table = cedar.CedarTable.prepare(synthetic.cedar_policies(rules), probes)

    expected = ours(engine, probes)

    assert [cedar_table.explained(row) for row in range(len(probes))] == expected
    assert rego(opa_server, probes) == expected
    assert expected[2] == (False, [])  # agency-7 has no rules at all


def test_the_cedar_policies_are_typed_by_a_schema_read_off_our_attributes(cedar: Any) -> None:
    import cedarpy

    from bench.peers import synthetic

    schema = json.dumps(cedar.schema())
    misspelt = cedar.ACCESS_POLICIES.read_text().replace("principal.training_current", "principal.trained")

    assert cedarpy.validate_policies(cedar.ACCESS_POLICIES.read_text(), schema).validation_passed
    assert cedarpy.validate_policies(synthetic.cedar_policies(synthetic_rules(10)), schema).validation_passed
    assert not cedarpy.validate_policies(misspelt, schema).validation_passed


def test_the_peer_bench_measures_every_engine_it_is_given_and_compares_with_cedar(
    cedar: Any, opa_binary: Path, tmp_path: Path
) -> None:
    from bench.http_api import HttpLoad
    from bench.peers.report import side_by_side
    from bench.peers.suite import CEDAR, OPA_HTTP, OURS, Workload, run

    workload = Workload(sizes=(10,), iterations=20, batch=40, batch_iterations=2,
                        http=HttpLoad(requests=40, connections=1, tool="httpx"), engines=(OURS, CEDAR, OPA_HTTP))

    figures = run(workload, opa_binary, tmp_path)

    rows = {(f.name, f.backend): f for f in figures}
    for name in ("real policy", "10 rules", "batch of 40"):
        for mode in ("on", "off"):
            for engine in (OURS, CEDAR, OPA_HTTP):
                measured = rows[(f"{name}, explain {mode}", engine)]
                assert measured.p50_ms and measured.p50_ms > 0 and measured.per_s, (name, mode, engine)
            assert rows[(f"{name}, explain {mode}", OURS)].ratio is not None
    assert ("real policy, explain=fails trace", OPA_HTTP) in rows
    assert rows[("batch of 40, explain on", OURS)].notes["decisions_per_batch"] == 40
    assert "ours_over_opa_http" in rows[("real policy, explain on", OURS)].notes
    assert len(side_by_side(figures)) == 7
