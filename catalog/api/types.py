"""GraphQL object types. Related objects resolve through the request's batch loaders (no N+1)."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

import graphene
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from catalog import domain
from catalog.api import cursors
from catalog.api.context import call, request_context
from catalog.services.context import Listing

Role = graphene.Enum.from_enum(domain.Role)
PersonalData = graphene.Enum.from_enum(domain.PersonalData)
Identifiability = graphene.Enum.from_enum(domain.Identifiability)
DatasetStatus = graphene.Enum.from_enum(domain.DatasetStatus)
PiiTag = graphene.Enum.from_enum(domain.PiiTag)
LawfulBasis = graphene.Enum.from_enum(domain.LawfulBasis)
ProcessKind = graphene.Enum.from_enum(domain.ProcessKind)
AccessMethod = graphene.Enum.from_enum(domain.AccessMethod)
LineageDirection = graphene.Enum(
    "LineageDirection", [("UPSTREAM", "UPSTREAM"), ("DOWNSTREAM", "DOWNSTREAM"), ("BOTH", "BOTH")]
)


class PageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String()


def connection_type(node: type[graphene.ObjectType], name: str) -> type[graphene.ObjectType]:
    """A Relay-style connection type for `node` (edges with cursors, pageInfo, totalCount)."""
    edge = type(
        f"{name}Edge",
        (graphene.ObjectType,),
        {
            "cursor": graphene.String(required=True),
            "node": graphene.Field(node, required=True),
        },
    )
    return type(
        f"{name}Connection",
        (graphene.ObjectType,),
        {
            "edges": graphene.List(graphene.NonNull(edge), required=True),
            "page_info": graphene.Field(PageInfo, required=True),
            "total_count": graphene.Int(description="How many items match, across all pages."),
        },
    )


def asks_total(info: graphene.ResolveInfo) -> bool:
    """Whether the query selects `totalCount` on this connection field: counting every match costs a scan of
    all of them, so lists count only when asked."""

    def selects(selection_set: SelectionSetNode | None) -> bool:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode) and selection.name.value == "totalCount":
                return True
            if isinstance(selection, InlineFragmentNode) and selects(selection.selection_set):
                return True
            if isinstance(selection, FragmentSpreadNode):
                fragment = info.fragments.get(selection.name.value)
                if fragment is not None and selects(fragment.selection_set):
                    return True
        return False

    return any(selects(node.selection_set) for node in info.field_nodes)


async def page_of(
    info: graphene.ResolveInfo, method: Callable[..., Listing[Any]], subject: Any, first: int | None, after: str | None
) -> dict[str, Any]:
    """One page of a service's list as a connection: `method(principal, subject, first, cursor)`, where `subject`
    is the filter or the id the list is of; `totalCount` is counted only when the query selects it."""
    principal = request_context(info).principal
    listing = await call(method, principal, subject, first, cursors.decode(after), with_total=asks_total(info))
    return as_connection(listing)


def as_connection(listing: Listing[Any]) -> dict[str, Any]:
    return {
        "edges": [
            {"cursor": cursors.encode(id), "node": item}
            for id, item in zip(listing.cursors, listing.items, strict=True)
        ],
        "page_info": {
            "has_next_page": listing.has_next,
            "end_cursor": cursors.encode(listing.end_cursor) if listing.end_cursor else None,
        },
        "total_count": listing.total,
    }


def related(loader: str, key: str) -> Any:
    """A resolver of what this request's loader `loader` holds for the parent's `key` (a dotted attribute path):
    the related record, or rows; null when the parent names none. Batched, so a page of parents costs one read."""
    key_of = attrgetter(key)

    async def resolve(parent: Any, info: graphene.ResolveInfo) -> Any:
        id = key_of(parent)
        return await request_context(info).loader(loader).load(id) if id else None

    return staticmethod(resolve)


def related_people(loader: str) -> Any:
    """A resolver of the people whose ids this request's loader `loader` holds for the parent (members,
    stewards), leaving out those the caller may not see."""

    async def resolve(parent: Any, info: graphene.ResolveInfo) -> list[domain.Person]:
        context = request_context(info)
        ids = await context.loader(loader).load(parent.id)
        people = await context.loader("person").load_many(ids)
        return [p for p in people if p is not None]

    return staticmethod(resolve)


class Training(graphene.ObjectType):
    completed_at = graphene.DateTime(required=True)
    expires_at = graphene.DateTime(required=True)


class LegalBasis(graphene.ObjectType):
    article6 = graphene.Field(LawfulBasis, required=True, description="The GDPR Article 6(1) lawful basis.")
    statute = graphene.String(description="The statute or instrument relied on.")
    covers_identified = graphene.Boolean(
        required=True, description="Whether the basis covers sharing identified records."
    )


class Agency(graphene.ObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    kind = graphene.String(required=True)
    members = graphene.List(graphene.NonNull(lambda: Person), required=True)

    resolve_members = related_people("members")


class Person(graphene.ObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    email = graphene.String()
    agency_id = graphene.ID(required=True)
    agency = graphene.Field(Agency)
    roles = graphene.List(graphene.NonNull(Role), required=True)
    training = graphene.Field(Training)
    training_current = graphene.Boolean(required=True, description="Whether data-ethics training is current right now.")
    active = graphene.Boolean(required=True, description="False once deactivated: their tokens are refused.")
    history = graphene.List(
        graphene.NonNull("catalog.api.audit_types.PersonHistoryEntry"),
        required=True,
        description="Registration, role, training and activation changes, oldest first, from the audit trail.",
    )

    resolve_agency = related("agency", "agency_id")
    resolve_history = related("person_history", "id")

    @staticmethod
    def resolve_training_current(person: domain.Person, info: graphene.ResolveInfo) -> bool:
        return person.training is not None and person.training.is_current(request_context(info).services.ctx.clock())


class Field(graphene.ObjectType):
    class Meta:
        description = "A column of a dataset, tagged for personal information."

    name = graphene.String(required=True)
    type = graphene.String(required=True)
    description = graphene.String(required=True)
    pii = graphene.Field(PiiTag, required=True)


class Licence(graphene.ObjectType):
    id = graphene.String(required=True)
    title = graphene.String(required=True)
    url = graphene.String()


class Distribution(graphene.ObjectType):
    class Meta:
        description = "One way to get a dataset: a file, an API or a page (a CKAN resource, a DCAT distribution)."

    title = graphene.String(required=True)
    description = graphene.String(required=True)
    access_url = graphene.String(required=True)
    download_url = graphene.String()
    format = graphene.String(required=True)
    media_type = graphene.String(required=True)


class DatasetExtra(graphene.ObjectType):
    class Meta:
        description = "A source-specific property carried over by a connector (a CKAN extra)."

    key = graphene.String(required=True)
    value = graphene.String(required=True)


class Dataset(graphene.ObjectType):
    id = graphene.ID(required=True)
    title = graphene.String(required=True)
    description = graphene.String(required=True)
    owner_agency_id = graphene.ID(required=True)
    owner = graphene.Field(Agency)
    classification = graphene.String(required=True)
    personal_data = graphene.Field(PersonalData, required=True)
    identifiability = graphene.Field(Identifiability, required=True)
    legal_basis = graphene.Field(LegalBasis)
    permitted_purposes = graphene.List(graphene.NonNull(graphene.String), required=True)
    retention_days = graphene.Int()
    collection_method = graphene.String(required=True)
    consent_notes = graphene.String(required=True)
    known_limitations = graphene.String(required=True)
    quality_status = graphene.String(required=True)
    tags = graphene.List(graphene.NonNull(graphene.String), required=True)
    status = graphene.Field(DatasetStatus, required=True)
    version = graphene.Int(required=True)
    source_url = graphene.String()
    harvest_source = graphene.String(description="Where a connector harvested this dataset from.")
    source_modified = graphene.DateTime(description="When the source last changed this dataset's metadata.")
    licence = graphene.Field(Licence)
    distributions = graphene.List(graphene.NonNull(Distribution), required=True)
    extras = graphene.List(graphene.NonNull(DatasetExtra), required=True)
    placeholder = graphene.Boolean(required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    effective_classification = graphene.String(
        required=True,
        description="The most restrictive classification of this dataset and everything upstream of it, except "
        "upstream of an attested de-identify or aggregate process. Policy decides on this value.",
    )
    effective_personal_data = graphene.Field(
        PersonalData, required=True, description="The most restrictive personal-data category, likewise."
    )
    restricted_by = graphene.String(
        description="Where the effective values come from when not from the dataset itself: "
        "'<upstream dataset> via <process> -> <dataset> -> <process>'. Datasets you may not see are redacted."
    )
    fields = graphene.List(graphene.NonNull(Field), required=True)
    stewards = graphene.List(graphene.NonNull(Person), required=True)
    history = graphene.List(
        graphene.NonNull("catalog.api.audit_types.DatasetHistoryEntry"),
        required=True,
        description="Every change to this dataset's metadata, oldest first, read from the audit trail.",
    )

    @staticmethod
    def resolve_effective_classification(dataset: domain.Dataset, info: graphene.ResolveInfo) -> str:
        return dataset.effective_classification or dataset.classification

    @staticmethod
    def resolve_effective_personal_data(dataset: domain.Dataset, info: graphene.ResolveInfo) -> domain.PersonalData:
        return dataset.effective_personal_data or dataset.personal_data

    resolve_restricted_by = related("restricted_by", "restricted_by")
    resolve_history = related("history", "id")
    resolve_owner = related("agency", "owner_agency_id")

    @staticmethod
    async def resolve_fields(dataset: domain.Dataset, info: graphene.ResolveInfo) -> list[domain.DatasetField]:
        if dataset.fields:
            return dataset.fields
        return await request_context(info).loader("fields").load(dataset.id)

    resolve_stewards = related_people("stewards")


DatasetConnection = connection_type(Dataset, "Dataset")
AgencyConnection = connection_type(Agency, "Agency")


class Process(graphene.ObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    kind = graphene.Field(ProcessKind, required=True)
    run_id = graphene.String()
    inputs = graphene.List(
        graphene.NonNull(graphene.ID),
        required=True,
        description="Input dataset ids (within a lineage graph: those it reached).",
    )
    outputs = graphene.List(
        graphene.NonNull(graphene.ID),
        required=True,
        description="Output dataset ids (within a lineage graph: those it reached).",
    )
    attested_identifiability = graphene.Field(Identifiability)
    attested_by = graphene.ID()
    attestation_note = graphene.String()
    recorded_at = graphene.DateTime(required=True)


class LineageNodeKind(graphene.Enum):
    DATASET = "DATASET"
    PROCESS = "PROCESS"
    FIELD = "FIELD"


class LineageNode(graphene.ObjectType):
    class Meta:
        description = "A dataset or process in a lineage graph. Datasets the viewer may not see are redacted."

    id = graphene.ID(required=True)
    kind = graphene.Field(LineageNodeKind, required=True)
    depth = graphene.Int(required=True)
    redacted = graphene.Boolean(required=True)
    dataset = graphene.Field(Dataset)
    process = graphene.Field(Process)
    field = graphene.Field(Field, description="For a FIELD node: the column (null when its dataset is redacted).")
    dataset_id = graphene.ID(description="For a FIELD node: the (possibly redacted) id of its dataset.")


class LineageEdge(graphene.ObjectType):
    type = graphene.String(
        required=True,
        description="USED (process to input), GENERATED_BY (output to process), and with fields HAS_FIELD "
        "(dataset to field) and DERIVED_FROM (output field to input field).",
    )
    source = graphene.ID(required=True)
    target = graphene.ID(required=True)


class LineageGraph(graphene.ObjectType):
    root = graphene.ID(required=True)
    nodes = graphene.List(graphene.NonNull(LineageNode), required=True)
    edges = graphene.List(graphene.NonNull(LineageEdge), required=True)

    @staticmethod
    def resolve_edges(graph: Any, info: graphene.ResolveInfo) -> list[dict[str, str]]:
        return [{"type": rel, "source": source, "target": target} for rel, source, target in graph.edges]
