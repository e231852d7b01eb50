"""Reading plain values into typed ones, for services called by forms, the importer
and the API alike (``"yes"``/``"نعم"``, ``"2024-03-01"``, ``"a; b؛ c"``, a code or its
English or Arabic label), and the lists of countries and languages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from babel import Locale
from flask_babel import force_locale

from crm.i18n import current_language, normalize_digits

E = TypeVar("E", bound=Enum)

_TRUE = {"1", "yes", "true", "y", "on", "نعم"}
_FALSE = {"0", "no", "false", "n", "off", "لا", ""}
_LIST_SEPARATORS = re.compile(r"[;؛\n]")

# Babel's territories include regions and codes outside ISO 3166-1 alpha-2.
_NOT_ISO_3166 = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)
# Offered first as checkboxes; any other ISO 639-1 code is accepted too.
COMMON_LANGUAGES = ("ar", "en", "ku", "tr", "fr", "de", "nl", "sv", "fa", "hy", "ru", "es")


class BadValue(ValueError):
    """A value that cannot be read as the type asked for."""


def text(value: Any) -> str | None:
    """Trimmed text; empty becomes None."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    lowered = str(value).strip().casefold()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadValue(value)


def to_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(normalize_digits(str(value)).strip())
    except ValueError as exc:
        raise BadValue(value) from exc


def to_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadValue(value)
    if isinstance(value, int):
        return value
    try:
        return int(normalize_digits(str(value)).strip())
    except ValueError as exc:
        raise BadValue(value) from exc


def to_list(value: Any) -> list[Any]:
    """A list from a list, or from text separated by ``;`` (or the Arabic ``؛``)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in _LIST_SEPARATORS.split(value) if part.strip()]
    if isinstance(value, Iterable):
        return [v for v in value if v is not None and v != ""]
    return [value]


@cache
def _label_index(enum_cls: type[Enum]) -> dict[str, Enum]:
    index: dict[str, Enum] = {}
    for language in ("en", "ar"):
        with force_locale(language):
            for member in enum_cls:
                label = getattr(member, "label", None)
                if label is not None:
                    index.setdefault(str(label).casefold(), member)
    return index


def to_code(enum_cls: type[E], value: Any) -> E | None:
    """A code from itself, its value, or its English or Arabic label."""
    if value is None or value == "":
        return None
    if isinstance(value, enum_cls):
        return value
    raw = str(value).strip()
    try:
        return enum_cls(raw)
    except ValueError:
        pass
    try:
        return enum_cls(raw.lower())
    except ValueError:
        pass
    member = _label_index(enum_cls).get(raw.casefold())
    if member is None:
        raise BadValue(value)
    return member  # type: ignore[return-value]


# --- countries and languages -----------------------------------------------------


@cache
def _countries(language: str) -> dict[str, str]:
    names = Locale.parse(language).territories
    codes = (c for c in names if len(c) == 2 and c.isalpha() and c not in _NOT_ISO_3166)
    return {code: names[code] for code in codes}


def country_names(language: str | None = None) -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> country name in ``language`` (the reader's)."""
    return _countries(language or current_language())


def country_name(code: str | None, language: str | None = None) -> str:
    if not code:
        return ""
    return country_names(language).get(code, code)


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    names = country_names(language)
    return sorted(names.items(), key=lambda item: item[1])


def is_country(code: str) -> bool:
    return code in _countries("en")


@cache
def _languages(language: str) -> dict[str, str]:
    names = Locale.parse(language).languages
    return {code: names[code] for code in names if len(code) == 2 and code.isalpha()}


def language_names(language: str | None = None) -> dict[str, str]:
    """ISO 639-1 code -> language name in ``language`` (the reader's)."""
    return _languages(language or current_language())


def language_name(code: str, language: str | None = None) -> str:
    return language_names(language).get(code, code)


def is_language(code: str) -> bool:
    return code in _languages("en")


def language_choices(current: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The common languages, then any other already chosen, for checkboxes."""
    names = language_names()
    codes = list(COMMON_LANGUAGES) + [c for c in current if c not in COMMON_LANGUAGES]
    return [(code, names.get(code, code)) for code in codes]


def present(data: Mapping[str, Any], key: str) -> bool:
    """Whether a field was given (an update only changes the fields it is given)."""
    return key in data
