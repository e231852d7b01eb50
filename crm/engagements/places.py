"""Countries (ISO 3166-1 alpha-2) and languages (ISO 639-1), named in the reader's
language from Babel's CLDR data, for engagement forms, filters and pages."""

from __future__ import annotations

from functools import cache

from babel import Locale

from crm.i18n import FORMAT_LOCALES, current_language

# Two-letter territory codes in CLDR that are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})
# Offered first in the language list: the languages the team works in most.
COMMON_LANGUAGES = ("ar", "en", "ku", "tr", "fr", "de")


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(FORMAT_LOCALES.get(language, language))


@cache
def country_codes() -> frozenset[str]:
    names = _locale("en").territories
    return frozenset(c for c in names if len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES)


@cache
def language_codes() -> frozenset[str]:
    return frozenset(c for c in _locale("en").languages if len(c) == 2 and c.isalpha())


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return _locale(current_language()).territories.get(code, code)


def language_name(code: str | None) -> str:
    if not code:
        return ""
    return _locale(current_language()).languages.get(code, code)


@cache
def _country_choices(language: str) -> tuple[tuple[str, str], ...]:
    names = _locale(language).territories
    return tuple(sorted(((c, names.get(c, c)) for c in country_codes()), key=lambda i: i[1]))


@cache
def _language_choices(language: str) -> tuple[tuple[str, str], ...]:
    names = _locale(language).languages
    rest = sorted(
        ((c, names.get(c, c)) for c in language_codes() if c not in COMMON_LANGUAGES),
        key=lambda i: i[1],
    )
    return tuple([(c, names.get(c, c)) for c in COMMON_LANGUAGES] + rest)


def country_choices() -> list[tuple[str, str]]:
    """(code, name) for every country, sorted by name in the reader's language."""
    return list(_country_choices(current_language()))


def language_choices() -> list[tuple[str, str]]:
    """(code, name): the team's usual languages first, then all others by name."""
    return list(_language_choices(current_language()))
