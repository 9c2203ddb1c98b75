"""Root fields for the sharing workflow: ask for a share, decide on it, keep the agreement, read the register."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene

from catalog import domain
from catalog.api import inputs, types
from catalog.api.context import call, request_context
from catalog.api.sharing_types import (
    AgreementStatus,
    ShareRequest,
    ShareRequestConnection,
    ShareRequestStatus,
    SharingAgreement,
    SharingAgreementConnection,
    SharingFrequency,
)
from catalog.services import AgreementFilter, ShareRequestFilter


class AgreementParticularsInput(graphene.InputObjectType):
    class Meta:
        description = (
            "Optional particulars a public register of agreements names. They are published as written: never "
            "name or describe a person here."
        )

    title = graphene.String()
    summary = graphene.String()
    expected_benefits = graphene.String()
    function = graphene.String(description="The provider's function the purpose relates to.")
    further_processing = graphene.String()
    frequency = graphene.InputField(SharingFrequency)
    dpia_summary = graphene.String()
    security_measures = graphene.String(description="Described so as not to compromise them.")
    retention = graphene.String()
    review_date = graphene.DateTime()


class RequestShareInput(graphene.InputObjectType):
    dataset_ids = graphene.List(
        graphene.NonNull(graphene.ID), required=True, description="Datasets of one providing agency."
    )
    recipient_agency_id = graphene.ID(required=True, description="Your agency: the one that would receive the data.")
    purpose = graphene.String(required=True, description="One of the configured purposes.")
    legal_basis = graphene.InputField(inputs.LegalBasisInput, required=True)
    access_method = graphene.InputField(types.AccessMethod, required=True)
    fields = graphene.List(
        graphene.NonNull(graphene.String), description="The fields you need (data minimisation); empty means all."
    )
    justification = graphene.String()
    valid_from = graphene.DateTime(description="Default: now.")
    valid_until = graphene.DateTime(required=True)
    particulars = graphene.InputField(
        AgreementParticularsInput, description="For the public register; the agreement keeps them."
    )


class ShareRequestFilterInput(graphene.InputObjectType):
    requester = graphene.ID()
    recipient = graphene.ID(description="The recipient agency.")
    provider = graphene.ID(description="The providing agency.")
    dataset = graphene.ID()
    status = graphene.InputField(ShareRequestStatus)


class AgreementFilterInput(graphene.InputObjectType):
    provider = graphene.ID(description="The providing agency.")
    recipient = graphene.ID(description="The recipient agency.")
    dataset = graphene.ID(description="A dataset the agreement covers.")
    status = graphene.InputField(AgreementStatus, description="The status as of now (expiry included).")
    expiring_before = graphene.DateTime(description="Only agreements whose validUntil is before this time.")


def _page(info: graphene.ResolveInfo, first: int | None) -> int:
    return request_context(info).services.reads.page_size(first)


class SharingQuery(graphene.ObjectType):
    agreement = graphene.Field(
        SharingAgreement,
        id=graphene.ID(required=True),
        description="An agreement with its decisions, approvals and datasets. NOT_FOUND unless your agency is a "
        "party to it (auditors see all).",
    )
    agreements = graphene.Field(
        SharingAgreementConnection,
        required=True,
        filter=AgreementFilterInput(),
        first=graphene.Int(),
        after=graphene.String(),
        description="Agreements your agency is a party to (auditors see all), ordered by id.",
    )
    agreement_register = graphene.Field(
        SharingAgreementConnection,
        required=True,
        agency_id=graphene.ID(required=True),
        first=graphene.Int(),
        after=graphene.String(),
        description="The agency's central log of current sharing agreements (UK ICO data sharing code): every "
        "ACTIVE or SUSPENDED agreement it provides or receives under, as of now.",
    )
    share_request = graphene.Field(ShareRequest, id=graphene.ID(required=True))
    share_requests = graphene.Field(
        ShareRequestConnection,
        required=True,
        filter=ShareRequestFilterInput(),
        first=graphene.Int(),
        after=graphene.String(),
        description="Your requests and those your agency receives or provides (auditors see all), oldest first.",
    )

    @staticmethod
    async def resolve_agreement(root: Any, info: graphene.ResolveInfo, id: str) -> domain.SharingAgreement:
        return await call(request_context(info).services.agreements.get, request_context(info).principal, id)

    @staticmethod
    async def resolve_agreements(
        root: Any, info: graphene.ResolveInfo, filter: Any = None, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        criteria = AgreementFilter(**inputs.plain(filter)) if filter else AgreementFilter()
        return await types.page_of(
            info, request_context(info).services.agreements.list, criteria, _page(info, first), after
        )

    @staticmethod
    async def resolve_agreement_register(
        root: Any, info: graphene.ResolveInfo, agency_id: str, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        return await types.page_of(
            info, request_context(info).services.agreements.current_register, agency_id, _page(info, first), after
        )

    @staticmethod
    async def resolve_share_request(root: Any, info: graphene.ResolveInfo, id: str) -> domain.ShareRequest:
        return await call(request_context(info).services.sharing.get, request_context(info).principal, id)

    @staticmethod
    async def resolve_share_requests(
        root: Any, info: graphene.ResolveInfo, filter: Any = None, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        criteria = ShareRequestFilter(**inputs.plain(filter)) if filter else ShareRequestFilter()
        return await types.page_of(
            info, request_context(info).services.sharing.requests, criteria, _page(info, first), after
        )


class RequestShare(graphene.Mutation):
    class Meta:
        description = (
            "Ask another agency for a share. Recorded with one policy decision per dataset: DENIED (statusReason "
            "and decisions say why) or PENDING_APPROVAL (requiredApprovals say whose)."
        )

    class Arguments:
        input = RequestShareInput(required=True)

    Output = graphene.NonNull(ShareRequest)

    @staticmethod
    async def mutate(root: Any, info: graphene.ResolveInfo, input: Any) -> domain.ShareRequest:
        return await call(
            request_context(info).services.sharing.request, request_context(info).principal, inputs.plain(input)
        )


class ApproveShare(graphene.Mutation):
    class Meta:
        description = (
            "Approve a pending request as its steward or second approver (the policy decides who may). When the "
            "last required approval is in, the agreement is made. FORBIDDEN (with the recorded decisions) when "
            "you may not; CONFLICT when it is not pending or needs no approval you can give."
        )

    class Arguments:
        request_id = graphene.ID(required=True)
        note = graphene.String()
        conditions = graphene.List(graphene.NonNull(graphene.String), description="Conditions the agreement adds.")

    Output = graphene.NonNull(ShareRequest)

    @staticmethod
    async def mutate(
        root: Any, info: graphene.ResolveInfo, request_id: str, note: str | None = None, conditions: Any = None
    ) -> domain.ShareRequest:
        return await call(
            request_context(info).services.sharing.approve,
            request_context(info).principal,
            request_id,
            note or "",
            conditions or [],
        )


class RejectShare(graphene.Mutation):
    class Meta:
        description = "Reject a pending request, saying why. Final."

    class Arguments:
        request_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    Output = graphene.NonNull(ShareRequest)

    @staticmethod
    async def mutate(root: Any, info: graphene.ResolveInfo, request_id: str, reason: str) -> domain.ShareRequest:
        return await call(
            request_context(info).services.sharing.reject, request_context(info).principal, request_id, reason
        )


class _Transition(graphene.Mutation):
    """A lifecycle change of an agreement: decided by policy and recorded; CONFLICT names the current status."""

    class Meta:
        abstract = True

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    Output = graphene.NonNull(SharingAgreement)
    verb = ""

    @classmethod
    async def mutate(cls, root: Any, info: graphene.ResolveInfo, id: str, reason: str) -> domain.SharingAgreement:
        change = getattr(request_context(info).services.agreements, cls.verb)
        result: domain.SharingAgreement = await call(change, request_context(info).principal, id, reason)
        return result


class SuspendAgreement(_Transition):
    class Meta:
        description = "ACTIVE -> SUSPENDED: no access under it until it is resumed."

    verb = "suspend"


class ResumeAgreement(_Transition):
    class Meta:
        description = "SUSPENDED -> ACTIVE."

    verb = "resume"


class RevokeAgreement(_Transition):
    class Meta:
        description = "ACTIVE, SUSPENDED or EXPIRED -> REVOKED, for good: access under it is then an explicit deny."

    verb = "revoke"


class RenewAgreement(graphene.Mutation):
    class Meta:
        description = (
            "Extend an ACTIVE or EXPIRED agreement to validUntil, as a new recorded decision. A renewal never lifts "
            "a suspension."
        )

    class Arguments:
        id = graphene.ID(required=True)
        valid_until = graphene.DateTime(required=True)
        reason = graphene.String()

    Output = graphene.NonNull(SharingAgreement)

    @staticmethod
    async def mutate(
        root: Any, info: graphene.ResolveInfo, id: str, valid_until: datetime, reason: str | None = None
    ) -> domain.SharingAgreement:
        return await call(
            request_context(info).services.agreements.renew, request_context(info).principal, id, valid_until, reason
        )


class SharingMutation(graphene.ObjectType):
    request_share = RequestShare.Field()
    approve_share = ApproveShare.Field()
    reject_share = RejectShare.Field()
    suspend_agreement = SuspendAgreement.Field()
    resume_agreement = ResumeAgreement.Field()
    revoke_agreement = RevokeAgreement.Field()
    renew_agreement = RenewAgreement.Field()
