"""The shapes most root fields take: a mutation that is one service call, a record read by id, and a page of a
service's list. The service decides by the policy and records; the field only hands over what was sent."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

import graphene

from catalog.api.context import call, request_context
from catalog.api.inputs import plain
from catalog.api.types import page_of


class ServiceMutation(graphene.Mutation):
    """A mutation that is one service call: `services.<method>(principal, *arguments)`, with the arguments named
    in `passes`, in that order, as plain values (an argument left out as None)."""

    class Meta:
        abstract = True

    method = ""  # the service method, as a path on Services: "registration.register_agency"
    passes: tuple[str, ...] = ("input",)

    @classmethod
    async def mutate(cls, root: Any, info: graphene.ResolveInfo, **arguments: Any) -> Any:
        context = request_context(info)
        change = attrgetter(cls.method)(context.services)
        return await call(change, context.principal, *(plain(arguments.get(name)) for name in cls.passes))

    @classmethod
    def family(cls, output: type[graphene.ObjectType], /, **arguments: graphene.Argument) -> type[ServiceMutation]:
        """An abstract mutation of variants that take the same `arguments` and answer `output`, each variant a root
        field made with `field`. The arguments go to the service in the order given, so they are named once."""
        members = {
            "Meta": {"abstract": True},
            "Arguments": type("Arguments", (), arguments),
            "Output": graphene.NonNull(output),
            "passes": tuple(arguments),
        }
        family: type[ServiceMutation] = type(f"{cls.__name__}Family", (cls,), members)
        return family

    @classmethod
    def field(cls, method: str, description: str | None) -> graphene.Field:
        """The root field of one variant of this (abstract) mutation: its arguments and output, calling
        `services.<method>`."""
        name = "".join(word.title() for word in method.replace(".", "_").split("_"))
        variant: type[ServiceMutation] = type(name, (cls,), {"method": method})
        return variant.Field(description=description)


def service_mutation(
    method: str, output: type[graphene.ObjectType], description: str | None = None, /, **arguments: graphene.Argument
) -> graphene.Field:
    """The root field of a mutation that is one service call, `services.<method>(principal, *arguments)`, with the
    `arguments` in the order given, answering `output`."""
    return ServiceMutation.family(output, **arguments).field(method, description)


def by_id(node: type[graphene.ObjectType], method: str, description: str | None = None) -> graphene.Field:
    """A field `(id: ID!)`: `services.<method>(principal, id)`, which answers NOT_FOUND unless the caller may read
    it."""
    get = attrgetter(method)

    async def resolve(root: Any, info: graphene.ResolveInfo, id: str) -> Any:
        context = request_context(info)
        return await call(get(context.services), context.principal, id)

    return graphene.Field(node, id=graphene.ID(required=True), description=description, resolver=resolve)


def filtered_list(
    connection: type[graphene.ObjectType],
    filter_input: type[graphene.InputObjectType],
    criteria: Callable[..., Any],
    method: str,
    description: str | None = None,
) -> graphene.Field:
    """A connection field with `filter`, `first` and `after`: one page of `services.<method>`, under the filter
    read as the service's `criteria` (no filter: everything the caller may see)."""

    def chosen(filter: Any = None) -> Any:
        return criteria(**plain(filter)) if filter else criteria()

    return _paged(connection, method, chosen, description, filter=filter_input())


def list_by(
    connection: type[graphene.ObjectType], method: str, description: str | None = None, **subject: graphene.Argument
) -> graphene.Field:
    """A connection field with one `subject` argument (an id), `first` and `after`: one page of
    `services.<method>` of that subject (None when it is optional and left out)."""
    ((name, _),) = subject.items()
    return _paged(connection, method, lambda **given: given.get(name), description, **subject)


def _paged(
    connection: type[graphene.ObjectType],
    method: str,
    subject: Callable[..., Any],
    description: str | None,
    **arguments: Any,
) -> graphene.Field:
    """A required connection field with `arguments`, then `first` and `after`: one page of
    `services.<method>(principal, subject(**the arguments given), page size, cursor)`."""
    list_of = attrgetter(method)

    async def resolve(
        root: Any, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None, **given: Any
    ) -> dict[str, Any]:
        services = request_context(info).services
        return await page_of(info, list_of(services), subject(**given), services.reads.page_size(first), after)

    return graphene.Field(
        connection,
        required=True,
        **arguments,
        first=graphene.Int(),
        after=graphene.String(),
        description=description,
        resolver=resolve,
    )
