"""Per-request state for resolvers: who is asking, the services, and one set of batch loaders."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import graphene
from graphene.utils.dataloader import DataLoader

from catalog.principal import Principal
from catalog.services import Services
from catalog.services.history import History

T = TypeVar("T")


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (blocking) service call off the event loop, in the loop's executor, with the caller's contextvars.

    Not anyio's `to_thread`: its per-call bookkeeping (task lookup, limiter, cancel scope) cost more than a
    small store read.
    """
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(context.run, fn, *args, **kwargs))


@dataclass
class RequestContext:
    services: Services
    principal: Principal
    request_id: str
    _loaders: dict[str, DataLoader] = field(default_factory=dict)

    async def lookup(self, fn: Callable[..., T], *args: Any) -> T:
        """A read of a bounded set of nodes by id: inline when the store runs in this process, else `call`.

        On the embedded store such a read takes tens of microseconds, mostly holding the GIL; handing it to a
        worker thread and back cost more than the read (bench: dataset(id) over HTTP ~920 -> ~1,190 req/s).
        A network store's read waits on a socket, so it leaves the loop free to serve other requests.
        Lists, traversals and writes, which can run long, always go through `call`.
        """
        if self.services.store.in_process:
            return fn(*args)
        return await call(fn, *args)

    def batch_loader(self, name: str, fetch: Callable[[list[str]], dict[str, Any]], default: Any = None) -> DataLoader:
        """This request's loader `name`, built on first use: it fetches the keys asked for in one tick at once."""
        if name not in self._loaders:

            async def batch(keys: list[str]) -> list[Any]:
                found = await self.lookup(fetch, list(dict.fromkeys(keys)))
                return [found.get(key, default) for key in keys]

            self._loaders[name] = DataLoader(batch_load_fn=batch)
        return self._loaders[name]

    def loader(self, name: str) -> DataLoader:
        """The request's loader of that name: 'agency', 'person', 'dataset', 'fields', 'stewards', 'members',
        'history', 'person_history' or 'restricted_by' (an upstream path as the principal may read it)."""
        reads, principal = self.services.reads, self.principal
        fetchers: dict[str, tuple[Callable[[list[str]], dict[str, Any]], Any]] = {
            "agency": (reads.agencies_by_ids, None),
            "person": (lambda ids: reads.persons_by_ids(principal, ids), None),
            "dataset": (lambda ids: reads.datasets_by_ids(principal, ids), None),
            "fields": (reads.fields_of, []),
            "stewards": (reads.stewards_of, []),
            "members": (reads.members_of, []),
            "history": (lambda ids: History(self.services.ctx).of_datasets(principal, ids), []),
            "restricted_by": (lambda paths: self.services.redaction.paths(principal, paths), None),
            "person_history": (lambda ids: History(self.services.ctx).of_people(principal, ids), []),
        }
        fetch, default = fetchers[name]
        return self.batch_loader(name, fetch, default)


def request_context(info: graphene.ResolveInfo) -> RequestContext:
    """The RequestContext a resolver runs in (graphene hands it over as `info.context`)."""
    context: RequestContext = info.context
    return context
