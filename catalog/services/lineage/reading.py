"""Reading the lineage graph: a dataset's upstream and downstream, the impact of a change, the path between
two datasets; each redacted to what the viewer may see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from catalog.domain import (
    Dataset,
    DatasetField,
    Process,
    status_at,
)
from catalog.errors import InvalidInput, NotFound
from catalog.principal import Principal
from catalog.services.context import ServiceContext
from catalog.services.decisions import Decisions
from catalog.services.lineage.views import (
    ImpactedAgreement,
    ImpactedDataset,
    ImpactView,
    LineageNode,
    LineageView,
)
from catalog.services.reads import Reads
from catalog.services.redaction import Redaction
from catalog.store.base import GraphTx, Impact, LineageDirection, Props
from catalog.store.query import TRUE, IdIn, LineageGraph, Predicate, all_of
from catalog.store.records import from_props
from catalog.store.schema import Label, Rel


class Reading:
    """The reading half of `Lineage`."""

    ctx: ServiceContext
    reads: Reads
    redaction: Redaction
    decisions: Decisions

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

