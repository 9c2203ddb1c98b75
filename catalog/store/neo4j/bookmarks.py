"""Bookmarks as clients see them: the driver's raw bookmark values, checked before a session waits for them."""

from __future__ import annotations

import re

from neo4j import Bookmarks

from catalog.errors import InvalidInput

# A bookmark as we hand it out: the driver's raw bookmark strings (base64 with a prefix), comma-separated.
_BOOKMARK_VALUE = re.compile(r"^[A-Za-z0-9+/=:._-]{1,512}$")
_MAX_BOOKMARK_VALUES = 16


def _bookmark_values(bookmark: str, name: str) -> list[str]:
    """The raw values of a bookmark we handed out. Raises InvalidInput naming `name` when it has another form."""
    values = bookmark.split(",")
    if len(values) > _MAX_BOOKMARK_VALUES or not all(_BOOKMARK_VALUE.match(v) for v in values):
        raise InvalidInput(name, "is not a bookmark this catalog returned; send back one a response carried")
    return values


def _bookmark_text(bookmarks: Bookmarks) -> str | None:
    return ",".join(sorted(bookmarks.raw_values)) or None
