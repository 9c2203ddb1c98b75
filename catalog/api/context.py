"""Per-request state for resolvers: who is asking, the services, and one set of batch loaders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphene.utils.dataloader import DataLoader
from starlette.concurrency import run_in_threadpool

from catalog.principal import Principal
from catalog.services import Services
from catalog.services.history import History

T = TypeVar("T")


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (blocking) service call off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


def _loader(fetch: Callable[[Sequence[str]], dict[str, Any]], default: Any = None) -> DataLoader:
    async def batch(keys: list[str]) -> list[Any]:
        found = await call(fetch, list(dict.fromkeys(keys)))
        return [found.get(key, default) for key in keys]

    return DataLoader(batch_load_fn=batch)


@dataclass
class RequestContext:
    services: Services
    principal: Principal
    request_id: str
    _loaders: dict[str, DataLoader] = field(default_factory=dict)

    def loader(self, name: str) -> DataLoader:
        """The request's loader of that name: 'agency', 'person', 'dataset', 'fields' or 'stewards'."""
        if name not in self._loaders:
            self._loaders[name] = self._make(name)
        return self._loaders[name]

    def _make(self, name: str) -> DataLoader:
        reads, principal = self.services.reads, self.principal
        factories: dict[str, Callable[[], DataLoader]] = {
            "agency": lambda: _loader(reads.agencies_by_ids),
            "person": lambda: _loader(lambda ids: reads.persons_by_ids(principal, ids)),
            "dataset": lambda: _loader(lambda ids: reads.datasets_by_ids(principal, ids)),
            "fields": lambda: _loader(reads.fields_of, default=[]),
            "stewards": lambda: _loader(reads.stewards_of, default=[]),
            "members": lambda: _loader(reads.members_of, default=[]),
            "history": lambda: _loader(lambda ids: History(self.services.ctx).of_datasets(principal, ids), default=[]),
        }
        return factories[name]()
