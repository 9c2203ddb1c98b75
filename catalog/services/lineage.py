"""Provenance lineage: recording processes and reading the graph they form, redacted to what a viewer may see.

Every write here also recomputes effective classifications downstream (services/propagation.py) in the same
transaction, so a lineage change and the restrictions it implies commit together.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.domain import (
    ColumnLineage,
    Dataset,
    DatasetField,
    Identifiability,
    Process,
    ProcessKind,
    parse_model,
)
from catalog.errors import Forbidden, InvalidInput, NotFound
from catalog.principal import Principal
from catalog.services.agreements import readable
from catalog.services.audit import append_event, diff
from catalog.services.context import ServiceContext
from catalog.services.propagation import own_effective, propagate
from catalog.services.reads import Reads
from catalog.services.registration import dataset_props, field_id
from catalog.store.base import GraphTx, Impact, Props
from catalog.store.query import TRUE, IdIn, LineageGraph, Predicate, all_of
from catalog.store.records import from_props, to_props
from catalog.store.schema import Label, Rel

Direction = Literal["UPSTREAM", "DOWNSTREAM", "BOTH"]
# Only these processes can remove identifying detail, so only their outputs can be attested as safer.
ATTESTABLE_KINDS: tuple[ProcessKind, ...] = (ProcessKind.DEIDENTIFY, ProcessKind.AGGREGATE)
ATTESTABLE_IDENTIFIABILITY: tuple[Identifiability, ...] = (Identifiability.DEIDENTIFIED, Identifiability.AGGREGATE)


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
    def __init__(self, ctx: ServiceContext, reads: Reads) -> None:
        self.ctx = ctx
        self.reads = reads

    # -- writing -----------------------------------------------------------------------------------------

    def record(self, principal: Principal, payload: dict[str, Any]) -> Process:
        """Record a process with its inputs and outputs. Idempotent by process id and run id."""
        process = parse_model(Process, {"recorded_at": self.ctx.clock(), **payload})
        if not process.outputs:
            raise InvalidInput("outputs", "must name at least one dataset")

        def work(tx: GraphTx) -> Process:
            self._write_process(tx, principal, process, self._owners(tx, process), strict_columns=True)
            return process

        return self.ctx.store.write(work)

    def ingest(self, principal: Principal, run: ObservedRun) -> IngestResult:
        """Write one external lineage event in one transaction: unknown datasets become placeholders owned by the
        principal's agency, schemas become fields, and the process (if any) is recorded as `record` would.
        """
        result = IngestResult(process_id=run.process.id if run.process else None)

        def work(tx: GraphTx) -> IngestResult:
            self._observe_datasets(tx, principal, run.datasets, result)
            if run.process is not None:
                process = run.process
                self._write_process(
                    tx, principal, process, self._owners(tx, process), strict_columns=False, warnings=result.warnings
                )
            return result

        return self.ctx.store.write(work)

    def _observe_datasets(
        self, tx: GraphTx, principal: Principal, observed: Sequence[ObservedDataset], result: IngestResult
    ) -> None:
        unique = {d.id: d for d in observed}
        existing = tx.get_nodes(Label.DATASET, list(unique))
        for dataset in unique.values():
            props = existing.get(dataset.id)
            if props is None:
                self._placeholder(tx, principal, dataset)
                result.placeholders.append(dataset.id)
            elif props.get("placeholder"):
                self._describe_placeholder(tx, principal, dataset, props, result)
            elif dataset.fields:
                known = set(tx.neighbors(Rel.HAS_FIELD, [dataset.id], "out")[dataset.id])
                unknown = [f.name for f in dataset.fields if field_id(dataset.id, f.name) not in known]
                if unknown:
                    # A registered dataset's fields are its owner's to describe; a feed only reports.
                    result.warnings.append(f"dataset {dataset.id}: fields not registered, left out: {unknown}")

    def _describe_placeholder(
        self, tx: GraphTx, principal: Principal, observed: ObservedDataset, props: Props, result: IngestResult
    ) -> None:
        """Add the fields a feed reports to a placeholder, if the principal may describe it (else only warn)."""
        known = set(tx.neighbors(Rel.HAS_FIELD, [observed.id], "out")[observed.id])
        new = [f for f in observed.fields if field_id(observed.id, f.name) not in known]
        if not new:
            return
        stewards = tx.neighbors(Rel.STEWARD_OF, [observed.id], "in")[observed.id]
        target = {"agency_id": props.get("owner_agency_id"), "steward_ids": stewards, "dataset_id": observed.id}
        try:
            # Describing a placeholder from a feed is recording lineage about it: the same people may.
            self.ctx.gate.authorize(principal, "record_lineage", target)
        except Forbidden:
            names = [f.name for f in new]
            result.warnings.append(f"dataset {observed.id}: not yours to describe; fields left out: {names}")
            return
        _add_fields(tx, observed.id, new)

    def _placeholder(self, tx: GraphTx, principal: Principal, observed: ObservedDataset) -> None:
        agency = principal.agency_id
        if not agency:
            raise InvalidInput("principal", f"has no agency to own placeholder dataset {observed.id!r}")
        self.ctx.gate.authorize(principal, "register_dataset", {"agency_id": agency})
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
        tx.create_node(Label.DATASET, dataset.id, props)
        tx.merge_edge(Rel.OWNED_BY, dataset.id, agency)
        _add_fields(tx, dataset.id, observed.fields)
        append_event(
            tx,
            principal=principal,
            action="register_dataset",
            target_ids=[dataset.id],
            change=diff(None, {**props, "fields": [f.name for f in observed.fields]}),
            at=now,
        )

    def _write_process(
        self,
        tx: GraphTx,
        principal: Principal,
        process: Process,
        owners: dict[str, tuple[str, list[str]]],
        *,
        strict_columns: bool,
        warnings: list[str] | None = None,
    ) -> None:
        self._authorize(principal, "record_lineage", owners)
        existing = tx.get_node(Label.PROCESS, process.id)
        repeat = existing is not None and existing.get("run_id") == process.run_id and process.run_id
        props = to_props(process, exclude={"inputs", "outputs", "column_lineage"})
        if existing is not None:
            # Attestation belongs to the steward who gave it; re-recording a run must not erase it.
            for key in ("attested_identifiability", "attested_by", "attestation_note"):
                props.pop(key, None)
        tx.merge_node(Label.PROCESS, process.id, props)
        for dataset_id in process.inputs:
            tx.merge_edge(Rel.USED, process.id, dataset_id)
        for dataset_id in process.outputs:
            tx.merge_edge(Rel.GENERATED_BY, dataset_id, process.id)
        columns = self._write_columns(tx, process, strict=strict_columns, warnings=warnings)
        propagated = propagate(tx, process.outputs, self.ctx.settings.classifications)
        if repeat and not propagated:
            return
        change: dict[str, Any] = {
            "process": process.id,
            "run_id": process.run_id,
            "kind": process.kind.value,
            "inputs": process.inputs,
            "outputs": process.outputs,
        }
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
            at=self.ctx.clock(),
        )

    def _write_columns(
        self, tx: GraphTx, process: Process, *, strict: bool, warnings: list[str] | None
    ) -> list[dict[str, Any]]:
        """DERIVED_FROM edges from each output column to its input columns. Returns what was written.

        Strict (recordLineage): a column that is not a field of an output (or input) is an error. Lenient
        (OpenLineage): such a column is skipped with a warning, since feeds often name columns nobody registered.
        """
        named = {c.output for c in process.column_lineage} | {i for c in process.column_lineage for i in c.inputs}
        known = set(tx.get_nodes(Label.FIELD, sorted(named)))
        written = []
        for i, column in enumerate(process.column_lineage):
            problems = _column_problems(i, column, process, known)
            if problems:
                if strict:
                    raise InvalidInput(*problems[0])
                if warnings is not None:
                    warnings.extend(f"{path}: {rule}" for path, rule in problems)
                continue
            for source in column.inputs:
                tx.merge_edge(Rel.DERIVED_FROM, column.output, source, {"process_id": process.id})
            written.append({"output": column.output, "inputs": column.inputs})
        return written

    def attest(self, principal: Principal, process_id: str, identifiability: Identifiability, note: str) -> Process:
        """A steward's statement that a de-identify or aggregate process really yields `identifiability`.

        The attestation is what lets restrictions stop propagating downstream of the process, so only those
        accountable for its outputs may give it. Effective values downstream are recomputed with it.
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
            propagated = propagate(tx, process.outputs, self.ctx.settings.classifications)
            change = diff(before, attestation)
            if propagated:
                change["propagated"] = propagated
            append_event(
                tx,
                principal=principal,
                action="attest_process",
                target_ids=[process_id, *process.outputs],
                change=change,
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

    # -- reading -----------------------------------------------------------------------------------------

    def _check_depth(self, depth: int) -> None:
        cap = self.ctx.settings.lineage_max_depth
        if depth < 0 or depth > cap:
            raise InvalidInput("depth", f"must be between 0 and {cap} (CATALOG_LINEAGE_MAX_DEPTH)")

    def visible(self, principal: Principal, ids: Sequence[str]) -> set[str]:
        """Which of these datasets `principal` may see, filtered in the store (no query when it sees all)."""
        visibility = self.ctx.gate.visible_datasets(principal)
        if visibility == TRUE or not ids:
            return set(ids)
        return self.ctx.store.read(lambda tx: _matching(tx, Label.DATASET, ids, visibility))

    def view(
        self, principal: Principal, dataset_id: str, direction: Direction, depth: int, include_fields: bool = False
    ) -> LineageView:
        """The lineage graph around a dataset. Datasets the principal may not see come back redacted.

        With `include_fields`, the datasets' fields are nodes too, with HAS_FIELD edges and the DERIVED_FROM
        edges of column-level lineage between them.
        """
        self._check_depth(depth)
        visibility = self.ctx.gate.visible_datasets(principal)

        def read(tx: GraphTx) -> tuple[LineageGraph, dict[str, Props], dict[str, Props]]:
            self._require_visible_root(tx, dataset_id, visibility)
            graph = tx.lineage(dataset_id, direction, depth)  # NotFound when the root is missing
            ids = tuple(graph.datasets)
            seen = tx.find_nodes(Label.DATASET, all_of(IdIn(ids), visibility), first=len(ids))
            return graph, dict(seen.items), tx.get_nodes(Label.PROCESS, list(graph.processes))

        graph, seen, processes = self.ctx.store.read(read)
        visible = {id: from_props(Dataset, props) for id, props in seen.items()}
        alias = {id: self.redact(id) for id in graph.datasets if id not in visible}

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
                shown_field[fid] = self.redact(fid) if hidden else fid
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
        visibility = self.ctx.gate.visible_datasets(principal)

        def walk(tx: GraphTx) -> tuple[Impact, set[str], set[str]]:
            self._require_visible_root(tx, dataset_id, visibility)
            found = tx.impact(dataset_id, depth)  # NotFound when the root is missing
            visible = _matching(tx, Label.DATASET, list(found.datasets), visibility)
            return found, visible, _matching(tx, Label.AGREEMENT, list(found.agreements), readable(principal))

        found, visible, readable_ids = self.ctx.store.read(walk)

        def shown(id: str) -> str:
            return id if id in visible else self.redact(id)

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
                    id=id if ok else self.redact(id),
                    redacted=not ok,
                    status=agreement.status if ok else None,
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
        shown = [id if i % 2 or id in visible else self.redact(id) for i, id in enumerate(steps)]
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

    def redact(self, dataset_id: str) -> str:
        """An opaque stand-in for a hidden node: stable, but not reversible without the server's secret."""
        key = self.ctx.settings.auth.jwt_secret.encode()
        return "redacted-" + hmac.new(key, dataset_id.encode(), hashlib.sha256).hexdigest()[:16]


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
