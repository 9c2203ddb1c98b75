"""Recording processes (recordLineage, OpenLineage runs with their placeholder datasets) and attesting them.

Every write here also recomputes effective classifications downstream (services/propagation.py) in the same
transaction, so a lineage change and the restrictions it implies commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from catalog.audit.append import append_event, diff
from catalog.domain import (
    AccessRequest,
    ColumnLineage,
    Dataset,
    DatasetField,
    Decision,
    Identifiability,
    Outcome,
    Process,
    ProcessKind,
    parse_model,
)
from catalog.errors import InvalidInput, NotFound
from catalog.policy.attributes import Environment, Resource
from catalog.principal import Principal
from catalog.services.context import ServiceContext
from catalog.services.decisions import Decisions
from catalog.services.lineage.views import (
    IngestResult,
    ObservedDataset,
    ObservedRun,
)
from catalog.services.propagation import own_effective, propagate
from catalog.services.reads import Reads
from catalog.services.redaction import Redaction
from catalog.services.registration import create_dataset, dataset_props, field_id
from catalog.store.base import GraphTx, Props
from catalog.store.records import from_props, to_props
from catalog.store.schema import Label, Rel

# Only these processes can remove identifying detail, so only their outputs can be attested as safer.
ATTESTABLE_KINDS: tuple[ProcessKind, ...] = (ProcessKind.DEIDENTIFY, ProcessKind.AGGREGATE)
ATTESTABLE_IDENTIFIABILITY: tuple[Identifiability, ...] = (Identifiability.DEIDENTIFIED, Identifiability.AGGREGATE)
# A process's attestation: given by attestProcess only, never with a recording, and withdrawn when voided.
ATTESTATION = ("attested_identifiability", "attested_by", "attestation_note")


class Recording:
    """The writing half of `Lineage`."""

    ctx: ServiceContext
    reads: Reads
    redaction: Redaction
    decisions: Decisions

    def record(self, principal: Principal, payload: dict[str, Any]) -> Process:
        """Record a process with its inputs and outputs. Idempotent by process id and run id."""
        process = parse_model(Process, {"recorded_at": self.ctx.clock(), **payload, "recorded_by": principal.id})
        if not process.outputs:
            raise InvalidInput("outputs", "must name at least one dataset")

        def work(tx: GraphTx) -> Process:
            self._write_process(tx, principal, process, strict_columns=True)
            return process

        return self.decisions.write(work)

    def ingest(self, principal: Principal, run: ObservedRun) -> IngestResult:
        """Write one external lineage event in one transaction: unknown datasets become placeholders owned by the
        principal's agency, schemas become fields, and the process (if any) is recorded as `record` would.
        """
        result = IngestResult(process_id=run.process.id if run.process else None)

        def work(tx: GraphTx) -> IngestResult:
            self._observe_datasets(tx, principal, run.datasets, result)
            if run.process is not None:
                self._write_process(tx, principal, run.process, strict_columns=False, warnings=result.warnings)
            return result

        return self.decisions.write(work)

    def _observe_datasets(
        self, tx: GraphTx, principal: Principal, observed: Sequence[ObservedDataset], result: IngestResult
    ) -> None:
        unique = {d.id: d for d in observed}
        seen = self.decisions.visible(tx, principal, Label.DATASET, list(unique))
        for dataset in unique.values():
            props = seen.get(dataset.id)
            if props is None and dataset.registered:
                # Hidden or missing, the same answer: the event names no dataset this sender may see.
                raise InvalidInput(dataset.path or "dataset", f"no Dataset with id {dataset.id!r}")
            if props is None:
                self._placeholder(tx, principal, dataset)
                result.placeholders.append(dataset.id)
            elif props.get("placeholder"):
                self._describe_placeholder(tx, principal, dataset, result)
            elif dataset.fields:
                known = set(tx.neighbors(Rel.HAS_FIELD, [dataset.id], "out")[dataset.id])
                unknown = [f.name for f in dataset.fields if field_id(dataset.id, f.name) not in known]
                if unknown:
                    # A registered dataset's fields are its owner's to describe; a feed only reports.
                    result.warnings.append(f"dataset {dataset.id}: fields not registered, left out: {unknown}")

    def _describe_placeholder(
        self, tx: GraphTx, principal: Principal, observed: ObservedDataset, result: IngestResult
    ) -> None:
        """Add the fields a feed reports to a placeholder, if the principal may describe it (else only warn)."""
        facts = self.decisions.datasets(tx, [observed.id])[observed.id]
        new = [f for f in observed.fields if f.name not in facts.fields]
        if not new:
            return
        now = self.ctx.clock()
        # Describing a placeholder from a feed is recording lineage about it: the same people may.
        request = AccessRequest(action="record_lineage", dataset_id=observed.id)
        decision = self.decisions.decide_one(tx, principal, request, facts.resource(now, self._scheme), now)
        if decision.outcome != Outcome.PERMIT:
            names = [f.name for f in new]
            result.warnings.append(f"dataset {observed.id}: not yours to describe; fields left out: {names}")
            return
        self.decisions.record(tx, principal, [decision])
        _add_fields(tx, observed.id, new)
        append_event(
            tx,
            principal=principal,
            action="update_dataset",
            target_ids=[observed.id],
            change={
                "changes": {"fields": {"before": facts.fields, "after": [*facts.fields, *(f.name for f in new)]}},
                "reason": f"fields reported by a lineage event from {observed.source}",
            },
            at=now,
            decision_id=decision.id,
        )

    @property
    def _scheme(self) -> list[str]:
        return self.ctx.settings.classifications

    def _placeholder(self, tx: GraphTx, principal: Principal, observed: ObservedDataset) -> None:
        agency = principal.agency_id
        if not agency:
            raise InvalidInput("principal", f"has no agency to own placeholder dataset {observed.id!r}")
        now = self.ctx.clock()
        dataset = parse_model(
            Dataset,
            {
                "id": observed.id,
                "title": observed.title,
                "description": f"Placeholder for {observed.source}, first reported by a lineage event.",
                "owner_agency_id": agency,
                "placeholder": True,
                "harvest_source": observed.source,
                "created_at": now,
                "updated_at": now,
            },
            prefix="dataset.",
        )
        props = {**dataset_props(dataset), **own_effective(dataset.classification, dataset.personal_data.value)}
        create_dataset(self.decisions, tx, principal, dataset, props, observed.fields, now)
        tx.merge_edge(Rel.OWNED_BY, dataset.id, agency)
        _add_fields(tx, dataset.id, observed.fields)

    def _write_process(
        self,
        tx: GraphTx,
        principal: Principal,
        process: Process,
        *,
        strict_columns: bool,
        warnings: list[str] | None = None,
    ) -> None:
        """Write a process run, merging its edges, with an audit event whenever anything in the graph changes.

        A repeat of the same run that adds nothing writes nothing but its decisions. A change to the kind or to
        the inputs of an attested process withdraws the attestation: what was checked is no longer what runs.
        """
        now = self.ctx.clock()
        decisions = self._accountable(tx, principal, process, "record_lineage", now)
        existing = tx.get_node(Label.PROCESS, process.id)
        had_inputs: list[str] = []
        had_outputs: list[str] = []
        if existing is not None:
            used, generated = tx.neighbors_many([process.id], [(Rel.USED, "out"), (Rel.GENERATED_BY, "in")])
            had_inputs, had_outputs = used[process.id], generated[process.id]
        new_inputs = sorted(set(process.inputs) - set(had_inputs))
        new_outputs = sorted(set(process.outputs) - set(had_outputs))
        described = {"name": process.name, "kind": process.kind.value, "run_id": process.run_id}
        before = {key: (existing or {}).get(key) for key in described}
        columns, new_columns = self._write_columns(tx, process, strict=strict_columns, warnings=warnings)
        changed = existing is None or before != described or new_inputs or new_outputs or new_columns
        if not changed:
            return
        withdrawn = self._withdrawn(existing, before, described, new_inputs)
        props = {
            **to_props(process, exclude={"inputs", "outputs", "column_lineage", *ATTESTATION}),
            "recorded_by": principal.id,
            **withdrawn,
        }
        tx.merge_node(Label.PROCESS, process.id, props)
        tx.merge_edges(
            [(Rel.USED, process.id, d) for d in new_inputs] + [(Rel.GENERATED_BY, d, process.id) for d in new_outputs]
        )
        propagated = propagate(tx, process.outputs, self._scheme)
        change: dict[str, Any] = {
            "process": process.id,
            "run_id": process.run_id,
            "kind": process.kind.value,
            "inputs": process.inputs,
            "outputs": process.outputs,
        }
        if existing is not None:
            change["changes"] = diff(before, described)
            if new_inputs:
                change["changes"]["inputs"] = {"before": had_inputs, "after": sorted({*had_inputs, *new_inputs})}
        if withdrawn:
            change["attestation_withdrawn"] = {key: existing.get(key) for key in ATTESTATION} if existing else {}
        if columns:
            change["column_lineage"] = columns
        if propagated:
            change["propagated"] = propagated
        append_event(
            tx,
            principal=principal,
            action="record_lineage",
            target_ids=[process.id, *process.inputs, *process.outputs],
            change=change,
            at=now,
            decision_id=decisions[0].id,
        )

    @staticmethod
    def _withdrawn(
        existing: Props | None, before: dict[str, Any], described: dict[str, Any], new_inputs: list[str]
    ) -> dict[str, None]:
        """The attestation's properties cleared, when a change to an attested process voids it; else nothing."""
        if existing is None or not existing.get("attested_identifiability"):
            return {}
        if before["kind"] == described["kind"] and not new_inputs:
            return {}
        return dict.fromkeys(ATTESTATION)

    def _accountable(
        self, tx: GraphTx, principal: Principal, process: Process, action: str, now: datetime
    ) -> list[Decision]:
        """Lineage is about the outputs: the principal must be accountable for every one of them (one recorded
        decision each). Every output, and every input of a run being recorded, must be a dataset the principal may
        see; a hidden one answers as a missing one does. (An attestation speaks for the outputs alone.)"""
        named = {"inputs": process.inputs if action == "record_lineage" else [], "outputs": process.outputs}
        found = self.decisions.visible(tx, principal, Label.DATASET, [*named["inputs"], *named["outputs"]])
        for name, ids in named.items():
            for i, dataset_id in enumerate(ids):
                if dataset_id not in found:
                    raise InvalidInput(f"{name}.{i}", f"no Dataset with id {dataset_id!r}")
        facts = self.decisions.datasets(tx, process.outputs)
        env = Environment(action=action, recorded_by=process.recorded_by or "")
        decisions = [
            self.decisions.decide_one(
                tx,
                principal,
                AccessRequest(action=action, dataset_id=dataset_id),
                facts[dataset_id].resource(now, self._scheme),
                now,
                replace(env),
            )
            for dataset_id in process.outputs
        ]
        if not decisions:
            # A run that produced nothing (a failed job, a job event with no outputs) is about the sender's own
            # agency: decided as recording lineage of that agency's data.
            own = Resource(id=process.id, owner=principal.agency_id or "")
            request = AccessRequest(action=action, agency_id=principal.agency_id)
            decisions = [self.decisions.decide_one(tx, principal, request, own, now, env)]
        return self.decisions.require(tx, principal, decisions, f"{action} {process.id}")

    def _write_columns(
        self, tx: GraphTx, process: Process, *, strict: bool, warnings: list[str] | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """DERIVED_FROM edges from each output column to its input columns. Returns what was written, and
        whether any edge is new.

        Strict (recordLineage): a column that is not a field of an output (or input) is an error. Lenient
        (OpenLineage): such a column is skipped with a warning, since feeds often name columns nobody registered.
        """
        named = {c.output for c in process.column_lineage} | {i for c in process.column_lineage for i in c.inputs}
        known = set(tx.get_nodes(Label.FIELD, sorted(named)))
        already = tx.neighbors(Rel.DERIVED_FROM, sorted({c.output for c in process.column_lineage}), "out")
        written, new = [], False
        for i, column in enumerate(process.column_lineage):
            problems = _column_problems(i, column, process, known)
            if problems:
                if strict:
                    raise InvalidInput(*problems[0])
                if warnings is not None:
                    warnings.extend(f"{path}: {rule}" for path, rule in problems)
                continue
            for source in column.inputs:
                if source not in already.get(column.output, []):
                    tx.merge_edge(Rel.DERIVED_FROM, column.output, source, {"process_id": process.id})
                    new = True
            written.append({"output": column.output, "inputs": column.inputs})
        return written, new

    def attest(self, principal: Principal, process_id: str, identifiability: Identifiability, note: str) -> Process:
        """A steward's statement that a de-identify or aggregate process really yields `identifiability`.

        The attestation is what lets restrictions stop propagating downstream of the process, so only a steward
        of its outputs may give it, and never the person who recorded the run (separation of duties).
        Effective values downstream are recomputed with it.
        """
        if identifiability not in ATTESTABLE_IDENTIFIABILITY:
            raise InvalidInput("output_identifiability", f"must be one of {', '.join(ATTESTABLE_IDENTIFIABILITY)}")
        identifiability = Identifiability(identifiability)
        if not note.strip():
            raise InvalidInput("note", "is required: say how the output was checked")
        now = self.ctx.clock()

        def work(tx: GraphTx) -> Process:
            tx.lock(Label.PROCESS, process_id)
            process = self._load(tx, process_id)
            decisions = self._accountable(tx, principal, process, "attest_process", now)
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
            propagated = propagate(tx, process.outputs, self._scheme)
            change = diff(before, attestation)
            if propagated:
                change["propagated"] = propagated
            append_event(
                tx,
                principal=principal,
                action="attest_process",
                target_ids=[process_id, *process.outputs],
                change=change,
                at=now,
                decision_id=decisions[0].id,
            )
            return attested

        return self.decisions.write(work)

    @staticmethod
    def _load(tx: GraphTx, process_id: str) -> Process:
        props = tx.get_node(Label.PROCESS, process_id)
        if props is None:
            raise NotFound("Process", process_id)
        inputs = tx.neighbors(Rel.USED, [process_id], "out")[process_id]
        outputs = tx.neighbors(Rel.GENERATED_BY, [process_id], "in")[process_id]
        return from_props(Process, props, inputs=inputs, outputs=outputs)


def _column_problems(i: int, column: ColumnLineage, process: Process, known: set[str]) -> list[tuple[str, str]]:
    """What is wrong with one column-lineage entry, as (input path, rule) pairs."""
    problems = []
    output_dataset = column.output.partition("#")[0]
    if output_dataset not in process.outputs:
        problems.append((f"column_lineage.{i}.output", f"{column.output!r} is not a column of an output"))
    elif column.output not in known:
        problems.append((f"column_lineage.{i}.output", f"no field {column.output!r}"))
    for j, source in enumerate(column.inputs):
        if source.partition("#")[0] not in process.inputs:
            problems.append((f"column_lineage.{i}.inputs.{j}", f"{source!r} is not a column of an input"))
        elif source not in known:
            problems.append((f"column_lineage.{i}.inputs.{j}", f"no field {source!r}"))
    return problems


def _add_fields(tx: GraphTx, dataset_id: str, fields: Sequence[DatasetField]) -> None:
    """Add fields a placeholder did not have yet; never remove or rewrite one (other events may disagree)."""
    if not fields:
        return
    existing = tx.neighbors(Rel.HAS_FIELD, [dataset_id], "out")[dataset_id]
    position = len(existing)
    for column in fields:
        fid = field_id(dataset_id, column.name)
        if fid in existing:
            continue
        tx.merge_node(Label.FIELD, fid, {**to_props(column), "dataset_id": dataset_id, "position": position})
        tx.merge_edge(Rel.HAS_FIELD, dataset_id, fid)
        existing.append(fid)
        position += 1
