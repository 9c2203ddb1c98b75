"""Root fields for provenance: lineage graphs, paths, impact, attestations and correction notices."""

from __future__ import annotations

from typing import Any

import graphene

from catalog import domain
from catalog.api import inputs, types
from catalog.api.context import call, request_context
from catalog.api.operations import list_by, service_mutation
from catalog.api.sharing_types import AgreementStatus
from catalog.services.corrections import NoticeView
from catalog.services.lineage import ImpactedAgreement, ImpactedDataset, ImpactView, LineageNode, LineageView

Severity = graphene.Enum.from_enum(domain.Severity)
ProvenanceFormat = graphene.Enum("ProvenanceFormat", [("PROV_JSON", "PROV_JSON"), ("TURTLE", "TURTLE")])


class ColumnLineageInput(graphene.InputObjectType):
    output = graphene.String(required=True, description="The output column, as `datasetId#fieldName`.")
    inputs = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="The input columns it was derived from."
    )


class RecordLineageInput(inputs.RecordLineageInput):
    class Meta:
        name = "RecordLineageInput"

    column_lineage = graphene.List(
        graphene.NonNull(ColumnLineageInput),
        description="Column-level lineage: output fields of the outputs, derived from fields of the inputs.",
    )


class ImpactedDatasetType(graphene.ObjectType):
    class Meta:
        name = "ImpactedDataset"
        description = "A dataset derived from the one asked about. Hidden datasets are redacted."

    id = graphene.ID(required=True)
    depth = graphene.Int(required=True, description="Derivation steps from the dataset asked about.")
    redacted = graphene.Boolean(required=True)
    dataset = graphene.Field(types.Dataset, description="Null when redacted.")

    @staticmethod
    async def resolve_dataset(item: ImpactedDataset, info: graphene.ResolveInfo) -> domain.Dataset | None:
        if item.redacted:
            return None
        return await request_context(info).loader("dataset").load(item.id)


class ImpactedAgreementType(graphene.ObjectType):
    class Meta:
        name = "ImpactedAgreement"
        description = "A sharing agreement covering the dataset or something derived from it; redacted if unreadable."

    id = graphene.ID(required=True)
    redacted = graphene.Boolean(required=True)
    status = graphene.Field(AgreementStatus)
    recipient_agency_id = graphene.ID()
    dataset_ids = graphene.List(graphene.NonNull(graphene.ID), required=True, description="The datasets it covers.")

    @staticmethod
    def resolve_status(item: ImpactedAgreement, info: graphene.ResolveInfo) -> domain.AgreementStatus | None:
        return domain.AgreementStatus(item.status) if item.status else None


class ImpactLevel(graphene.ObjectType):
    class Meta:
        description = "The datasets at one derivation distance: a compact form of `datasets` for large impacts."

    depth = graphene.Int(required=True)
    dataset_ids = graphene.List(
        graphene.NonNull(graphene.ID), required=True, description="Sorted; hidden ones as redacted ids."
    )


class Impact(graphene.ObjectType):
    class Meta:
        description = (
            "What a change to a dataset reaches: every downstream dataset, the agreements covering it or any of "
            "them, and the agencies that received data derived from it."
        )

    root = graphene.ID(required=True)
    depth = graphene.Int(required=True)
    dataset_count = graphene.Int(required=True)
    datasets = graphene.List(graphene.NonNull(ImpactedDatasetType), required=True)
    levels = graphene.List(graphene.NonNull(ImpactLevel), required=True, description="The datasets by depth.")
    agreements = graphene.List(graphene.NonNull(ImpactedAgreementType), required=True)
    recipient_agency_ids = graphene.List(graphene.NonNull(graphene.ID), required=True)
    recipient_agencies = graphene.List(graphene.NonNull(types.Agency), required=True)

    @staticmethod
    def resolve_dataset_count(view: ImpactView, info: graphene.ResolveInfo) -> int:
        return len(view.datasets)

    @staticmethod
    def resolve_levels(view: ImpactView, info: graphene.ResolveInfo) -> list[dict[str, Any]]:
        by_depth: dict[int, list[str]] = {}
        for item in view.datasets:
            by_depth.setdefault(item.depth, []).append(item.id)
        return [{"depth": depth, "dataset_ids": sorted(ids)} for depth, ids in sorted(by_depth.items())]

    @staticmethod
    async def resolve_recipient_agencies(view: ImpactView, info: graphene.ResolveInfo) -> list[domain.Agency]:
        agencies = await request_context(info).loader("agency").load_many(view.recipient_agency_ids)
        return [a for a in agencies if a is not None]


class LineagePath(graphene.ObjectType):
    class Meta:
        description = "The shortest derivation path from one dataset down to another: dataset, process, dataset..."

    found = graphene.Boolean(required=True)
    nodes = graphene.List(graphene.NonNull(types.LineageNode), required=True)


class DeliveryAttemptType(graphene.ObjectType):
    class Meta:
        name = "DeliveryAttempt"
        description = "One try at delivering a correction notice to an agency's webhook."

    agency_id = graphene.ID(required=True)
    url = graphene.String(required=True)
    attempt = graphene.Int(required=True)
    at = graphene.DateTime(required=True)
    delivered = graphene.Boolean(required=True)
    status_code = graphene.Int()
    error = graphene.String()


class AffectedDataset(graphene.ObjectType):
    id = graphene.ID(required=True)
    redacted = graphene.Boolean(required=True)


class CorrectionNotice(graphene.ObjectType):
    class Meta:
        description = "A correction to a dataset and everyone downstream who was told of it."

    id = graphene.ID(required=True)
    dataset_id = graphene.ID(required=True)
    description = graphene.String(required=True)
    severity = graphene.Field(Severity, required=True)
    issued_by = graphene.ID(required=True)
    at = graphene.DateTime(required=True)
    affected_datasets = graphene.List(graphene.NonNull(AffectedDataset), required=True)
    steward_ids = graphene.List(graphene.NonNull(graphene.ID), required=True)
    recipient_agency_ids = graphene.List(
        graphene.NonNull(graphene.ID), required=True, description="Agencies that received data derived from it."
    )
    agency_ids = graphene.List(
        graphene.NonNull(graphene.ID), required=True, description="Every agency told: recipients and owners."
    )
    deliveries = graphene.List(graphene.NonNull(DeliveryAttemptType), required=True)

    @staticmethod
    def resolve_affected_datasets(view: NoticeView, info: graphene.ResolveInfo) -> list[dict[str, Any]]:
        return [{"id": id, "redacted": redacted} for id, redacted in view.affected]

    @staticmethod
    def resolve_deliveries(view: NoticeView, info: graphene.ResolveInfo) -> list[domain.DeliveryAttempt]:
        return view.deliveries


def _notice_field(name: str) -> Any:
    def resolve(view: NoticeView, info: graphene.ResolveInfo) -> Any:
        return getattr(view.notice, name)

    return resolve


for _name in (
    "id",
    "dataset_id",
    "description",
    "severity",
    "issued_by",
    "at",
    "steward_ids",
    "recipient_agency_ids",
    "agency_ids",
):
    setattr(CorrectionNotice, f"resolve_{_name}", staticmethod(_notice_field(_name)))

NoticeConnection = types.connection_type(CorrectionNotice, "CorrectionNotice")


class LineageQuery(graphene.ObjectType):
    lineage = graphene.Field(
        types.LineageGraph,
        required=True,
        dataset_id=graphene.ID(required=True),
        direction=graphene.Argument(types.LineageDirection, default_value="BOTH"),
        depth=graphene.Int(default_value=3, description="Dataset hops, at most CATALOG_LINEAGE_MAX_DEPTH."),
        include_fields=graphene.Boolean(
            default_value=False, description="Add field nodes with HAS_FIELD and column-level DERIVED_FROM edges."
        ),
    )
    lineage_path = graphene.Field(
        LineagePath, required=True, from_id=graphene.ID(required=True), to_id=graphene.ID(required=True)
    )
    impact = graphene.Field(
        Impact,
        required=True,
        dataset_id=graphene.ID(required=True),
        depth=graphene.Int(default_value=10, description="Dataset hops, at most CATALOG_LINEAGE_MAX_DEPTH."),
    )
    provenance = graphene.Field(
        graphene.String,
        required=True,
        dataset_id=graphene.ID(required=True),
        format=graphene.Argument(ProvenanceFormat, default_value="PROV_JSON"),
        base_url=graphene.String(description="Base of the IRIs in the document (default: http://CATALOG_HOST:PORT)."),
        description="The dataset's upstream provenance as a W3C PROV-JSON document or PROV-O Turtle, redacted to "
        "what you may see.",
    )
    notices = list_by(
        NoticeConnection,
        "corrections.notices",
        agency_id=graphene.ID(description="The agency told; default: yours (auditors: every notice)."),
    )

    @staticmethod
    async def resolve_lineage(
        root: Any,
        info: graphene.ResolveInfo,
        dataset_id: str,
        direction: Any = "BOTH",
        depth: int = 3,
        include_fields: bool = False,
    ) -> LineageView:
        context = request_context(info)
        way = getattr(direction, "value", direction)
        return await call(context.services.lineage.view, context.principal, dataset_id, way, depth, include_fields)

    @staticmethod
    async def resolve_lineage_path(root: Any, info: graphene.ResolveInfo, from_id: str, to_id: str) -> dict[str, Any]:
        context = request_context(info)
        nodes: list[LineageNode] | None = await call(context.services.lineage.path, context.principal, from_id, to_id)
        return {"found": nodes is not None, "nodes": nodes or []}

    @staticmethod
    async def resolve_impact(root: Any, info: graphene.ResolveInfo, dataset_id: str, depth: int = 10) -> ImpactView:
        context = request_context(info)
        return await call(context.services.lineage.impact, context.principal, dataset_id, depth)

    @staticmethod
    async def resolve_provenance(
        root: Any, info: graphene.ResolveInfo, dataset_id: str, format: Any = "PROV_JSON", base_url: str | None = None
    ) -> str:
        context = request_context(info)
        services = context.services
        settings = services.ctx.settings
        base = base_url or settings.own_url()
        write = (
            services.provenance.turtle
            if getattr(format, "value", format) == "TURTLE"
            else services.provenance.prov_json
        )
        result: str = await call(write, context.principal, dataset_id, base)
        return result


class AttestProcess(graphene.Mutation):
    class Arguments:
        process_id = graphene.ID(required=True)
        output_identifiability = graphene.Argument(types.Identifiability, required=True)
        note = graphene.String(required=True, description="How the output was checked.")

    Output = graphene.NonNull(types.Process)

    @staticmethod
    async def mutate(
        root: Any, info: graphene.ResolveInfo, process_id: str, output_identifiability: Any, note: str
    ) -> domain.Process:
        context = request_context(info)
        level = domain.Identifiability(getattr(output_identifiability, "value", output_identifiability))
        return await call(context.services.lineage.attest, context.principal, process_id, level, note)


class LineageMutation(graphene.ObjectType):
    record_lineage = service_mutation("lineage.record", types.Process, input=RecordLineageInput(required=True))
    attest_process = AttestProcess.Field()
    issue_correction = service_mutation(
        "corrections.issue",
        CorrectionNotice,
        dataset_id=graphene.ID(required=True),
        description=graphene.String(required=True),
        severity=graphene.Argument(Severity, required=True),
    )
