"""Page cursors, as the API and the pages hand them out: opaque to a client, and refused unless one of ours.

A cursor carries the id of the last record on a page (the lists are keyset-paged by id). A client gets it back
encoded, so that a made-up value is told apart from a real one and refused naming its parameter, where a raw id
silently listed whatever sorted after it.
"""

from __future__ import annotations

import base64
import binascii

from catalog.errors import InvalidInput

PREFIX = "v1:"


def encode(id: str) -> str:
    return base64.urlsafe_b64encode(f"{PREFIX}{id}".encode()).decode()


def decode(cursor: str | None, name: str = "after") -> str | None:
    """The id a cursor of ours carries; None for no cursor. Raises InvalidInput naming `name` for any other."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, ValueError):  # a UnicodeError is a ValueError
        raw = ""
    if not raw.startswith(PREFIX):
        raise InvalidInput(name, "is not a cursor returned by this API")
    return raw[len(PREFIX) :]
