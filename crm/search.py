"""Text search: the one place that decides how a typed word matches a record.

``normalize`` folds what differs between spellings of the same name (case,
diacritics, tatweel, hamza forms of alef, taa marbuta, alef maqsura). The
dedicated search issue replaces ``matches`` with transliteration-aware search;
callers only ever use these two functions.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

_ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_FOLD = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"}
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalize(text: str | None) -> str:
    """Lower-case, unaccented, Arabic-folded words separated by single spaces."""
    if not text:
        return ""
    text = _ARABIC_DIACRITICS.sub("", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text).casefold().translate(_ARABIC_FOLD)
    return _NON_WORD.sub(" ", text).strip()


def search_text(*values: str | None) -> str:
    """The value to store in a record's ``search_text`` column."""
    return " ".join(filter(None, (normalize(v) for v in values)))


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches(column: Any, query: str | None) -> ColumnElement[bool] | None:
    """A condition true when every word of ``query`` occurs in ``column``.

    ``column`` is a ``search_text`` column filled by :func:`search_text`. Returns
    None for an empty query, so callers can skip the filter.
    """
    words = normalize(query).split()
    if not words:
        return None
    conditions = [
        or_(
            column.like(f"{_escape_like(w)}%", escape="\\"),
            column.like(f"% {_escape_like(w)}%", escape="\\"),
        )
        for w in words
    ]
    return and_(*conditions)
