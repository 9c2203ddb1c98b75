"""Sentences a person can act on: the templates of `because:` and `remedy:`, and how values read in them.

A template is plain English with placeholders naming attributes without their `r.`: `agreement
{env.agreement.id} covers {env.agreement.purpose} only, not {env.purpose}`. Values are written as a reader
would say them: lists as "a, b and c", timestamps as dates, nothing as "none", never as Python literals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from catalog.policy.attributes import KNOWN_ATTRIBUTES
from catalog.policy.expressions import resolve

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})?$")


class TemplateError(ValueError):
    """A template that names something it may not. The loader adds file, line and rule."""


def entity(path: str) -> str:
    """What an attribute belongs to: `r.env.agreement` for `r.env.agreement.id`, `r.sub` for `r.sub.roles`."""
    return path.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Template:
    text: str
    paths: tuple[str, ...]  # the attributes it names, as `r.` paths

    @classmethod
    def parse(cls, text: str, reads: tuple[str, ...], always: tuple[str, ...] = ()) -> Template:
        """Check a template against the attributes its condition reads: each placeholder must name one of them,
        another attribute of the same thing (the agreement, the requester, the dataset), or one of `always`."""
        paths = []
        readable = {entity(path) for path in reads}
        for name in _PLACEHOLDER.findall(text):
            path = f"r.{name.strip()}"
            if path not in KNOWN_ATTRIBUTES:
                raise TemplateError(f"{{{name}}} is not an attribute (see `catalog policy check` for the list)")
            if path not in always and entity(path) not in readable:
                raise TemplateError(
                    f"{{{name}}} is not read by the condition, which reads only {', '.join(r[2:] for r in reads)}"
                )
            paths.append(path)
        return cls(text, tuple(paths))

    def render(self, request: Any) -> str:
        """The sentence, with each placeholder replaced by its value as a reader would say it."""
        return _PLACEHOLDER.sub(lambda m: plain(resolve(request, f"r.{m.group(1).strip()}")), self.text)


def plain(value: Any) -> str:
    """A value as a sentence says it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        if not items:
            return "none"
        return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str):
        if not value:
            return "none"
        if _TIMESTAMP.match(value):
            return value[:10]
        return value
    if value is None:
        return "none"
    return str(value)


def sentence(parts: list[str]) -> str:
    """Clauses joined into one sentence, capitalised and with one full stop."""
    text = "; ".join(p.strip().rstrip(".") for p in parts if p.strip())
    return (text[:1].upper() + text[1:] + ".") if text else ""


__all__ = ["Template", "TemplateError", "entity", "plain", "sentence"]
