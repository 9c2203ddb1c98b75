"""Provenance lineage: recording processes and reading the graph they form, redacted to what a viewer may see.

Every write here also recomputes effective classifications downstream (services/propagation.py) in the same
transaction, so a lineage change and the restrictions it implies commit together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

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
    status_at,
)
from catalog.errors import InvalidInput, NotFound
from catalog.policy.attributes import Environment, Resource
from catalog.principal import Principal
from catalog.services.context import ServiceContext
from catalog.services.propagation import own_effective, propagate
from catalog.services.reads import Reads
from catalog.services.redaction import Redaction
from catalog.services.registration import dataset_props, field_id
from catalog.store.base import GraphTx, Impact, LineageDirection, Props
from catalog.store.query import TRUE, IdIn, LineageGraph, Predicate, all_of
from catalog.store.records import from_props, to_props
from catalog.store.schema import Label, Rel

# Only these processes can remove identifying detail, so only their outputs can be attested as safer.
ATTESTABLE_KINDS: tuple[ProcessKind, ...] = (ProcessKind.DEIDENTIFY, ProcessKind.AGGREGATE)
ATTESTABLE_IDENTIFIABILITY: tuple[Identifiability, ...] = (Identifiability.DEIDENTIFIED, Identifiability.AGGREGATE)
# A process's attestation: given by attestProcess only, never with a recording, and withdrawn when voided.
ATTESTATION = ("attested_identifiability", "attested_by", "attestation_note")


@dataclass
class LineageNode:
    id: str
    kind: Literal["DATASET", "PROCESS", "FIELD"]
    depth: int
    redacted: bool = False
    dataset: Dataset | None = None
    process: Process | None = None
    field: DatasetField | None = None
    dataset_id: str | None = None  # for a FIELD: the (possibly redacted) dataset it belongs to


@dataclass
class LineageView:
    root: str
    nodes: list[LineageNode] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class ImpactedDataset:
    id: str
    depth: int
    redacted: bool = False


@dataclass
class ImpactedAgreement:
    id: str
    redacted: bool
    status: str | None
    recipient_agency_id: str | None
    dataset_ids: list[str]


@dataclass
class ImpactView:
    """Everything derived from a dataset, the agreements covering any of it, and who received it."""

    root: str
    depth: int
    datasets: list[ImpactedDataset]
    agreements: list[ImpactedAgreement]
    recipient_agency_ids: list[str]


@dataclass(frozen=True)
class ObservedDataset:
    """A dataset an external lineage source (OpenLineage) reported, under the catalog id it maps to."""

    id: str
    title: str
    source: str  # how the source named it, e.g. `namespace/name`
    fields: tuple[DatasetField, ...] = ()
    registered: bool = False  # named by its catalog id: it must be a dataset the sender may see
    path: str = ""  # where the event first names it (a JSON path), for an error


@dataclass(frozen=True)
class ObservedRun:
    """One external lineage event: the datasets it mentions and, for run and job events, the process."""

    datasets: tuple[ObservedDataset, ...]
    process: Process | None = None


@dataclass
class IngestResult:
    placeholders: list[str] = field(default_factory=list)
    process_id: str | None = None
    warnings: list[str] = field(default_factory=list)


class Lineage:
    def __init__(self, ctx: ServiceContext, reads: Reads, redaction: Redaction) -> None:
        self.ctx = ctx
        self.reads = reads
        self.redaction = redaction
        self.decisions = ctx.decisions

    # -- writing -----------------------------------------------------------------------------------------

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
        request = AccessRequest(action="register_dataset", dataset_id=dataset.id)
        decision = self.decisions.decide_one(tx, principal, request, Resource(id=dataset.id, owner=agency), now)
        props = {**dataset_props(dataset), **own_effective(dataset.classification, dataset.personal_data.value)}
        if decision.outcome == Outcome.PERMIT:
            tx.create_node(Label.DATASET, dataset.id, props)
        self.decisions.require(tx, principal, [decision], "register_dataset")
        tx.merge_edge(Rel.OWNED_BY, dataset.id, agency)
        _add_fields(tx, dataset.id, observed.fields)
        append_event(
            tx,
            principal=principal,
            action="register_dataset",
            target_ids=[dataset.id],
            change=diff(None, {**props, "fields": [f.name for f in observed.fields]}),
            at=now,
            decision_id=decision.id,
        )

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

    # -- reading -----------------------------------------------------------------------------------------

    def _check_depth(self, depth: int | None) -> None:
        cap = self.ctx.settings.lineage_max_depth
        if depth is None or depth < 0 or depth > cap:  # None: an explicit `depth: null`
            raise InvalidInput("depth", f"must be between 0 and {cap} (CATALOG_LINEAGE_MAX_DEPTH)")

    def view(
        self,
        principal: Principal,
        dataset_id: str,
        direction: LineageDirection,
        depth: int,
        include_fields: bool = False,
    ) -> LineageView:
        """The lineage graph around a dataset. Datasets the principal may not see come back redacted.

        With `include_fields`, the datasets' fields are nodes too, with HAS_FIELD edges and the DERIVED_FROM
        edges of column-level lineage between them.
        """
        self._check_depth(depth)
        visibility = self.decisions.visible_datasets(principal)

        def read(tx: GraphTx) -> tuple[LineageGraph, dict[str, Props], dict[str, Props]]:
            self._require_visible_root(tx, dataset_id, visibility)
            graph = tx.lineage(dataset_id, direction, depth)  # NotFound when the root is missing
            ids = tuple(graph.datasets)
            seen = tx.find_nodes(Label.DATASET, all_of(IdIn(ids), visibility), first=len(ids))
            return graph, dict(seen.items), tx.get_nodes(Label.PROCESS, list(graph.processes))

        graph, seen, processes = self.ctx.store.read(read)
        visible = {id: from_props(Dataset, props) for id, props in seen.items()}
        alias = {id: self.redaction.redact(id) for id in graph.datasets if id not in visible}

        def shown(id: str) -> str:
            return alias.get(id, id)

        view = LineageView(root=dataset_id)
        view.edges = sorted((rel, shown(source), shown(target)) for rel, source, target in graph.edges)
        inputs: dict[str, list[str]] = defaultdict(list)
        outputs: dict[str, list[str]] = defaultdict(list)
        for rel, source, target in graph.edges:
            if rel == "USED":
                inputs[source].append(shown(target))
            elif rel == "GENERATED_BY":
                outputs[target].append(shown(source))
        for id, level in sorted(graph.datasets.items(), key=lambda item: (item[1], item[0])):
            view.nodes.append(
                LineageNode(id=shown(id), kind="DATASET", depth=level, redacted=id in alias, dataset=visible.get(id))
            )
        for id, level in sorted(graph.processes.items(), key=lambda item: (item[1], item[0])):
            props = processes.get(id)
            if props is None:
                raise NotFound("Process", id)
            process = from_props(Process, props, inputs=sorted(inputs[id]), outputs=sorted(outputs[id]))
            view.nodes.append(LineageNode(id=id, kind="PROCESS", depth=level, process=process))
        if include_fields:
            self._add_fields(view, graph.datasets, alias)
        return view

    @staticmethod
    def _require_visible_root(tx: GraphTx, dataset_id: str, visibility: Predicate) -> None:
        """NotFound unless the principal may see the root. Checked before any walk, alone, so a hidden root
        answers as fast as a missing one: neither the answer nor its timing tells that it exists."""
        if not _matching(tx, Label.DATASET, [dataset_id], visibility):
            raise NotFound("Dataset", dataset_id)

    def _add_fields(self, view: LineageView, datasets: dict[str, int], alias: dict[str, str]) -> None:
        """Field nodes of the reached datasets, their HAS_FIELD edges and the DERIVED_FROM edges among them."""

        def read(tx: GraphTx) -> tuple[dict[str, list[str]], dict[str, Props], dict[str, list[str]]]:
            owned = tx.neighbors(Rel.HAS_FIELD, sorted(datasets), "out")
            field_ids = sorted({f for found in owned.values() for f in found})
            return owned, tx.get_nodes(Label.FIELD, field_ids), tx.neighbors(Rel.DERIVED_FROM, field_ids, "out")

        owned, props, derived = self.ctx.store.read(read)
        shown_field: dict[str, str] = {}
        for dataset_id, field_ids in sorted(owned.items()):
            for fid in field_ids:
                hidden = dataset_id in alias
                shown_field[fid] = self.redaction.redact(fid) if hidden else fid
                column = None if hidden else from_props(DatasetField, props[fid])
                view.nodes.append(
                    LineageNode(
                        id=shown_field[fid],
                        kind="FIELD",
                        depth=datasets[dataset_id],
                        redacted=hidden,
                        field=column,
                        dataset_id=alias.get(dataset_id, dataset_id),
                    )
                )
                view.edges.append(("HAS_FIELD", alias.get(dataset_id, dataset_id), shown_field[fid]))
        for source, targets in sorted(derived.items()):
            for target in targets:
                if target in shown_field:  # column lineage to a dataset outside the walk is left out
                    view.edges.append(("DERIVED_FROM", shown_field[source], shown_field[target]))

    def impact(self, principal: Principal, dataset_id: str, depth: int) -> ImpactView:
        """Every dataset downstream of `dataset_id`, the agreements covering it or any of them, and the agencies
        that received data derived from it. What the principal may not see comes back redacted."""
        self._check_depth(depth)
        visibility = self.decisions.visible_datasets(principal)

        def walk(tx: GraphTx) -> tuple[Impact, set[str], set[str]]:
            self._require_visible_root(tx, dataset_id, visibility)
            found = tx.impact(dataset_id, depth)  # NotFound when the root is missing
            visible = _matching(tx, Label.DATASET, list(found.datasets), visibility)
            readable = self.decisions.readable(principal, "read_agreement")
            return found, visible, _matching(tx, Label.AGREEMENT, list(found.agreements), readable)

        found, visible, readable_ids = self.ctx.store.read(walk)
        now = self.ctx.clock()

        def shown(id: str) -> str:
            return id if id in visible else self.redaction.redact(id)

        datasets = [
            ImpactedDataset(shown(id), level, redacted=id not in visible)
            for id, level in sorted(found.datasets.items(), key=lambda item: (item[1], item[0]))
            if id != dataset_id
        ]
        agreements = []
        for id, agreement in sorted(found.agreements.items()):
            ok = id in readable_ids
            agreements.append(
                ImpactedAgreement(
                    id=id if ok else self.redaction.redact(id),
                    redacted=not ok,
                    status=status_at(agreement.status, agreement.valid_until, now).value if ok else None,
                    recipient_agency_id=agreement.recipient_agency_id if ok else None,
                    dataset_ids=sorted(shown(d) for d in agreement.dataset_ids),
                )
            )
        recipients = sorted({a.recipient_agency_id for a in agreements if a.recipient_agency_id})
        return ImpactView(dataset_id, depth, datasets, agreements, recipients)

    def path(self, principal: Principal, from_id: str, to_id: str) -> list[LineageNode] | None:
        """The shortest derivation path from one dataset down to another, hidden datasets redacted; None if the
        second is not derived from the first within CATALOG_LINEAGE_MAX_DEPTH hops."""
        self.reads.dataset(principal, from_id)
        self.reads.dataset(principal, to_id)
        cap = self.ctx.settings.lineage_max_depth
        steps = self.ctx.store.read(lambda tx: tx.path(from_id, to_id, cap))
        if steps is None:
            return None
        dataset_ids, process_ids = steps[0::2], steps[1::2]
        visible = self.reads.datasets_by_ids(principal, dataset_ids)
        processes = self.ctx.store.read(lambda tx: tx.get_nodes(Label.PROCESS, process_ids))
        shown = [id if i % 2 or id in visible else self.redaction.redact(id) for i, id in enumerate(steps)]
        nodes = []
        for i, id in enumerate(steps):
            if i % 2:
                # Within a path a process shows the input and output the path runs through.
                process = from_props(Process, processes[id], inputs=[shown[i - 1]], outputs=[shown[i + 1]])
                nodes.append(LineageNode(id=id, kind="PROCESS", depth=i // 2, process=process))
            else:
                nodes.append(
                    LineageNode(
                        id=shown[i], kind="DATASET", depth=i // 2, redacted=id not in visible, dataset=visible.get(id)
                    )
                )
        return nodes


def _matching(tx: GraphTx, label: Label, ids: Sequence[str], where: Predicate) -> set[str]:
    """Which of `ids` match `where`, filtered in the store; no query when `where` lets everything through."""
    if where == TRUE or not ids:
        return set(ids)
    page = tx.find_nodes(label, all_of(IdIn(tuple(ids)), where), first=len(ids))
    return {id for id, _ in page.items}


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
