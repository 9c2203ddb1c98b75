"""The GraphQL schema, composed from one module of root fields per part of the domain."""

from __future__ import annotations

import graphene

from catalog.api.audit_schema import AuditQuery
from catalog.api.catalog_schema import CatalogMutation, CatalogQuery
from catalog.api.decision_schema import DecisionMutation, DecisionQuery
from catalog.api.lineage_schema import LineageMutation, LineageQuery
from catalog.api.sharing_schema import SharingMutation, SharingQuery
from catalog.api.vocabulary_schema import VocabularyQuery


class Query(
    AuditQuery, CatalogQuery, DecisionQuery, LineageQuery, SharingQuery, VocabularyQuery, graphene.ObjectType
):
    pass


class Mutation(CatalogMutation, DecisionMutation, LineageMutation, SharingMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
