"""Classification propagation: a dataset is as restricted as the most restricted data it was derived from.

A dataset's effective classification (and, separately, its effective personal-data category) is the most
restrictive of its own and those of every upstream dataset, with one exception: a DEIDENTIFY or AGGREGATE
process that a steward has attested (as DEIDENTIFIED or AGGREGATE output) stops restrictions at that process.
Its outputs take the attested level from there on, which we define as:

- personal data: NONE (the attestation says no person can be identified in the output);
- classification: the output's own declared classification (the steward who declared it vouches for it).

Either way a dataset's own values are the floor: propagation only ever tightens.

Each effective value carries the path it came from, e.g. `health.admissions via p-link` or
`raw via p-1 -> mid -> p-2`, which the policy engine quotes in refusals (`r.obj.restricted_by`). Of several
equally restrictive upstreams the one with the shortest path wins, then the one whose path sorts first, so the
result is the same however the graph was built. It is recomputed for the changed datasets and everything
downstream of them, in the caller's transaction: a lineage change and the values it implies commit together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from catalog.domain import PERSONAL_DATA_ORDER, Identifiability, PersonalData, ProcessKind, rank
from catalog.store.base import GraphTx, Props
from catalog.store.schema import Label, Rel

ATTESTED_KINDS = frozenset({ProcessKind.DEIDENTIFY.value, ProcessKind.AGGREGATE.value})
ATTESTED_LEVELS = frozenset({Identifiability.DEIDENTIFIED.value, Identifiability.AGGREGATE.value})
# Stored beside the effective values so a later, partial recomputation can extend an upstream's path.
CLASSIFICATION_PATH = "classification_origin_path"
PERSONAL_DATA_PATH = "personal_data_origin_path"


@dataclass(frozen=True)
class Level:
    """One effective value: its rank, its name, and the path it came down (empty when it is the dataset's own)."""

    rank: int
    value: str
    path: tuple[str, ...] = ()

    def key(self) -> tuple[int, int, tuple[str, ...]]:
        """Smaller is better: more restrictive, then a shorter path, then the path that sorts first."""
        return (-self.rank, len(self.path), self.path)

    def through(self, dataset: str, process: str) -> Level:
        """This level as seen by an output of `process`, which used `dataset`."""
        start = (*self.path, dataset) if self.path else (dataset,)
        return Level(self.rank, self.value, (*start, process))


def describe(path: Sequence[str]) -> str | None:
    """`origin via p-1 -> mid -> p-2`, or None for a dataset's own value."""
    if not path:
        return None
    return f"{path[0]} via {' -> '.join(path[1:])}"


def own_effective(classification: str, personal_data: str) -> Props:
    """The stored effective values of a dataset that nothing restricts but itself."""
    return {"effective_classification": classification, "effective_personal_data": personal_data}


def effective_fields(props: Props) -> dict[str, Any]:
    """A dataset's stored effective values as Dataset model fields."""
    personal = props.get("effective_personal_data")
    return {
        "effective_classification": props.get("effective_classification"),
        "effective_personal_data": PersonalData(personal) if personal else None,
        "restricted_by": props.get("restricted_by"),
    }


def attested(process: Props | None) -> bool:
    """Whether restrictions stop at this process: an attested de-identify or aggregate step."""
    return bool(
        process and process.get("kind") in ATTESTED_KINDS and process.get("attested_identifiability") in ATTESTED_LEVELS
    )


def downstream_closure(tx: GraphTx, dataset_ids: Iterable[str]) -> set[str]:
    """The datasets themselves and everything derived from them, however far (two round trips per hop)."""
    reached = set(dataset_ids)
    frontier = sorted(reached)
    while frontier:
        users = tx.neighbors(Rel.USED, frontier, "in")
        processes = sorted({p for found in users.values() for p in found})
        outputs = tx.neighbors(Rel.GENERATED_BY, processes, "in")
        frontier = sorted({d for found in outputs.values() for d in found} - reached)
        reached.update(frontier)
    return reached


class _Dimension:
    """One ordered scale (classification or personal data) and where a dataset keeps it."""

    def __init__(self, scheme: Sequence[str], own: str, effective: str, path: str, default: str) -> None:
        self.scheme, self.own, self.effective, self.path, self.default = list(scheme), own, effective, path, default

    def rank(self, value: str) -> int:
        return rank(self.scheme, value)  # an unknown value (a scheme shrunk since it was set) is the most restrictive

    def own_level(self, props: Props) -> Level:
        value = str(props.get(self.own) or self.default)
        return Level(self.rank(value), value)

    def stored_level(self, props: Props) -> Level:
        """What a dataset outside the recomputed part holds already (its own value if never computed)."""
        value = props.get(self.effective)
        if value is None:
            return self.own_level(props)
        return Level(self.rank(str(value)), str(value), tuple(props.get(self.path) or ()))


@dataclass
class _Graph:
    """The part of the lineage graph a recomputation needs, read in a handful of round trips."""

    affected: dict[str, Props]
    generators: dict[str, list[str]]  # dataset -> processes that generated it, excluding attested ones
    inputs: dict[str, list[str]]  # process -> datasets it used
    boundary: dict[str, Props]  # inputs outside `affected`: their stored values are final
    consumers: dict[str, set[str]]  # dataset -> affected datasets generated from it


def _read_graph(tx: GraphTx, changed: Iterable[str]) -> _Graph:
    affected_ids = sorted(downstream_closure(tx, changed))
    affected = tx.get_nodes(Label.DATASET, affected_ids)
    generated_by = tx.neighbors(Rel.GENERATED_BY, affected_ids, "out")
    processes = sorted({p for found in generated_by.values() for p in found})
    process_props = tx.get_nodes(Label.PROCESS, processes)
    open_processes = [p for p in processes if not attested(process_props.get(p))]
    inputs = tx.neighbors(Rel.USED, open_processes, "out")
    outside = sorted({d for found in inputs.values() for d in found} - set(affected))
    boundary = tx.get_nodes(Label.DATASET, outside)
    generators = {d: [p for p in generated_by[d] if p in inputs] for d in affected}
    consumers: dict[str, set[str]] = {}
    for dataset, found in generators.items():
        for process in found:
            for source in inputs[process]:
                consumers.setdefault(source, set()).add(dataset)
    return _Graph(affected, generators, inputs, boundary, consumers)


def _solve(graph: _Graph, dimension: _Dimension) -> dict[str, Level]:
    """Best level per affected dataset: a worklist fixpoint. Every update strictly improves a well-ordered key
    (rank up, or the same rank by a shorter or earlier path), so it ends, cycles included."""
    levels = {d: dimension.own_level(props) for d, props in graph.affected.items()}
    fixed = {d: dimension.stored_level(props) for d, props in graph.boundary.items()}
    pending = sorted(levels)
    queued = set(pending)
    while pending:
        dataset = pending.pop()
        queued.discard(dataset)
        best = levels[dataset]
        for process in graph.generators[dataset]:
            for source in graph.inputs[process]:
                upstream = levels.get(source) or fixed.get(source)
                if upstream is None:
                    continue  # an input with no node: the edge outlived it
                candidate = upstream.through(source, process)
                if candidate.key() < best.key():
                    best = candidate
        if best != levels[dataset]:
            levels[dataset] = best
            for consumer in graph.consumers.get(dataset, ()):
                if consumer not in queued:
                    queued.add(consumer)
                    pending.append(consumer)
    return levels


def propagate(tx: GraphTx, changed: Iterable[str], classifications: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Recompute the effective values of `changed` and everything downstream, writing those that differ.

    Returns what changed per dataset as `{prop: {"before": ..., "after": ...}}`, for the caller's audit event.
    """
    graph = _read_graph(tx, changed)
    classification = _Dimension(
        classifications, "classification", "effective_classification", CLASSIFICATION_PATH, classifications[0]
    )
    personal = _Dimension(
        [p.value for p in PERSONAL_DATA_ORDER],
        "personal_data",
        "effective_personal_data",
        PERSONAL_DATA_PATH,
        PERSONAL_DATA_ORDER[0].value,
    )
    by_classification, by_personal = _solve(graph, classification), _solve(graph, personal)
    changes: dict[str, dict[str, Any]] = {}
    for dataset, props in sorted(graph.affected.items()):
        level, personal_level = by_classification[dataset], by_personal[dataset]
        computed = {
            "effective_classification": level.value,
            "effective_personal_data": personal_level.value,
            "restricted_by": describe(level.path) or describe(personal_level.path),
            CLASSIFICATION_PATH: list(level.path) or None,
            PERSONAL_DATA_PATH: list(personal_level.path) or None,
        }
        different = {k: v for k, v in computed.items() if props.get(k) != v}
        if not different:
            continue
        tx.update_node(Label.DATASET, dataset, different)
        changes[dataset] = {
            k: {"before": props.get(k), "after": v} for k, v in different.items() if not k.endswith("_path")
        }
    return {dataset: change for dataset, change in changes.items() if change}
