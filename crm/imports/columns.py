"""The columns of the import files (interfaces.md), and how a cell is read and
written.

A column has a name (the English code people put in the header), a label in each
language (also accepted as a header), a type, and help text for the template's
help sheet. :func:`parse_cell` turns a cell into a typed value or raises
:class:`CellError` with a reason in the reader's language; :func:`format_cell`
does the reverse for exports, in the reader's language, so that what an export
writes an import reads back.

Reading rules (interfaces.md): empty cells are empty values; dates ``YYYY-MM-DD``;
booleans yes/no, true/false, 1/0, نعم/لا; lists separated by ``;`` or ``؛``; codes or
their English or Arabic labels; Arabic-Indic digits read as digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from typing import Any

from babel import Locale
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from crm.codes import (
    AmendmentKind,
    Code,
    EngagementCategory,
    EngagementFormat,
    EngagementStatus,
    EngagementType,
    FrameworkStatus,
    Instrument,
    OrganiserRole,
    PartnerType,
    Strategy,
    VictimGroup,
)
from crm.i18n import normalize_digits
from crm.search import normalize

LIST_SEPARATOR = re.compile(r"[;؛]")
TRUE_WORDS = {"yes", "true", "1", "y", "نعم"}
FALSE_WORDS = {"no", "false", "0", "n", "لا"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Formula injection: a cell starting with one of these runs as a formula in a
# spreadsheet; exports put an apostrophe before it and imports take it off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")
# Bidirectional controls disguise text (U+202A–U+202E, U+2066–U+2069) and other
# control characters have no place in a reference or a code.
_CONTROL = {
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
}


class CellError(ValueError):
    """A cell that cannot be read; ``message`` is a lazy, translatable reason."""

    def __init__(self, message: Any):
        self.message = message
        super().__init__("import problem")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text, longtext, ref, refs, code, codes, bool, date, int, country, languages
    label: Any
    help: Any
    required: bool = False
    enum: type[Code] | None = None
    max_length: int | None = None
    example: str = ""

    @property
    def is_list(self) -> bool:
        return self.type in ("codes", "refs", "languages")


# --- formula injection -------------------------------------------------------------


def neutralise(value: str) -> str:
    """A leading apostrophe before a text that a spreadsheet would run as a formula
    (also before one already escaped, so that :func:`unescape` gives it back)."""
    stripped = value.lstrip("'")
    if stripped.startswith(FORMULA_START):
        return "'" + value
    return value


def unescape(value: str) -> str:
    """The inverse of :func:`neutralise`, for cells read from an import file."""
    if _ESCAPED.match(value):
        return value[1:]
    return value


# --- labels of codes ---------------------------------------------------------------


@cache
def _label_index(enum_cls: type[Code]) -> dict[str, Code]:
    """Normalised English and Arabic labels (and codes) of an enumeration."""
    index: dict[str, Code] = {}
    for member in enum_cls:
        index[normalize(member.value)] = member
        index[normalize(member.value.replace("_", " "))] = member
    for language in ("en", "ar"):
        with force_locale(language):
            for member in enum_cls:
                index.setdefault(normalize(str(member.label)), member)
    return index


def code_from_text(enum_cls: type[Code], raw: str) -> Code:
    value = raw.strip()
    try:
        return enum_cls(value)
    except ValueError:
        pass
    member = _label_index(enum_cls).get(normalize(value))
    if member is None:
        raise CellError(
            _l(
                "“%(value)s” is not one of: %(codes)s.",
                value=_shorten(value),
                codes=", ".join(enum_cls.values()),
            )
        )
    return member


@cache
def _label_text(codes: type[Enum], value: Any, language: str) -> str:
    # Keyed on the class too: StrEnum members of two code lists with the same
    # value (children_youth) are equal, and would share one cache entry.
    member = codes(value)
    label = getattr(member, "label", None)
    if label is None:
        return str(member.value)
    with force_locale(language):
        return str(label)


def label_of(member: Enum | None, language: str) -> str:
    """A code's label in ``language`` (looked up once per code and language: an
    export of a million rows asks for the same few labels again and again)."""
    if member is None:
        return ""
    return _label_text(type(member), member.value, language)


# --- countries and languages -------------------------------------------------------

_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)


@cache
def _countries() -> dict[str, str]:
    """Normalised English and Arabic country names (and codes) -> ISO code."""
    index: dict[str, str] = {}
    for language in ("en", "ar"):
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES:
                index.setdefault(code.casefold(), code)
                index.setdefault(normalize(name), code)
    return index


# --- reading a cell ----------------------------------------------------------------


def _shorten(value: str, size: int = 40) -> str:
    return value if len(value) <= size else value[: size - 1] + "…"


def _has_control(value: str) -> bool:
    return any(ch in _CONTROL or unicodedata.category(ch) == "Cc" for ch in value)


def _items(raw: str) -> list[str]:
    seen: list[str] = []
    for part in LIST_SEPARATOR.split(raw):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def parse_bool(raw: str) -> bool:
    word = normalize_digits(raw).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(_l("Write yes or no (also true/false, 1/0, نعم/لا)."))


def parse_date(raw: str) -> date:
    value = normalize_digits(raw).strip()
    if not _DATE.match(value):
        raise CellError(_l("Write the date as YYYY-MM-DD, for example 2024-03-01."))
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CellError(_l("This date does not exist.")) from exc


def parse_int(raw: str) -> int:
    value = normalize_digits(raw).strip().replace("\u066c", "").replace(",", "")
    if not re.fullmatch(r"[+-]?\d+", value):
        raise CellError(_l("Write a whole number."))
    return int(value)


def parse_country(raw: str) -> str:
    """A two-letter code, or a country's English or Arabic name (the area's
    service then checks the code against its list)."""
    value = raw.strip()
    if re.fullmatch(r"[A-Za-z]{2}", value):
        return value.upper()
    code = _countries().get(normalize(value))
    if code is None:
        raise CellError(
            _l("“%(value)s” is not a country code (ISO 3166-1, e.g. SY).", value=_shorten(raw))
        )
    return code


def parse_languages(raw: str) -> list[str]:
    codes = []
    for item in _items(raw):
        code = item.casefold()
        if not re.fullmatch(r"[a-z]{2}", code):
            raise CellError(
                _l("“%(value)s” is not a language code (ISO 639-1, e.g. ar).", value=_shorten(item))
            )
        if code not in codes:
            codes.append(code)
    return codes


def _enum(column: Column) -> type[Code]:
    if column.enum is None:
        raise TypeError(f"column {column.name} has no code list")
    return column.enum


def parse_cell(column: Column, raw: str | None) -> Any:
    """The typed value of one cell; empty is None (an empty list for lists, False
    for yes/no). Raises :class:`CellError`."""
    text = unescape((raw or "").strip())
    if not text:
        if column.is_list:
            return []
        if column.type == "bool":
            return False
        return None
    kind = column.type
    if kind in ("text", "longtext"):
        if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
            raise CellError(_l("This text holds control characters."))
        if column.max_length and len(text) > column.max_length:
            raise CellError(
                _l(
                    "At most %(count)s characters (this one has %(length)s).",
                    count=column.max_length,
                    length=len(text),
                )
            )
        return text
    if kind == "ref":
        if _has_control(text):
            raise CellError(_l("A reference cannot hold control or direction characters."))
        if column.max_length and len(text) > column.max_length:
            raise CellError(
                _l("A reference has at most %(count)s characters.", count=column.max_length)
            )
        return text
    if kind == "refs":
        refs = _items(text)
        for ref in refs:
            if _has_control(ref):
                raise CellError(_l("A reference cannot hold control or direction characters."))
        return refs
    if kind == "code":
        return code_from_text(_enum(column), text)
    if kind == "codes":
        members: list[Code] = []
        for item in _items(text):
            member = code_from_text(_enum(column), item)
            if member not in members:
                members.append(member)
        return members
    if kind == "bool":
        return parse_bool(text)
    if kind == "date":
        return parse_date(text)
    if kind == "int":
        return parse_int(text)
    if kind == "country":
        return parse_country(text)
    if kind == "languages":
        return parse_languages(text)
    raise AssertionError(f"unknown column type {kind}")


# --- writing a cell ----------------------------------------------------------------


def list_separator(language: str) -> str:
    return "؛ " if language == "ar" else "; "


def bool_word(value: bool, language: str) -> str:
    if language == "ar":
        return "نعم" if value else "لا"
    return "yes" if value else "no"


def format_cell(column: Column, value: Any, language: str, *, codes_as_labels: bool = True) -> Any:
    """The value to write in an export: text, a whole number or a date; codes as
    labels in ``language`` (or as codes). The writer neutralises formulas."""
    kind = column.type
    if value is None or (column.is_list and not value):
        return "" if kind != "bool" else bool_word(False, language)
    if kind == "bool":
        return bool_word(bool(value), language)
    if kind == "int":
        return int(value)
    if kind == "date":
        return value
    if kind == "code":
        return label_of(value, language) if codes_as_labels else str(value.value)
    if kind == "codes":
        parts = [label_of(v, language) if codes_as_labels else str(v.value) for v in value]
        return list_separator(language).join(parts)
    if kind in ("refs", "languages"):
        return list_separator(language).join(str(v) for v in value)
    return str(value)


# --- the header --------------------------------------------------------------------


def _header_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lstrip("\ufeff").casefold())


def header_index(columns: Sequence[Column]) -> dict[str, Column]:
    """Every accepted spelling of each column's header: its name, and its label in
    English and in Arabic."""
    index: dict[str, Column] = {}
    for column in columns:
        index[_header_key(column.name)] = column
        for language in ("en", "ar"):
            with force_locale(language):
                index.setdefault("label:" + normalize(str(column.label)), column)
    return index


def match_header(
    cells: Sequence[str], columns: Sequence[Column]
) -> tuple[list[Column | None], list[tuple[int, str, Any]]]:
    """Each header cell's column (None for an empty cell) and the problems found:
    ``(position, header text, reason)`` for unknown and repeated columns."""
    index = header_index(columns)
    found: list[Column | None] = []
    problems: list[tuple[int, str, Any]] = []
    seen: set[str] = set()
    for position, cell in enumerate(cells):
        text = (cell or "").strip()
        if not text:
            found.append(None)
            continue
        column = index.get(_header_key(text)) or index.get("label:" + normalize(text))
        if column is None:
            problems.append(
                (
                    position,
                    text,
                    _l(
                        "Unknown column. The columns are: %(names)s.",
                        names=", ".join(c.name for c in columns),
                    ),
                )
            )
            found.append(None)
            continue
        if column.name in seen:
            problems.append((position, text, _l("This column appears twice.")))
            found.append(None)
            continue
        seen.add(column.name)
        found.append(column)
    return found, problems


def header_labels(columns: Iterable[Column], language: str) -> list[str]:
    with force_locale(language):
        return [str(c.label) for c in columns]


def by_name(columns: Iterable[Column]) -> Mapping[str, Column]:
    return {c.name: c for c in columns}


# --- the three kinds (interfaces.md) -----------------------------------------------

_REF_HELP = _l(
    "Your reference for the record, unique. A row whose reference exists updates that record."
)
_LIST_HELP = _l("Several values separated by ; or ؛")
_CODE_HELP = _l("A code, or its English or Arabic label.")

PARTNER_COLUMNS: tuple[Column, ...] = (
    Column(
        "ref", "ref", _l("Reference"), _REF_HELP, required=True, max_length=64, example="P-0001"
    ),
    Column(
        "name_en",
        "text",
        _l("Name (Latin script)"),
        _l("Name in Latin script; this or the Arabic name is required."),
        max_length=300,
        example="Syrian Families Association",
    ),
    Column(
        "name_ar",
        "text",
        _l("Name (Arabic)"),
        _l("Name in Arabic; this or the Latin name is required."),
        max_length=300,
        example="رابطة العائلات السورية",
    ),
    Column("acronym", "text", _l("Acronym"), _l("Short name."), max_length=50, example="SFA"),
    Column(
        "type",
        "code",
        _l("Type"),
        _CODE_HELP,
        required=True,
        enum=PartnerType,
        example="victims_association",
    ),
    Column(
        "country",
        "country",
        _l("Country"),
        _l("ISO 3166-1 two-letter code, e.g. SY, TR, DE."),
        example="TR",
    ),
    Column(
        "city",
        "text",
        _l("City"),
        _l("City where the partner is based."),
        max_length=120,
        example="Gaziantep",
    ),
    Column("women_led", "bool", _l("Women-led"), _l("yes or no"), example="yes"),
    Column(
        "victim_groups",
        "codes",
        _l("Victim groups"),
        _LIST_HELP,
        enum=VictimGroup,
        example="missing_disappeared; detention_torture",
    ),
    Column(
        "email",
        "text",
        _l("E-mail address"),
        _l("The organisation's address."),
        max_length=254,
        example="info@example.org",
    ),
    Column(
        "phone",
        "text",
        _l("Phone"),
        _l("With the country code."),
        max_length=64,
        example="+90 555 000 0000",
    ),
    Column(
        "confidential",
        "bool",
        _l("Confidential"),
        _l("yes: visible only to roles allowed to see confidential records."),
        example="no",
    ),
    Column("notes", "longtext", _l("Notes"), _l("Free text."), max_length=20000, example=""),
)

FRAMEWORK_COLUMNS: tuple[Column, ...] = (
    Column(
        "ref", "ref", _l("Reference"), _REF_HELP, required=True, max_length=64, example="F-0001"
    ),
    Column(
        "title_en",
        "text",
        _l("Title (English)"),
        _l("Title in English; this or the Arabic title is required."),
        max_length=500,
        example="Memorandum of understanding with SFA",
    ),
    Column(
        "title_ar",
        "text",
        _l("Title (Arabic)"),
        _l("Title in Arabic; this or the English title is required."),
        max_length=500,
        example="مذكرة تفاهم مع رابطة العائلات السورية",
    ),
    Column(
        "instrument",
        "code",
        _l("Instrument"),
        _CODE_HELP,
        required=True,
        enum=Instrument,
        example="mou",
    ),
    Column(
        "partner_refs",
        "refs",
        _l("Counterparts"),
        _l(
            "References of the partners that signed, separated by ; "
            "(they must exist already or be imported first)."
        ),
        required=True,
        example="P-0001; P-0002",
    ),
    Column("purposes", "longtext", _l("Purposes"), _l("Free text."), max_length=20000, example=""),
    Column(
        "status",
        "code",
        _l("Status"),
        _CODE_HELP,
        required=True,
        enum=FrameworkStatus,
        example="in_force",
    ),
    Column("signed_on", "date", _l("Signed on"), _l("YYYY-MM-DD"), example="2023-05-14"),
    Column("in_force_from", "date", _l("In force from"), _l("YYYY-MM-DD"), example="2023-06-01"),
    Column("expires_on", "date", _l("Expires on"), _l("YYYY-MM-DD"), example="2026-05-31"),
    Column("terminated_on", "date", _l("Terminated on"), _l("YYYY-MM-DD"), example=""),
    Column(
        "amends_ref",
        "ref",
        _l("Amends"),
        _l(
            "Reference of the framework this one amends, renews or extends "
            "(it must exist already or come earlier in the file)."
        ),
        max_length=64,
        example="",
    ),
    Column(
        "amendment_kind",
        "code",
        _l("Kind of amendment"),
        _l("amendment, addendum, renewal or extension (amendment when left empty)."),
        enum=AmendmentKind,
        example="",
    ),
    Column(
        "confidential",
        "bool",
        _l("Confidential"),
        _l("yes: visible only to roles allowed to see confidential records."),
        example="no",
    ),
    Column("notes", "longtext", _l("Notes"), _l("Free text."), max_length=20000, example=""),
)

ENGAGEMENT_COLUMNS: tuple[Column, ...] = (
    Column(
        "ref", "ref", _l("Reference"), _REF_HELP, required=True, max_length=64, example="E-0001"
    ),
    Column(
        "title_en",
        "text",
        _l("Title (English)"),
        _l("Title in English; this or the Arabic title is required."),
        max_length=500,
        example="Consultation with families of the missing",
    ),
    Column(
        "title_ar",
        "text",
        _l("Title (Arabic)"),
        _l("Title in Arabic; this or the English title is required."),
        max_length=500,
        example="مشاورة مع عائلات المفقودين",
    ),
    Column(
        "category",
        "code",
        _l("Category"),
        _CODE_HELP,
        required=True,
        enum=EngagementCategory,
        example="victims_survivors",
    ),
    Column(
        "type",
        "code",
        _l("Type"),
        _CODE_HELP,
        required=True,
        enum=EngagementType,
        example="consultation",
    ),
    Column(
        "format",
        "code",
        _l("Format"),
        _CODE_HELP,
        required=True,
        enum=EngagementFormat,
        example="in_person",
    ),
    Column(
        "status",
        "code",
        _l("Status"),
        _CODE_HELP,
        required=True,
        enum=EngagementStatus,
        example="held",
    ),
    Column(
        "start_date",
        "date",
        _l("Start date"),
        _l("YYYY-MM-DD"),
        required=True,
        example="2024-03-01",
    ),
    Column(
        "end_date",
        "date",
        _l("End date"),
        _l("YYYY-MM-DD, not before the start date."),
        example="2024-03-02",
    ),
    Column(
        "organiser", "code", _l("Organiser"), _CODE_HELP, enum=OrganiserRole, example="mechanism"
    ),
    Column(
        "country",
        "country",
        _l("Country"),
        _l("ISO 3166-1 two-letter code, e.g. SY, TR, DE."),
        example="TR",
    ),
    Column(
        "city",
        "text",
        _l("City"),
        _l("City where it took place."),
        max_length=120,
        example="Gaziantep",
    ),
    Column(
        "languages",
        "languages",
        _l("Languages"),
        _l("ISO 639-1 codes separated by ;, e.g. ar; en"),
        example="ar; en",
    ),
    Column(
        "victim_groups",
        "codes",
        _l("Victim groups"),
        _LIST_HELP,
        enum=VictimGroup,
        example="missing_disappeared",
    ),
    Column(
        "strategies",
        "codes",
        _l("Strategies"),
        _LIST_HELP,
        enum=Strategy,
        example="victim_centred; gender",
    ),
    Column(
        "partner_refs",
        "refs",
        _l("Partners"),
        _l("References of the partners involved, separated by ; (they must exist already)."),
        example="P-0001",
    ),
    Column(
        "women", "int", _l("Women"), _l("Number of women taking part, 0 or more."), example="12"
    ),
    Column("men", "int", _l("Men"), _l("Number of men taking part, 0 or more."), example="8"),
    Column(
        "unspecified",
        "int",
        _l("Unspecified"),
        _l("Participants whose sex is not recorded, 0 or more."),
        example="0",
    ),
    Column(
        "under_18",
        "int",
        _l("Under 18"),
        _l("How many of the participants are under 18; not more than their total."),
        example="2",
    ),
    Column(
        "summary_en",
        "longtext",
        _l("Summary (English)"),
        _l("Free text."),
        max_length=20000,
        example="",
    ),
    Column(
        "summary_ar",
        "longtext",
        _l("Summary (Arabic)"),
        _l("Free text."),
        max_length=20000,
        example="",
    ),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "partners": PARTNER_COLUMNS,
    "frameworks": FRAMEWORK_COLUMNS,
    "engagements": ENGAGEMENT_COLUMNS,
}
