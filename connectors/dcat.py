"""Import a DCAT or DCAT-AP catalogue (Turtle, RDF/XML or JSON-LD) from a file or a URL.

Publishers become agencies and dcat:Dataset nodes become datasets, with their keywords, landing page, licence
and distributions. Each dataset is mapped on its own: one that cannot be is reported and the import goes on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field
from rdflib import RDF, RDFS, SKOS, Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCAT, DCTERMS, FOAF
from rdflib.plugins.parsers.jsonld import to_rdf
from rdflib.term import Node

from catalog.domain import Agency, Dataset, Distribution, Extra, Licence, is_http_url, parse_model
from catalog.errors import CatalogError, InvalidInput
from connectors.base import Connector, ConnectorConfig, ConnectorContext, Record
from connectors.http import HttpFetcher, HttpSettings, UpstreamError
from connectors.records import AgencyRecord, DatasetRecord

RdfFormat = Literal["turtle", "xml", "json-ld"]
SUFFIXES: dict[str, RdfFormat] = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
    ".jsonld": "json-ld",
    ".json": "json-ld",
}
CONTENT_TYPES: dict[str, RdfFormat] = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
}
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
OPEN_ACCESS = "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
NAME_PROPERTIES = (FOAF.name, SKOS.prefLabel, VCARD.fn, RDFS.label, DCTERMS.title)
_UNSAFE = re.compile(r"[^A-Za-z0-9._:@-]+")
MAX_TEXT = 20_000
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")


def parse_rdf(content: bytes | str, fmt: str, base: str | None = None) -> Graph:
    """The triples of a Turtle, RDF/XML or JSON-LD document, with relative IRIs resolved against `base`.

    JSON-LD goes straight to rdflib's `to_rdf` with a plain Graph: `Graph.parse` would wrap that graph in the
    deprecated ConjunctiveGraph (rdflib 7.x, RDFLib/rdflib#3064), and a Dataset sink hits the deprecated
    `default_context`. A plain Graph takes the default graph and the triples of any named graph alike, as a
    harvest wants.
    """
    if fmt != "json-ld":
        return Graph().parse(data=content, format=fmt, publicID=base)
    graph = Graph()
    to_rdf(json.loads(content), graph, base=base)
    return graph


class DcatConfig(HttpSettings, ConnectorConfig):
    source: str = Field(description="A file path or an http(s) URL of the catalogue.")
    format: RdfFormat | None = Field(None, description="turtle, xml or json-ld [default: from the name or type].")
    id_prefix: str = Field("", description="Prepended to agency and dataset ids, to keep catalogues apart.")
    agency: str | None = Field(None, description="Agency id for datasets that name no publisher.")
    open_classification: str = Field("PUBLIC", description="Classification of datasets open to everyone.")
    closed_classification: str = Field("OFFICIAL", description="Classification when dct:accessRights is not PUBLIC.")


def slug(text: str) -> str:
    """A catalog identifier made from free text or an IRI segment; a digest when nothing usable is left."""
    cleaned = _UNSAFE.sub("-", text.strip()).strip("-._:@")[:120]
    return cleaned or "x-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _segment(node: Node) -> str:
    """The last path segment or fragment of an IRI: `.../corporate-body/DIGIT` -> `DIGIT`."""
    return re.split(r"[/#]", str(node).rstrip("/#"))[-1] if isinstance(node, URIRef) else ""


def _literal(graph: Graph, node: Node, *predicates: URIRef) -> str:
    """The first literal value of the first predicate that has one, English or untagged preferred."""
    for predicate in predicates:
        values = [v for v in graph.objects(node, predicate) if isinstance(v, RdfLiteral)]
        values.sort(key=lambda v: (v.language not in (None, "en"), str(v)))
        if values:
            return str(values[0]).strip()
    return ""


def _time(value: Node | None) -> datetime | None:
    if not isinstance(value, RdfLiteral):
        return None
    parsed = value.toPython()
    if isinstance(parsed, datetime):
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(parsed, date):
        return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
    return None


def _format(graph: Graph, node: Node, predicate: URIRef) -> str:
    value = graph.value(node, predicate)
    if value is None:
        return ""
    if isinstance(value, URIRef):
        # EU file types end in the code (.../file-type/CSV); IANA media types in type/subtype.
        text = str(value)
        return "/".join(text.split("/")[-2:]) if "iana.org/assignments/media-types" in text else _segment(value)
    return _literal(graph, node, predicate)[:200]


def web_url(value: Node | None) -> str | None:
    """A node's IRI when it is an http(s) URL: the catalog keeps no other kind of link."""
    return str(value) if isinstance(value, URIRef) and is_http_url(str(value)) else None


def distribution_of(graph: Graph, node: Node) -> Distribution | None:
    download = web_url(graph.value(node, DCAT.downloadURL))
    access = web_url(graph.value(node, DCAT.accessURL)) or download
    if access is None:
        return None
    return Distribution(
        title=_literal(graph, node, DCTERMS.title)[:500],
        description=_literal(graph, node, DCTERMS.description)[:MAX_TEXT],
        access_url=access,
        download_url=download,
        format=_format(graph, node, DCTERMS.format)[:100],
        media_type=_format(graph, node, DCAT.mediaType),
    )


def licence_of(graph: Graph, dataset: Node, distributions: list[Node]) -> Licence | None:
    licence = graph.value(dataset, DCTERMS.license)
    for node in distributions:
        licence = licence or graph.value(node, DCTERMS.license)
    if licence is None:
        return None
    title = _literal(graph, licence, DCTERMS.title, RDFS.label, SKOS.prefLabel)
    if isinstance(licence, URIRef):
        return Licence(id=_segment(licence)[:200], title=title[:500], url=web_url(licence))
    return Licence(title=(title or str(licence))[:500])


def offered_terms(graph: Graph, distributions: list[Node]) -> tuple[list[str], list[str]]:
    """The purposes (IRIs) and delivery channels the distributions' ODRL offers (`odrl:hasPolicy`) constrain
    their permissions to, each once, sorted."""
    purposes: dict[str, None] = {}
    channels: dict[str, None] = {}
    constraints = (
        constraint
        for distribution in distributions
        for policy in graph.objects(distribution, ODRL.hasPolicy)
        for rule in graph.objects(policy, ODRL.permission)
        for constraint in graph.objects(rule, ODRL.constraint)
    )
    for constraint in constraints:
        left, values = graph.value(constraint, ODRL.leftOperand), graph.objects(constraint, ODRL.rightOperand)
        if left == ODRL.purpose:
            purposes.update((str(v), None) for v in values if isinstance(v, URIRef))
        elif left == ODRL.deliveryChannel:
            channels.update((str(v), None) for v in values)
    return sorted(purposes), sorted(channels)


class DcatConnector(Connector[DcatConfig]):
    name: ClassVar[str] = "dcat"
    config_class: ClassVar[type[ConnectorConfig]] = DcatConfig

    def __init__(self, config: DcatConfig, ctx: ConnectorContext) -> None:
        super().__init__(config, ctx)
        self.fetcher = HttpFetcher(config, sleep=ctx.sleep)
        self._agencies: set[str] = set()
        self._purposes: dict[str, str] | None = None  # the catalog's purposes by DPV IRI, asked for once

    def _is_url(self) -> bool:
        return self.config.source.startswith(("http://", "https://"))

    def load(self) -> tuple[Graph, str]:
        """The parsed catalogue and the key its datasets are remembered by. Raises UpstreamError."""
        source = self.config.source
        if self._is_url():
            fetched = self.fetcher.get(source)
            content, media, key = fetched.content, fetched.content_type.split(";")[0].strip().lower(), source
            fmt = (
                self.config.format
                or SUFFIXES.get(Path(source.split("?")[0]).suffix.lower())
                or CONTENT_TYPES.get(media)
            )
        else:
            path = Path(source).expanduser()
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise UpstreamError(f"cannot read {path}: {exc.strerror}") from None
            key = path.resolve().as_uri()
            fmt = self.config.format or SUFFIXES.get(path.suffix.lower())
        fmt = fmt or "turtle"
        try:
            graph = parse_rdf(content, fmt, key)
        except Exception as exc:  # rdflib's parsers raise many unrelated types; all mean "not this format"
            raise UpstreamError(f"{source} is not valid {fmt}: {type(exc).__name__}: {exc}") from None
        catalogs = [c for c in graph.subjects(RDF.type, DCAT.Catalog) if isinstance(c, URIRef)]
        # Remember datasets by the catalogue's own IRI when it has one, so moving the file changes nothing.
        return graph, str(catalogs[0]) if len(catalogs) == 1 else key

    def records(self) -> Iterator[Record]:
        try:
            graph, source = self.load()
        except UpstreamError as exc:
            self.report.fail(self.config.source, exc.message)
            return
        nodes = sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)
        self.expected = len(nodes)
        catalog = next(iter(graph.subjects(RDF.type, DCAT.Catalog)), None)
        for node in nodes:
            self.progressed += 1
            try:
                agency = self._publisher(graph, node, catalog)
                dataset = self._dataset(graph, node, agency, source)
            except CatalogError as exc:
                self.report.fail(f"dataset {node}", exc.message)
                continue
            if agency is not None and agency.id not in self._agencies:
                self._agencies.add(agency.id)
                yield AgencyRecord(agency)
            yield DatasetRecord(dataset, self.config.open_classification)

    def _publisher(self, graph: Graph, node: Node, catalog: Node | None) -> Agency | None:
        """The dataset's publisher (or the catalogue's) as an agency; None when the config names one to use."""
        publisher = graph.value(node, DCTERMS.publisher)
        if publisher is None and catalog is not None:
            publisher = graph.value(catalog, DCTERMS.publisher)
        if publisher is None:
            if self.config.agency:
                return None
            raise InvalidInput("dct:publisher", "is required (or give the connector an `agency` to use)")
        name = _literal(graph, publisher, *NAME_PROPERTIES) or _segment(publisher)
        if not name:
            raise InvalidInput("dct:publisher", "has no name (foaf:name) and no IRI to name it by")
        id = self.config.id_prefix + slug(_segment(publisher) or name)
        return parse_model(Agency, {"id": id, "name": name[:500]}, prefix="publisher.")

    def _dataset(self, graph: Graph, node: Node, agency: Agency | None, source: str) -> Dataset:
        title = _literal(graph, node, DCTERMS.title)
        if not title:
            raise InvalidInput("dct:title", "is required")
        identifier = _literal(graph, node, DCTERMS.identifier) or _segment(node) or str(node)
        distributions = sorted(graph.objects(node, DCAT.distribution), key=str)
        access = graph.value(node, DCTERMS.accessRights)
        is_open = access is None or str(access) == OPEN_ACCESS or _segment(access).upper() == "PUBLIC"
        landing = graph.value(node, DCAT.landingPage)
        found = [d for d in (distribution_of(graph, n) for n in distributions) if d is not None]
        purposes = self._offered_purposes(graph, node, distributions)
        payload: dict[str, Any] = {
            "id": self.config.id_prefix + slug(identifier),
            "title": title[:500],
            "description": _literal(graph, node, DCTERMS.description)[:MAX_TEXT],
            "owner_agency_id": agency.id if agency else self.config.agency,
            "classification": self.config.open_classification if is_open else self.config.closed_classification,
            "tags": sorted({k[:100] for k in (str(v).strip() for v in graph.objects(node, DCAT.keyword)) if k}),
            "source_url": web_url(landing) or web_url(node),
            "harvest_source": source,
            "source_modified": _time(graph.value(node, DCTERMS.modified)),
            "licence": licence_of(graph, node, distributions),
            "distributions": sorted(found, key=lambda d: (d.access_url, d.title)),
            "extras": [Extra(key="iri", value=str(node))] if isinstance(node, URIRef) else [],
            "permitted_purposes": purposes,
        }
        return parse_model(Dataset, payload)

    def _offered_purposes(self, graph: Graph, node: Node, distributions: list[Node]) -> list[str]:
        """The catalog's purposes the dataset's ODRL offers name; what cannot be mapped is reported, not kept."""
        iris, channels = offered_terms(graph, distributions)
        if iris and self._purposes is None:
            self._purposes = self.ctx.sink.purposes_by_iri()
        known = self._purposes or {}
        for iri in (i for i in iris if i not in known):
            self.report.warn(f"dataset {node}", f"odrl:purpose {iri}: no purpose of this catalog maps to it; left out")
        if channels:
            self.report.warn(
                f"dataset {node}",
                f"odrl:deliveryChannel {', '.join(channels)}: not imported; here the policy decides access methods",
            )
        return [id for iri, id in known.items() if iri in iris]  # in the catalog's order: a graph has none

    def close(self) -> None:
        self.fetcher.close()
