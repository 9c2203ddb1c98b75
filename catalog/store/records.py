"""The codec between domain models and flat graph properties.

Stored properties are flat, so nested values (a legal basis, a list of condition results) are kept as JSON in a
property named `<field>_json`. Datetimes are stored as fixed-width UTC ISO strings so they sort as text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from catalog.store.base import Props

M = TypeVar("M", bound=BaseModel)
JSON_SUFFIX = "_json"


def timestamp(value: datetime) -> str:
    """A datetime as a fixed-width UTC string (microsecond precision), so text order is time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _is_flat(value: Any) -> bool:
    if isinstance(value, list):
        return all(not isinstance(v, dict | list) for v in value)
    return not isinstance(value, dict)


def to_props(model: BaseModel, *, exclude: set[str] | frozenset[str] = frozenset()) -> Props:
    """Flatten a model into storable properties. `id` is left out: the store keeps it separately."""
    # pydantic's serializer does the nested work; only top-level datetimes need our fixed-width form,
    # because those are the ones that get compared as text in store queries.
    dumped = model.model_dump(mode="json", exclude={"id", *exclude})
    props: Props = {}
    for name, plain in dumped.items():
        value = getattr(model, name)
        if isinstance(value, datetime):
            props[name] = timestamp(value)
        elif plain is None or _is_flat(plain):
            props[name] = plain
        else:
            props[name + JSON_SUFFIX] = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return props


def encode_nested(value: BaseModel | list[Any] | dict[str, Any]) -> str:
    """The JSON kept in a `<field>_json` property."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"))


def from_props(model: type[M], props: Props, **extra: Any) -> M:
    """Rebuild a model from stored properties (plus `extra` values kept elsewhere, such as fields)."""
    values: dict[str, Any] = {}
    fields = model.model_fields  # a descriptor in pydantic 2.11+: read it once, not once per property
    for key, value in props.items():
        if key.startswith("_"):
            continue
        if key.endswith(JSON_SUFFIX) and isinstance(value, str):
            values[key.removesuffix(JSON_SUFFIX)] = json.loads(value)
        elif key in fields:
            values[key] = value
    values.update(extra)
    return model.model_validate(values)
