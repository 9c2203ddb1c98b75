"""The GraphQL schema, composed from one module of root fields per part of the domain."""

from __future__ import annotations

import graphene

from catalog.api.catalog_schema import CatalogMutation, CatalogQuery
from catalog.api.decision_schema import DecisionMutation, DecisionQuery


class Query(CatalogQuery, DecisionQuery, graphene.ObjectType):
    pass


class Mutation(CatalogMutation, DecisionMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
