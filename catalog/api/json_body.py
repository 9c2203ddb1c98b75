"""JSON a client sends, read as I-JSON (RFC 7493): every string, keys included, must be Unicode text.

A JSON escape can spell a lone UTF-16 surrogate (`"\\ud800"`). Python's parser accepts it, but it is not text:
neither store can keep it, and UTF-8 cannot carry it back in an answer, so it failed deep inside a request (an id
answered INTERNAL, a key inside an input a bare 500). It is refused here, before anything runs, naming where it is.
"""

from __future__ import annotations

import json
import re
from typing import Any

from catalog.errors import BadRequest

_SURROGATE = re.compile("[\ud800-\udfff]")


def loads(data: bytes | str, *, where: str = "body", root: str = "") -> Any:
    """Parse `data`, sent by a client, refusing what is not JSON or not text.

    Args:
        where: what `data` is, for the error when it is not JSON ("body", "variables").
        root: the path the problem's location starts from: "" gives `variables.id`, "$" gives `$.job.name`.
    """
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest(f"{where}: not valid JSON") from None
    found = _first_surrogate(value, root)
    if found is not None:
        path, char = found
        raise BadRequest(
            f"{path or where}: must be Unicode text, but holds a lone UTF-16 surrogate (U+{ord(char):04X}); "
            "send each character whole (as UTF-8, or as an escaped surrogate pair)"
        )
    return value


def _first_surrogate(value: Any, path: str) -> tuple[str, str] | None:
    """The path of the first string in `value` holding a lone surrogate, and that surrogate; None if all is text."""
    if isinstance(value, str):
        char = _SURROGATE.search(value)
        return (path, char.group()) if char else None
    if isinstance(value, dict):
        for key, item in value.items():
            bad_key = _SURROGATE.search(key)
            step = f"{path}[{json.dumps(key)}]" if bad_key or not key.isidentifier() else _join(path, key)
            if bad_key:
                return step, bad_key.group()
            found = _first_surrogate(item, step)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_surrogate(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
