"""Provenance lineage: recording processes and reading the graph they form, redacted to what a viewer may see."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.domain import Dataset, Identifiability, Process, ProcessKind, parse_model
from catalog.errors import InvalidInput, NotFound
from catalog.principal import Principal
from catalog.services.audit import append_event, diff
from catalog.services.context import ServiceContext
from catalog.services.reads import Reads
from catalog.store.base import GraphTx
from catalog.store.records import from_props, to_props
from catalog.store.schema import Label, Rel

Direction = Literal["UPSTREAM", "DOWNSTREAM", "BOTH"]
# Only these processes can remove identifying detail, so only their outputs can be attested as safer.
ATTESTABLE_KINDS: tuple[ProcessKind, ...] = (ProcessKind.DEIDENTIFY, ProcessKind.AGGREGATE)
ATTESTABLE_IDENTIFIABILITY: tuple[Identifiability, ...] = (Identifiability.DEIDENTIFIED, Identifiability.AGGREGATE)


@dataclass
class LineageNode:
    id: str
    kind: Literal["DATASET", "PROCESS"]
    depth: int
    redacted: bool = False
    dataset: Dataset | None = None
    process: Process | None = None


@dataclass
class LineageView:
    root: str
    nodes: list[LineageNode] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)


class Lineage:
    def __init__(self, ctx: ServiceContext, reads: Reads) -> None:
        self.ctx = ctx
        self.reads = reads

    def record(self, principal: Principal, payload: dict[str, Any]) -> Process:
        """Record a process with its inputs and outputs. Idempotent by process id and run id."""
        process = parse_model(Process, {"recorded_at": self.ctx.clock(), **payload})
        if not process.outputs:
            raise InvalidInput("outputs", "must name at least one dataset")

        def work(tx: GraphTx) -> Process:
            self._authorize(principal, "record_lineage", self._owners(tx, process))
            existing = tx.get_node(Label.PROCESS, process.id)
            repeat = existing is not None and existing.get("run_id") == process.run_id and process.run_id
            props = to_props(process, exclude={"inputs", "outputs"})
            if existing is not None:
                # Attestation belongs to the steward who gave it; re-recording a run must not erase it.
                for key in ("attested_identifiability", "attested_by", "attestation_note"):
                    props.pop(key, None)
            tx.merge_node(Label.PROCESS, process.id, props)
            for dataset_id in process.inputs:
                tx.merge_edge(Rel.USED, process.id, dataset_id)
            for dataset_id in process.outputs:
                tx.merge_edge(Rel.GENERATED_BY, dataset_id, process.id)
            if not repeat:
                append_event(
                    tx,
                    principal=principal,
                    action="record_lineage",
                    target_ids=[process.id, *process.inputs, *process.outputs],
                    change={
                        "process": process.id,
                        "run_id": process.run_id,
                        "kind": process.kind.value,
                        "inputs": process.inputs,
                        "outputs": process.outputs,
                    },
                    at=self.ctx.clock(),
                )
            return process

        return self.ctx.store.write(work)

    def attest(self, principal: Principal, process_id: str, identifiability: Identifiability, note: str) -> Process:
        """A steward's statement that a de-identify or aggregate process really yields `identifiability`.

        The attestation is what lets restrictions stop propagating downstream of the process, so only those
        accountable for its outputs may give it.
        """
        if identifiability not in ATTESTABLE_IDENTIFIABILITY:
            raise InvalidInput("output_identifiability", f"must be one of {', '.join(ATTESTABLE_IDENTIFIABILITY)}")
        if not note.strip():
            raise InvalidInput("note", "is required: say how the output was checked")

        def work(tx: GraphTx) -> Process:
            process = self._load(tx, process_id)
            self._authorize(principal, "attest_process", self._owners(tx, process))
            if process.kind not in ATTESTABLE_KINDS:
                raise InvalidInput(
                    "process_id",
                    f"is a {process.kind.value} process; only {' and '.join(ATTESTABLE_KINDS)} can be attested",
                )
            attestation = {
                "attested_identifiability": identifiability.value,
                "attested_by": principal.id,
                "attestation_note": note,
            }
            attested = parse_model(Process, {**process.model_dump(), **attestation})
            current = process.model_dump(mode="json")
            before = {key: current[key] for key in attestation}
            tx.update_node(Label.PROCESS, process_id, attestation)
            append_event(
                tx,
                principal=principal,
                action="attest_process",
                target_ids=[process_id, *process.outputs],
                change=diff(before, attestation),
                at=self.ctx.clock(),
            )
            return attested

        return self.ctx.store.write(work)

    @staticmethod
    def _load(tx: GraphTx, process_id: str) -> Process:
        props = tx.get_node(Label.PROCESS, process_id)
        if props is None:
            raise NotFound("Process", process_id)
        inputs = tx.neighbors(Rel.USED, [process_id], "out")[process_id]
        outputs = tx.neighbors(Rel.GENERATED_BY, [process_id], "in")[process_id]
        return from_props(Process, props, inputs=inputs, outputs=outputs)

    def _authorize(self, principal: Principal, action: str, owners: dict[str, tuple[str, list[str]]]) -> None:
        """Lineage is about the outputs: the principal must be accountable for every one of them."""
        for dataset_id, (agency_id, stewards) in owners.items():
            self.ctx.gate.authorize(
                principal, action, {"agency_id": agency_id, "steward_ids": stewards, "dataset_id": dataset_id}
            )

    def _owners(self, tx: GraphTx, process: Process) -> dict[str, tuple[str, list[str]]]:
        ids = [*process.inputs, *process.outputs]
        found = tx.get_nodes(Label.DATASET, ids)
        for i, dataset_id in enumerate(process.inputs):
            if dataset_id not in found:
                raise InvalidInput(f"inputs.{i}", f"no Dataset with id {dataset_id!r}")
        for i, dataset_id in enumerate(process.outputs):
            if dataset_id not in found:
                raise InvalidInput(f"outputs.{i}", f"no Dataset with id {dataset_id!r}")
        stewards = tx.neighbors(Rel.STEWARD_OF, process.outputs, "in")
        return {id: (str(found[id].get("owner_agency_id")), stewards[id]) for id in process.outputs}

    def view(self, principal: Principal, dataset_id: str, direction: Direction, depth: int) -> LineageView:
        """The lineage graph around a dataset. Datasets the principal may not see come back redacted."""
        cap = self.ctx.settings.lineage_max_depth
        if depth < 0 or depth > cap:
            raise InvalidInput("depth", f"must be between 0 and {cap}")
        self.reads.dataset(principal, dataset_id)  # NotFound unless the root itself is visible
        graph = self.ctx.store.read(lambda tx: tx.lineage(dataset_id, direction, depth))
        visible = self.reads.datasets_by_ids(principal, list(graph.datasets))
        processes = self.ctx.store.read(lambda tx: tx.get_nodes(Label.PROCESS, list(graph.processes)))
        alias = {id: self._redact(id) for id in graph.datasets if id not in visible}

        def shown(id: str) -> str:
            return alias.get(id, id)

        view = LineageView(root=dataset_id)
        view.edges = sorted((rel, shown(source), shown(target)) for rel, source, target in graph.edges)
        for id, level in sorted(graph.datasets.items(), key=lambda item: (item[1], item[0])):
            view.nodes.append(
                LineageNode(id=shown(id), kind="DATASET", depth=level, redacted=id in alias, dataset=visible.get(id))
            )
        for id, level in sorted(graph.processes.items(), key=lambda item: (item[1], item[0])):
            props = processes.get(id)
            if props is None:
                raise NotFound("Process", id)
            inputs = sorted(shown(t) for rel, s, t in graph.edges if rel == "USED" and s == id)
            outputs = sorted(shown(s) for rel, s, t in graph.edges if rel == "GENERATED_BY" and t == id)
            process = from_props(Process, props, inputs=inputs, outputs=outputs)
            view.nodes.append(LineageNode(id=id, kind="PROCESS", depth=level, process=process))
        return view

    def _redact(self, dataset_id: str) -> str:
        """An opaque stand-in for a hidden dataset: stable, but not reversible without the server's secret."""
        key = self.ctx.settings.auth.jwt_secret.encode()
        return "redacted-" + hmac.new(key, dataset_id.encode(), hashlib.sha256).hexdigest()[:16]
