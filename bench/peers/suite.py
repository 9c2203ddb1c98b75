"""Ours, Cedar and OPA on the same policies and the same inputs, with their explanations on and off.

Policies: the real access and deny rules (policies/; access.cedar; access.rego), and the synthetic scoped rules of
bench/policy_eval.py at each size, written for each engine (synthetic.py). Per policy, one request decided over
and over: for the real policy the typical DENY (a trained-analyst request whose training has expired, under an
active agreement), for the synthetic ones policy_eval's PERMIT. Then a batch: the access cases and generated
requests (table.py) decided in one call per engine.

Explanation on means: ours, the full Evaluation (every candidate rule's conditions with the values they saw, the
Five Safes, the reason); Cedar, its diagnostics (determining policies by @id, errors); OPA, the `decision`
document of decide.rego (determining rules and every candidate rule's failed conditions), and for the real policy
over HTTP also OPA's own `explain=fails` trace. Off means the outcome alone.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from bench.http_api import HttpLoad
from bench.load import HttpRequest
from bench.measure import Figure, figure, timed
from bench.peers import opa, synthetic
from bench.peers.cedar import ACCESS_POLICIES, CedarTable
from bench.peers.ours import decide_batch, permitted, permitted_batch
from bench.peers.table import request_table, typical_deny
from bench.policy_eval import request, synthetic_rules, write_policy
from catalog.policy.attributes import RequestAttributes
from catalog.policy.engine import PolicyEngine

REPO = Path(__file__).resolve().parents[2]
OURS, CEDAR, OPA, OPA_HTTP = "ours", "cedar", "opa", "opa http"
ENGINES = (OURS, CEDAR, OPA, OPA_HTTP)
DOCUMENTS = {"on": "decision", "off": "allow"}
BATCH_DOCUMENTS = {"on": "decisions", "off": "outcomes"}
REAL_TARGET = "ours with explanation <= Cedar's per-decision time; >= 5x faster than OPA over HTTP"
BATCH_TARGET = "ours per decision, batched, below is_authorized_batch"


@dataclass(frozen=True)
class Workload:
    """How much to measure. The defaults are `python -m bench.peers`; a test passes a smaller one."""

    sizes: tuple[int, ...] = (10, 100, 1000)
    iterations: int = 2000  # each in-process single-request figure
    batch: int = 1000
    batch_iterations: int = 10
    http: HttpLoad = field(default_factory=lambda: HttpLoad(duration_s=3, requests=1000, connections=1))
    engines: tuple[str, ...] = ENGINES


@dataclass
class PeerPolicy:
    """One policy written for every engine, and the request decided over and over."""

    name: str
    engine: PolicyEngine
    cedar: str
    rego: str
    probe: RequestAttributes


def real_policy() -> PeerPolicy:
    return PeerPolicy("real policy", PolicyEngine(REPO / "policies"), ACCESS_POLICIES.read_text(),
                      opa.ACCESS_RULES.read_text(), typical_deny())


def synthetic_policy(count: int) -> PeerPolicy:
    rules = synthetic_rules(count)
    with tempfile.TemporaryDirectory() as tmp:
        engine = PolicyEngine(write_policy(rules, Path(tmp) / "policies"))
    return PeerPolicy(f"{count} rules", engine, synthetic.cedar_policies(rules), synthetic.rego_rules(rules),
                      request(owner=rules[-1][2]))


class Peers:
    """The engines measured: ours and Cedar in this process, OPA through `opa bench` and a running server."""

    def __init__(self, workload: Workload, binary: Path | None, server: opa.OpaServer | None) -> None:
        assert (OPA not in workload.engines or binary) and (OPA_HTTP not in workload.engines or server)
        self.workload, self.binary, self.server = workload, binary, server

    def _wants(self, engine: str) -> bool:
        return engine in self.workload.engines

    def single(self, policy: PeerPolicy) -> list[Figure]:
        """Every engine deciding `policy.probe`, explanation on and off."""
        cedar = CedarTable.prepare(policy.cedar, [policy.probe])
        snapshot = policy.probe.snapshot()
        if self.server:
            self.server.install(policy.rego)
        self._check_same(policy, cedar, snapshot)
        engine, n = policy.engine, self.workload.iterations
        calls: dict[tuple[str, str], Callable[[], Any]] = {
            (OURS, "on"): partial(engine.decide, policy.probe),
            (OURS, "off"): partial(permitted, engine.policy, policy.probe),
            (CEDAR, "on"): partial(cedar.explained, 0),
            (CEDAR, "off"): partial(cedar.allowed, 0),
        }
        figures = [figure(f"{policy.name}, explain {mode}", name, *timed(call, iterations=n))
                   for (name, mode), call in calls.items() if self._wants(name)]
        for mode, document in DOCUMENTS.items():
            name = f"{policy.name}, explain {mode}"
            if self._wants(OPA):
                figures.append(self._opa_bench(name, policy.rego, snapshot, document))
            if self._wants(OPA_HTTP):
                figures.append(self._http(name, document, snapshot))
        if self._wants(OPA_HTTP) and policy.name == "real policy":
            figures.append(self._http(f"{policy.name}, explain=fails trace", "allow", snapshot, "?explain=fails"))
        return figures

    def batch(self, policy: PeerPolicy) -> list[Figure]:
        """Every engine deciding the request table in one call, explanation on and off."""
        table = request_table(self.workload.batch)
        cedar = CedarTable.prepare(policy.cedar, table)
        batch_input = {"requests": [row.snapshot() for row in table]}
        if self.server:
            self.server.install(policy.rego)
        outcomes = permitted_batch(policy.engine.policy, table)
        served = self.server.query("outcomes", batch_input) if self.server else outcomes
        if outcomes != cedar.allowed_batch() or outcomes != served:
            raise RuntimeError("the engines disagree on the batch: the figures would not compare like with like")
        engine, n = policy.engine, self.workload.batch_iterations
        calls: dict[tuple[str, str], Callable[[], Any]] = {
            (OURS, "on"): partial(decide_batch, engine, table),
            (OURS, "off"): partial(permitted_batch, engine.policy, table),
            (CEDAR, "on"): cedar.explained_batch,
            (CEDAR, "off"): cedar.allowed_batch,
        }
        label = f"batch of {len(table):,}"
        figures = [figure(f"{label}, explain {mode}", name, *timed(call, iterations=n, warmup=1))
                   for (name, mode), call in calls.items() if self._wants(name)]
        for mode, document in BATCH_DOCUMENTS.items():
            if self._wants(OPA):
                figures.append(self._opa_bench(f"{label}, explain {mode}", policy.rego, batch_input, document))
            if self._wants(OPA_HTTP):
                figures.append(self._http(f"{label}, explain {mode}", document, batch_input))
        return [_per_decision(f, len(table)) for f in figures]

    def _check_same(self, policy: PeerPolicy, cedar: CedarTable, snapshot: dict[str, Any]) -> None:
        ours = policy.engine.decide(policy.probe).outcome.value == "PERMIT"
        answers = {CEDAR: cedar.allowed(0), OURS + " off": permitted(policy.engine.policy, policy.probe)}
        if self.server:
            answers[OPA_HTTP] = self.server.query("allow", snapshot)
        if any(answer != ours for answer in answers.values()):
            raise RuntimeError(f"{policy.name}: the engines disagree on the probe (ours {ours}, {answers})")

    def _opa_bench(self, name: str, rules: str, input: Any, document: str) -> Figure:
        assert self.binary
        result = opa.bench(self.binary, rules, input, document)
        return Figure(name, OPA, result.p50_ns / 1e6, result.p95_ns / 1e6, result.p99_ns / 1e6, result.per_s,
                      result.iterations, notes={"source": f"opa bench data.catalog.access.{document}",
                                                "ns_per_op": result.total_ns / result.iterations})

    def _http(self, name: str, document: str, input: Any, query: str = "") -> Figure:
        assert self.server
        path = f"/v1/data/{opa.PACKAGE_PATH}/{document}{query}"
        measured = self.workload.http.drive(self.server.url, [HttpRequest("POST", path, {"input": input})])
        return measured.figure(name, OPA_HTTP, notes={"path": path})


def _per_decision(f: Figure, decisions: int) -> Figure:
    """A batch figure: latency per batch, throughput in decisions a second."""
    per_decision_us = f.p50_ms * 1000 / decisions if f.p50_ms is not None else None
    return replace(f, per_s=(f.per_s or 0) * decisions,
                   notes={**f.notes, "decisions_per_batch": decisions, "p50_per_decision_us": per_decision_us})


def compare(figures: list[Figure]) -> list[Figure]:
    """Every figure beside Cedar's for the same row (the table's baseline); ours also beside OPA's, in notes."""
    by_row = {(f.name, f.backend): f for f in figures}
    compared = []
    for f in figures:
        cedar = by_row.get((f.name, CEDAR))
        notes = dict(f.notes)
        if f.backend == OURS:
            for peer in (OPA, OPA_HTTP):
                other = by_row.get((f.name, peer))
                if other and other.p50_ms and f.p50_ms is not None:
                    notes[f"ours_over_{peer.replace(' ', '_')}"] = f.p50_ms / other.p50_ms
        target = None
        if f.backend == OURS and f.name == "real policy, explain on":
            target = REAL_TARGET
        elif f.backend == OURS and f.name.startswith("batch") and f.name.endswith("explain on"):
            target = BATCH_TARGET
        compared.append(replace(f, notes=notes, target=target, baseline=CEDAR if cedar and f is not cedar else None,
                                baseline_p50_ms=cedar.p50_ms if cedar and f is not cedar else None))
    return compared


def run(workload: Workload, binary: Path | None, workdir: Path) -> list[Figure]:
    """Measure every engine in `workload.engines` (OPA needs `binary`) on every policy and the batch."""
    policies = [real_policy(), *(synthetic_policy(size) for size in workload.sizes)]
    assert binary or not {OPA, OPA_HTTP} & set(workload.engines), "OPA's figures need the opa binary"
    serving = opa.serve(binary, workdir) if binary and OPA_HTTP in workload.engines else nullcontext(None)
    with serving as server:
        peers = Peers(workload, binary, server)
        figures = [f for p in policies for f in peers.single(p)]
        return compare(figures + peers.batch(policies[0]))
