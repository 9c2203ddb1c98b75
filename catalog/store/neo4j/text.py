"""Full text as SQLite's FTS5 `unicode61` tokenizer sees it, and properties as stored with their derived fields."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from catalog.store.base import Props
from catalog.store.neo4j.cypher import _label
from catalog.store.schema import SAFE_PROPERTY, TEXT_INDEXED, Label

_WORD = re.compile(r"\w+", re.UNICODE)
# Lucene query syntax characters; tokens may contain symbols, so every one of them is escaped.
_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/<>=])')


def _text_index(label: Label) -> str:
    return f"catalog_{_label(label).lower()}_text"


def _text_prop(prop: str) -> str:
    assert SAFE_PROPERTY.match(prop), prop
    return f"_text_{prop}"


def _is_token_char(char: str) -> bool:
    # unicode61 keeps letters, numbers, private-use and non-BMP characters; the rest separate tokens.
    return unicodedata.category(char)[0] in "LN" or unicodedata.category(char) == "Co" or ord(char) > 0xFFFF


def _tokens(text: str) -> list[str]:
    """Lower-cased tokens with diacritics removed (unicode61's defaults)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    folded = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    words, current = [], []
    for char in folded:
        if _is_token_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _text_value(value: Any) -> str | None:
    """The derived full-text string for one property value, as the SQLite backend would index it."""
    if value is None:
        return None
    text = " ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    return " ".join(_tokens(text))


def _lucene_query(text: str) -> str | None:
    """Words ANDed and prefix-matched, like SQLite's `"word"*` terms. None when there are no words.

    Returns "" when a word has no token (e.g. "___"): FTS5 matches nothing for it, so neither do we.
    """
    words = _WORD.findall(text)
    if not words:
        return None
    terms: list[str] = []
    for word in words:
        tokens = _tokens(word)
        if not tokens:
            return ""
        terms.extend(_LUCENE_SPECIAL.sub(r"\\\1", token) + "*" for token in tokens)
    return " AND ".join(terms)


def _storable(label: Label, props: Props) -> Props:
    """Properties as written: never `id` (it is the key) nor our own `_` names, plus derived text fields."""
    stored = {k: v for k, v in props.items() if k != "id" and not k.startswith("_")}
    for name in TEXT_INDEXED.get(label, ()):
        if name in props:
            # None removes the derived field along with the property itself.
            stored[_text_prop(name)] = _text_value(props[name])
    return stored


def _public(props: dict[str, Any]) -> Props:
    return {k: v for k, v in props.items() if not k.startswith("_")}
