"""A small tagged-JSON codec for what a unit of work returns: our pydantic models and dataclasses, enums, dates.

Used to keep a mutation's result beside its idempotency key. Not pickle: decoding runs no code of the stored
text's choosing. A class is named by module and qualified name and rebuilt only when it is one of the catalog's
own (a module under `catalog.`) pydantic model, dataclass or enum; its fields are restored as they were, without
running validators or `__post_init__` again (they ran when the value was first made).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel

_PACKAGE = "catalog."


def encode(value: Any) -> str:
    """`value` as tagged JSON text. Raises TypeError for a value of a kind the codec does not keep."""
    return json.dumps(_tag(value), separators=(",", ":"), sort_keys=True)


def decode(text: str) -> Any:
    """The value `encode` was given. Raises ValueError when the text names a class outside the allow-list."""
    return _untag(json.loads(text))


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _tag(value: Any) -> Any:
    if isinstance(value, Enum):  # before the scalars: a StrEnum is a str too
        return {"$enum": _name(type(value)), "value": _tag(value.value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, list):
        return [_tag(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [_tag(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        return {"$set": sorted((_tag(item) for item in value), key=json.dumps)}
    if isinstance(value, dict):
        return {"$dict": [[_tag(k), _tag(v)] for k, v in value.items()]}
    if isinstance(value, BaseModel):
        fields = {name: _tag(getattr(value, name)) for name in type(value).model_fields}
        return {"$model": _name(type(value)), "fields": fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _tag(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$dataclass": _name(type(value)), "fields": fields}
    raise TypeError(f"tagged JSON cannot keep a {type(value).__qualname__}")


def _allowed(name: str) -> type:
    """The class `name` names, when it is one of the catalog's models, dataclasses or enums."""
    module, _, qualname = name.partition(":")
    if not module.startswith(_PACKAGE) or not qualname:
        raise ValueError(f"tagged JSON: {name!r} is not a catalog class")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if not isinstance(found, type) or not (
        issubclass(found, (BaseModel, Enum)) or dataclasses.is_dataclass(found)
    ):
        raise ValueError(f"tagged JSON: {name!r} is not a catalog model, dataclass or enum")
    return found


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    if "$tuple" in value:
        return tuple(_untag(item) for item in value["$tuple"])
    if "$set" in value:
        return {_untag(item) for item in value["$set"]}
    if "$dict" in value:
        return {_untag(k): _untag(v) for k, v in value["$dict"]}
    if "$enum" in value:
        return _allowed(value["$enum"])(_untag(value["value"]))
    if "$model" in value:
        model = _allowed(value["$model"])
        if not issubclass(model, BaseModel):
            raise ValueError(f"tagged JSON: {value['$model']!r} is not a pydantic model")
        return model.model_construct(**{k: _untag(v) for k, v in value["fields"].items()})
    if "$dataclass" in value:
        cls = _allowed(value["$dataclass"])
        made: Any = object.__new__(cls)
        for key, field_value in value["fields"].items():
            object.__setattr__(made, key, _untag(field_value))
        return made
    raise ValueError(f"tagged JSON: unknown tag in {sorted(value)}")
