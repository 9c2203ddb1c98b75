"""Publish the catalog as DCAT-AP 3 (Turtle or JSON-LD), for open-data portals to harvest.

Only what policy lets an anonymous reader see is published: the datasets come from the services' read path as
ANONYMOUS, so a restricted dataset is never fetched, let alone described. The graph conforms to the DCAT-AP
3.0.1 SHACL shapes: every node a property points at is typed with the class the shapes expect, and formats and
access rights use the EU vocabularies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from rdflib import RDF, SKOS, XSD, BNode, Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCAT, DCTERMS, FOAF

from catalog.domain import Agency, Dataset, DatasetStatus, Distribution, is_http_url
from catalog.policy.vocabulary import Vocabulary
from catalog.principal import ANONYMOUS
from catalog.services import DatasetFilter, Services
from catalog.services.decisions import Offer
from catalog.services.odrl import OdrlIris, duty_terms, purpose_iri

Format = Literal["ttl", "jsonld"]
MEDIA_TYPES: dict[str, str] = {"ttl": "text/turtle; charset=utf-8", "jsonld": "application/ld+json"}
DCATAP = Namespace("http://data.europa.eu/r5r/")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPE_SCHEME = URIRef(EU + "file-type")
ACCESS_RIGHT_SCHEME = URIRef(EU + "access-right")
DCAT_AP_3 = URIRef("http://data.europa.eu/r5r/")
# Common format names as codes of the EU file-type vocabulary, which the DCAT-AP shapes require for dct:format.
FILE_TYPES: dict[str, str] = {
    name: code
    for code, names in {
        "CSV": ("CSV", "TEXT/CSV"),
        "TSV": ("TSV",),
        "PDF": ("PDF", "APPLICATION/PDF"),
        "XLS": ("XLS", "APPLICATION/VND.MS-EXCEL"),
        "XLSX": ("XLSX",),
        "ODS": ("ODS",),
        "DOC": ("DOC",),
        "DOCX": ("DOCX",),
        "ODT": ("ODT",),
        "JSON": ("JSON", "APPLICATION/JSON"),
        "GEOJSON": ("GEOJSON",),
        "JSON_LD": ("JSON-LD", "JSONLD"),
        "XML": ("XML", "APPLICATION/XML", "TEXT/XML"),
        "RDF_XML": ("RDF", "RDF/XML", "RDF-XML"),
        "RDF_TURTLE": ("TTL", "TURTLE"),
        "HTML": ("HTML", "TEXT/HTML", "HTM"),
        "TXT": ("TXT", "TEXT", "TEXT/PLAIN"),
        "ZIP": ("ZIP", "APPLICATION/ZIP"),
        "GZIP": ("GZ", "GZIP"),
        "KML": ("KML",),
        "KMZ": ("KMZ",),
        "SHP": ("SHP", "SHAPEFILE", "ESRI SHAPEFILE"),
        "GML": ("GML",),
        "WMS_SRVC": ("WMS",),
        "WFS_SRVC": ("WFS",),
        "PNG": ("PNG",),
        "JPEG": ("JPEG", "JPG"),
        "PARQUET": ("PARQUET",),
    }.items()
    for name in names
}


@dataclass(frozen=True)
class CatalogDescription:
    """What the catalogue says about itself. DCAT-AP requires a title, a description and one publisher."""

    base_url: str
    title: str = "Public Catalog"
    description: str = "Metadata of public-sector datasets, as published by the agencies that hold them."
    publisher: str = "Public Catalog"

    def iri(self, *parts: str) -> URIRef:
        return URIRef("/".join([self.base_url.rstrip("/"), *(quote(p, safe="") for p in parts)]))


def public_datasets(services: Services) -> Iterator[Dataset]:
    """Every dataset an anonymous reader may see, page by page, through the policy-filtered read path."""
    size, after = services.ctx.settings.api.max_page_size, None
    while True:
        listing = services.reads.datasets(ANONYMOUS, DatasetFilter(), size, after)
        yield from listing.items
        if not listing.has_next:
            return
        after = listing.end_cursor


def _iri(url: str) -> URIRef:
    """A URL from a source as an IRI, with the characters an IRI may not hold percent-encoded."""
    return URIRef(quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~"))


def _web(url: str | None) -> bool:
    """Whether a stored URL may be published: only http(s). Input is checked, but a record stored before that
    was may still hold a `javascript:` URL, which a consumer would render as a link."""
    return url is not None and is_http_url(url.strip())


def _date(value: datetime) -> RdfLiteral:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return RdfLiteral(aware.astimezone(UTC).replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


def _add_agent(graph: Graph, node: URIRef, name: str) -> URIRef:
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, FOAF.name, RdfLiteral(name)))
    return node


def _add_distribution(graph: Graph, dataset: Dataset, item: Distribution) -> BNode:
    node = BNode()
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCAT.accessURL, _iri(item.access_url)))
    if item.download_url and _web(item.download_url):
        graph.add((node, DCAT.downloadURL, _iri(item.download_url)))
    if item.title:
        graph.add((node, DCTERMS.title, RdfLiteral(item.title)))
    if item.description:
        graph.add((node, DCTERMS.description, RdfLiteral(item.description)))
    code = FILE_TYPES.get(item.format.strip().upper()) or FILE_TYPES.get(item.media_type.strip().upper())
    if code:
        file_type = URIRef(f"{EU}file-type/{code}")
        graph.add((node, DCTERMS.format, file_type))
        graph.add((file_type, RDF.type, DCTERMS.MediaTypeOrExtent))
        graph.add((file_type, SKOS.inScheme, FILE_TYPE_SCHEME))
    if dataset.licence and _web(dataset.licence.url):
        assert dataset.licence.url is not None
        licence = _iri(dataset.licence.url)
        graph.add((node, DCTERMS.license, licence))
        graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
        if dataset.licence.title:
            graph.add((licence, DCTERMS.title, RdfLiteral(dataset.licence.title)))
    return node


def _add_offer(
    graph: Graph, about: CatalogDescription, dataset_id: str, assigner: URIRef, offer: Offer, vocabulary: Vocabulary
) -> URIRef:
    """The ODRL offer the access policy would make on a dataset: one `odrl:use` permission per access method it
    grants, for the purposes it grants it for (DPV terms), with that method's obligations as duties."""
    node, target, iris = about.iri("offer", dataset_id), about.iri("dataset", dataset_id), OdrlIris(about.base_url)
    graph.add((node, RDF.type, ODRL.Offer))
    graph.add((node, RDF.type, ODRL.Policy))  # the class DCAT-AP names for odrl:hasPolicy (no inference there)
    graph.add((node, ODRL.profile, URIRef(iris.profile)))
    grants: dict[str, list[str]] = {"": []} if offer.open else offer.purposes_by_method
    for method, purposes in grants.items():
        permission = BNode()
        graph.add((node, ODRL.permission, permission))
        for predicate, value in ((RDF.type, ODRL.Permission), (ODRL.target, target), (ODRL.assigner, assigner)):
            graph.add((permission, predicate, value))
        graph.add((permission, ODRL.action, ODRL.use))
        if method:
            _add_constraint(graph, permission, ODRL.deliveryChannel, ODRL.eq, [RdfLiteral(method)])
        if purposes:
            dpv = [URIRef(purpose_iri(p, vocabulary, iris)) for p in purposes]
            _add_constraint(graph, permission, ODRL.purpose, ODRL.isAnyOf, dpv)
        for obligation in offer.obligations if offer.open else offer.obligations_by_method.get(method, []):
            action, text = duty_terms(iris, obligation)
            duty = BNode()
            graph.add((permission, ODRL.duty, duty))
            graph.add((duty, RDF.type, ODRL.Duty))
            graph.add((duty, ODRL.action, URIRef(action)))
            if text:
                graph.add((duty, DCTERMS.description, RdfLiteral(text)))
    return node


def _add_constraint(
    graph: Graph, rule: BNode, left: URIRef, operator: URIRef, right: Sequence[URIRef | RdfLiteral]
) -> None:
    constraint = BNode()
    graph.add((rule, ODRL.constraint, constraint))
    graph.add((constraint, RDF.type, ODRL.Constraint))
    graph.add((constraint, ODRL.leftOperand, left))
    graph.add((constraint, ODRL.operator, operator))
    for value in right:
        graph.add((constraint, ODRL.rightOperand, value))


def _access_rights(graph: Graph, classification: str) -> URIRef:
    # Policy decides who sees what; the vocabulary only says whether the data itself is open to everyone.
    right = URIRef(f"{EU}access-right/{'PUBLIC' if classification == 'PUBLIC' else 'RESTRICTED'}")
    graph.add((right, RDF.type, DCTERMS.RightsStatement))
    graph.add((right, SKOS.inScheme, ACCESS_RIGHT_SCHEME))
    return right


def _add_dataset(
    graph: Graph, about: CatalogDescription, dataset: Dataset, publisher: URIRef, offer: URIRef | None
) -> URIRef:
    node = about.iri("dataset", dataset.id)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, RdfLiteral(dataset.id)))
    graph.add((node, DCTERMS.title, RdfLiteral(dataset.title)))
    # DCAT-AP requires a description; a dataset registered without one is described by its title.
    graph.add((node, DCTERMS.description, RdfLiteral(dataset.description or dataset.title)))
    graph.add((node, DCTERMS.publisher, publisher))
    graph.add((node, DCTERMS.issued, _date(dataset.created_at)))
    graph.add((node, DCTERMS.modified, _date(dataset.source_modified or dataset.updated_at)))
    graph.add((node, DCTERMS.accessRights, _access_rights(graph, dataset.classification)))
    for tag in dataset.tags:
        graph.add((node, DCAT.keyword, RdfLiteral(tag)))
    if dataset.source_url and _web(dataset.source_url):
        page = _iri(dataset.source_url)
        graph.add((node, DCAT.landingPage, page))
        graph.add((page, RDF.type, FOAF.Document))
    for item in (d for d in dataset.distributions if _web(d.access_url)):
        distribution = _add_distribution(graph, dataset, item)
        graph.add((node, DCAT.distribution, distribution))
        if offer is not None:
            graph.add((distribution, ODRL.hasPolicy, offer))
    return node


def catalog_graph(services: Services, about: CatalogDescription) -> Graph:
    """The DCAT-AP 3 graph of everything an anonymous reader may see. Withdrawn datasets are left out."""
    graph = Graph()
    for prefix, namespace in (
        ("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("skos", SKOS), ("dcatap", DCATAP), ("odrl", ODRL)
    ):
        graph.bind(prefix, namespace)
    catalog = about.iri("dcat", "catalog")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, RdfLiteral(about.title)))
    graph.add((catalog, DCTERMS.description, RdfLiteral(about.description)))
    graph.add((catalog, DCTERMS.conformsTo, DCAT_AP_3))
    graph.add((DCAT_AP_3, RDF.type, DCTERMS.Standard))
    graph.add((catalog, DCTERMS.publisher, _add_agent(graph, about.iri("dcat", "publisher"), about.publisher)))
    homepage = URIRef(about.base_url.rstrip("/") + "/")
    graph.add((catalog, FOAF.homepage, homepage))
    graph.add((homepage, RDF.type, FOAF.Document))
    datasets = [d for d in public_datasets(services) if d.status != DatasetStatus.WITHDRAWN]
    agencies: dict[str, Agency] = services.reads.agencies_by_ids(sorted({d.owner_agency_id for d in datasets}))
    publishers = {
        id: _add_agent(graph, about.iri("agency", id), agencies[id].name if id in agencies else id)
        for id in sorted({d.owner_agency_id for d in datasets})
    }
    offers = services.odrl.offers([d.id for d in datasets if d.distributions])
    for dataset in datasets:
        publisher, offer = publishers[dataset.owner_agency_id], None
        if dataset.id in offers and _grants(offers[dataset.id]):
            offer = _add_offer(graph, about, dataset.id, publisher, offers[dataset.id], services.vocabulary)
        graph.add((catalog, DCAT.dataset, _add_dataset(graph, about, dataset, publisher, offer)))
    if datasets:
        graph.add((catalog, DCTERMS.modified, _date(max(d.updated_at for d in datasets))))
    return graph


def _grants(offer: Offer) -> bool:
    return offer.open or bool(offer.purposes_by_method)


CONTEXT = {
    "dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "skos": str(SKOS), "xsd": str(XSD), "odrl": str(ODRL)
}


def serialize(graph: Graph, fmt: Format) -> bytes:
    """The graph as Turtle or JSON-LD (compacted with the usual prefixes)."""
    if fmt == "jsonld":
        return graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True).encode()
    return graph.serialize(format="turtle").encode()


def export(services: Services, about: CatalogDescription, fmt: Format) -> bytes:
    return serialize(catalog_graph(services, about), fmt)
