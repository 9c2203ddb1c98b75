"""A dataset's provenance as W3C PROV: PROV-JSON (a JSON document) and PROV-O (Turtle, through rdflib).

The document holds the dataset's upstream lineage as far as CATALOG_LINEAGE_MAX_DEPTH reaches, as the viewer
may see it: datasets are prov:Entity, processes prov:Activity, owning agencies prov:Agent (prov:Organization),
with used, wasGeneratedBy, wasDerivedFrom and wasAttributedTo between them. A hidden dataset keeps its place in
the graph under its redacted id, with no other property. Ids become IRIs under the server's base URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef

from catalog.domain import is_http_url
from catalog.errors import InvalidInput
from catalog.principal import Principal
from catalog.services.lineage import Lineage, LineageView
from catalog.services.reads import Reads
from catalog.store.records import timestamp

PROV = Namespace("http://www.w3.org/ns/prov#")


@dataclass
class ProvenanceDocument:
    """The parts both serializations share, already redacted."""

    base_url: str
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)  # dataset id -> attributes
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)  # process id -> attributes
    agents: dict[str, str] = field(default_factory=dict)  # agency id -> name
    used: list[tuple[str, str]] = field(default_factory=list)  # (process, dataset)
    generated: list[tuple[str, str]] = field(default_factory=list)  # (dataset, process)
    attributed: list[tuple[str, str]] = field(default_factory=list)  # (dataset, agency)

    def iri(self, kind: str, id: str) -> str:
        return f"{self.base_url.rstrip('/')}/{kind}/{quote(id, safe='')}"

    @property
    def vocabulary(self) -> str:
        return f"{self.base_url.rstrip('/')}/ns#"

    def derivations(self) -> list[tuple[str, str, str]]:
        """(generated dataset, used dataset, process): each output was derived from each input of its process."""
        inputs: dict[str, list[str]] = {}
        for process, dataset in self.used:
            inputs.setdefault(process, []).append(dataset)
        return sorted((out, used, p) for out, p in self.generated for used in inputs.get(p, []))


class Provenance:
    def __init__(self, lineage: Lineage, reads: Reads) -> None:
        self.lineage = lineage
        self.reads = reads

    def document(self, principal: Principal, dataset_id: str, base_url: str) -> ProvenanceDocument:
        """The upstream provenance of a dataset the principal may see (NotFound otherwise)."""
        if not is_http_url(base_url):  # its IRIs are made from it, and rdflib refuses what is not one
            raise InvalidInput("base_url", "must be an absolute http(s) URL")
        depth = self.lineage.ctx.settings.lineage_max_depth
        view = self.lineage.view(principal, dataset_id, "UPSTREAM", depth)
        agencies = self.reads.agencies_by_ids(
            sorted({n.dataset.owner_agency_id for n in view.nodes if n.dataset is not None})
        )
        return _document(view, {id: a.name for id, a in agencies.items()}, base_url)

    def prov_json(self, principal: Principal, dataset_id: str, base_url: str) -> str:
        return json.dumps(to_prov_json(self.document(principal, dataset_id, base_url)), indent=2, sort_keys=True)

    def turtle(self, principal: Principal, dataset_id: str, base_url: str) -> str:
        return to_graph(self.document(principal, dataset_id, base_url)).serialize(format="turtle")


def _document(view: LineageView, agency_names: dict[str, str], base_url: str) -> ProvenanceDocument:
    doc = ProvenanceDocument(base_url)
    for node in view.nodes:
        if node.kind == "DATASET":
            dataset = node.dataset
            if dataset is None:
                doc.entities[node.id] = {"redacted": True}
                continue
            doc.entities[node.id] = {
                "label": dataset.title,
                "classification": dataset.classification,
                "effectiveClassification": dataset.effective_classification or dataset.classification,
                "personalData": dataset.personal_data.value,
                "identifiability": dataset.identifiability.value,
                "version": dataset.version,
            }
            doc.agents[dataset.owner_agency_id] = agency_names.get(dataset.owner_agency_id, dataset.owner_agency_id)
            doc.attributed.append((node.id, dataset.owner_agency_id))
        elif node.kind == "PROCESS" and node.process is not None:
            process = node.process
            attributes: dict[str, Any] = {
                "label": process.name,
                "kind": process.kind.value,
                "recordedAt": timestamp(process.recorded_at),
            }
            if process.run_id:
                attributes["runId"] = process.run_id
            if process.attested_identifiability:
                attributes["attestedIdentifiability"] = process.attested_identifiability.value
                attributes["attestedBy"] = process.attested_by
            doc.activities[node.id] = attributes
    for rel, source, target in view.edges:
        if rel == "USED":
            doc.used.append((source, target))
        elif rel == "GENERATED_BY":
            doc.generated.append((source, target))
    return doc


def to_prov_json(doc: ProvenanceDocument) -> dict[str, Any]:
    """The W3C PROV-JSON serialization (https://www.w3.org/submissions/prov-json/)."""

    def qualified(kind: str, id: str) -> str:
        return f"{kind}:{quote(id, safe='')}"

    def attributes(values: dict[str, Any], prov_type: str) -> dict[str, Any]:
        out: dict[str, Any] = {"prov:type": {"$": prov_type, "type": "prov:QUALIFIED_NAME"}}
        for key, value in values.items():
            out["prov:label" if key == "label" else f"catalog:{key}"] = value
        return out

    relations: dict[str, dict[str, Any]] = {
        "used": {},
        "wasGeneratedBy": {},
        "wasAttributedTo": {},
        "wasDerivedFrom": {},
    }
    for i, (process, dataset) in enumerate(sorted(doc.used)):
        relations["used"][f"_:u{i}"] = {
            "prov:activity": qualified("process", process),
            "prov:entity": qualified("dataset", dataset),
        }
    for i, (dataset, process) in enumerate(sorted(doc.generated)):
        relations["wasGeneratedBy"][f"_:g{i}"] = {
            "prov:entity": qualified("dataset", dataset),
            "prov:activity": qualified("process", process),
        }
    for i, (dataset, agency) in enumerate(sorted(doc.attributed)):
        relations["wasAttributedTo"][f"_:a{i}"] = {
            "prov:entity": qualified("dataset", dataset),
            "prov:agent": qualified("agency", agency),
        }
    for i, (out, used, process) in enumerate(doc.derivations()):
        relations["wasDerivedFrom"][f"_:d{i}"] = {
            "prov:generatedEntity": qualified("dataset", out),
            "prov:usedEntity": qualified("dataset", used),
            "prov:activity": qualified("process", process),
        }
    base = doc.base_url.rstrip("/")
    return {
        "prefix": {
            "prov": str(PROV),
            "catalog": doc.vocabulary,
            "dataset": f"{base}/datasets/",
            "process": f"{base}/processes/",
            "agency": f"{base}/agencies/",
        },
        "entity": {qualified("dataset", id): attributes(a, "catalog:Dataset") for id, a in doc.entities.items()},
        "activity": {qualified("process", id): attributes(a, "catalog:Process") for id, a in doc.activities.items()},
        "agent": {
            qualified("agency", id): {
                "prov:type": {"$": "prov:Organization", "type": "prov:QUALIFIED_NAME"},
                "prov:label": name,
            }
            for id, name in doc.agents.items()
        },
        **{name: body for name, body in relations.items() if body},
    }


def to_graph(doc: ProvenanceDocument) -> Graph:
    """The PROV-O (https://www.w3.org/TR/prov-o/) graph of the document."""
    graph = Graph()
    catalog = Namespace(doc.vocabulary)
    graph.bind("prov", PROV)
    graph.bind("catalog", catalog)

    def node(kind: str, id: str) -> URIRef:
        return URIRef(doc.iri(kind, id))

    for id, attributes in doc.entities.items():
        subject = node("datasets", id)
        graph.add((subject, RDF.type, PROV.Entity))
        graph.add((subject, RDF.type, catalog.Dataset))
        for key, value in attributes.items():
            predicate = RDFS.label if key == "label" else catalog[key]
            graph.add((subject, predicate, Literal(value)))
    for id, attributes in doc.activities.items():
        subject = node("processes", id)
        graph.add((subject, RDF.type, PROV.Activity))
        for key, value in attributes.items():
            if key == "recordedAt":
                graph.add((subject, PROV.endedAtTime, Literal(value, datatype=XSD.dateTime)))
                continue
            graph.add((subject, RDFS.label if key == "label" else catalog[key], Literal(value)))
    for id, name in doc.agents.items():
        subject = node("agencies", id)
        graph.add((subject, RDF.type, PROV.Agent))
        graph.add((subject, RDF.type, PROV.Organization))
        graph.add((subject, RDFS.label, Literal(name)))
    for process, dataset in doc.used:
        graph.add((node("processes", process), PROV.used, node("datasets", dataset)))
    for dataset, process in doc.generated:
        graph.add((node("datasets", dataset), PROV.wasGeneratedBy, node("processes", process)))
    for dataset, agency in doc.attributed:
        graph.add((node("datasets", dataset), PROV.wasAttributedTo, node("agencies", agency)))
    for out, used, _ in doc.derivations():
        graph.add((node("datasets", out), PROV.wasDerivedFrom, node("datasets", used)))
    return graph
