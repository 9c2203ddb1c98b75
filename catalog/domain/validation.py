"""What a caller's input is held to: the annotated field types every record uses (Identifier, Name, Text, WebUrl),
the checks that run only on input, the records' base `Model`, and `parse_model`, which turns pydantic's error into
InvalidInput naming the field."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
)

from catalog.errors import InvalidInput

__all__ = [
    "CLOCK_SKEW",
    "LINE",
    "TEXT",
    "Identifier",
    "Model",
    "Name",
    "Text",
    "WebUrl",
    "invalid_from",
    "is_http_url",
    "parse_model",
    "utcnow",
]


M = TypeVar("M", bound=BaseModel)

# What a caller sends is held to more than what the store already holds: these checks run only when
# parse_model validates input, so a record stored before a check existed still reads. `_on_input` and the context
# keys are the domain package's own: its record modules use them, nothing outside does.
_INPUT = "input"
_NOW = "now"
CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of the server's clock a caller's "now" may be

# C0 and C1 controls, lone surrogates and the two non-characters: none is text, and XML 1.0 refuses most of them
# (a title holding one made lineage.svg invalid). Multi-line text keeps tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _on_input(check: Callable[[str], None]) -> AfterValidator:
    def validate(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and isinstance(info.context, dict) and info.context.get(_INPUT):
            check(value)
        return value

    return AfterValidator(validate)


def _no_control(pattern: re.Pattern[str]) -> Callable[[str], None]:
    def check(value: str) -> None:
        found = pattern.search(value)
        if found:
            raise ValueError(f"must not contain control characters (U+{ord(found.group()):04X} at {found.start()})")

    return check


def is_http_url(value: str) -> bool:
    """Whether `value` is an absolute http(s) URL with a host."""
    try:
        _HTTP_URL.validate_python(value)
    except ValidationError:
        return False
    return True


def _http_url(value: str) -> None:
    if not is_http_url(value):
        raise ValueError("must be an absolute http(s) URL")


LINE = _on_input(_no_control(_CONTROL_OR_BREAK))  # one line of text: a title, a name, a tag
TEXT = _on_input(_no_control(_CONTROL))  # text that may run over lines: a description, a note

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$")]
Text = Annotated[str, StringConstraints(max_length=20_000), TEXT]
Name = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True), LINE]
WebUrl = Annotated[str, StringConstraints(max_length=2000), _on_input(_http_url)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


def parse_model(model: type[M], payload: dict[str, Any], *, prefix: str = "", now: datetime | None = None) -> M:
    """Validate `payload` as input, turning pydantic's error into InvalidInput naming the field.

    Input is held to the checks stored records are spared (URLs, emails, control characters, dates not in the
    future as of `now`, the caller's clock; default: the real time). Only the first problem is reported, as
    `field.path: rule`.
    """
    try:
        return model.model_validate(payload, context={_INPUT: True, _NOW: now or utcnow()})
    except ValidationError as exc:
        raise invalid_from(exc, prefix=prefix) from None


def invalid_from(exc: ValidationError, *, prefix: str = "") -> InvalidInput:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in first["loc"]) or "input"
    rule = first["msg"]
    if first["type"] == "greater_than":
        rule = f"must be > {first['ctx']['gt']}"
    elif first["type"] == "extra_forbidden":
        rule = "is not a known field"
    elif first["type"] == "missing":
        rule = "is required"
    elif rule.startswith("Value error, "):
        rule = rule.removeprefix("Value error, ")
    return InvalidInput(f"{prefix}{path}", rule)
