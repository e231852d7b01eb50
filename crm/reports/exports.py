"""The Outcome 3 report as files: CSV, XLSX, JSON and a plain-text table.

Every format is written from the one report dict that ``counting.report`` returns,
so they carry the same numbers as the web page. Labels and headers are in the
current language (the caller wraps the call in ``force_locale``).

Small-cell suppression (every channel)
--------------------------------------
Counts of people (the participant totals by sex and age, and the individual
people reached) from 1 to ``below - 1`` (``CRM_SUPPRESS_BELOW``, 5 by default, so
1 to 4) could single a person out. Every channel (web page, print page, files,
command line, API) shows the same suppressed figures; ``suppress`` is applied
once, in ``services.channel_report``:

1. *Primary*: every person count from 1 to ``below - 1`` is suppressed. Zero is
   shown: it reveals nobody.
2. *Secondary*: the participants obey an equation, ``total = women + men +
   unspecified``. When exactly one of its cells is suppressed, the published
   others would give it away, so the smallest other non-zero part is suppressed
   too (the total only when no part is left). This repeats until no equation has
   exactly one suppressed cell. With two or more suppressed cells an equation only
   gives their sum, never one of them.

A suppressed cell is ``null`` in JSON (its key is listed under ``suppressed``) and
shows as ``•`` everywhere else, with a note saying why. Counts of engagements
and frameworks (the breakdowns by type, format, country…) count events and
signed instruments, not people, and are never suppressed.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from crm.i18n import current_language, text_direction
from crm.reports import texts
from crm.reports.counting import BREAKDOWNS, ENGAGEMENTS, FRAMEWORKS, Period

FORMATS = ("csv", "xlsx", "json")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "table": "text/plain; charset=utf-8",
}
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

PARTICIPANTS = ("total", "women", "men", "unspecified", "under_18")
# Person counts that may be suppressed, and the equations between them.
PERSON_CELLS = (
    *(f"{ENGAGEMENTS}.participants.{name}" for name in PARTICIPANTS),
    f"{ENGAGEMENTS}.unique_people",
)
EQUATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        f"{ENGAGEMENTS}.participants.total",
        tuple(f"{ENGAGEMENTS}.participants.{n}" for n in ("women", "men", "unspecified")),
    ),
)


SUPPRESSED_MARK = "•"


def default_below() -> int:
    """``CRM_SUPPRESS_BELOW``: counts of 1 to this minus one people are suppressed."""
    if has_app_context():
        return int(current_app.config.get("SUPPRESS_BELOW", 5))
    return 5


# --- suppression -------------------------------------------------------------------------


def suppressed_cells(
    values: dict[str, int],
    equations: Iterable[tuple[str, Sequence[str]]],
    threshold: int,
) -> set[str]:
    """The cells to suppress: primary (1..threshold), then secondary (see the module doc)."""
    hidden = {key for key, value in values.items() if 1 <= value <= threshold}
    equations = list(equations)
    changed = True
    while changed:
        changed = False
        for total, parts in equations:
            members = [total, *parts]
            if sum(1 for m in members if m in hidden) != 1:
                continue
            others = [p for p in parts if p not in hidden and values[p] > 0]
            if others:
                # The smallest other part; the first in order on a tie.
                hidden.add(min(others, key=lambda p: (values[p], parts.index(p))))
            elif total not in hidden:
                hidden.add(total)
            else:  # pragma: no cover - the total alone hidden means its parts are too
                continue
            changed = True
    return hidden


def hidden_cells(report: dict[str, Any], below: int | None = None) -> set[str]:
    """The keys of the person counts of ``report`` that must not be shown."""
    below = default_below() if below is None else int(below)
    values = {key: int(_get(report, key) or 0) for key in PERSON_CELLS if _has(report, key)}
    return suppressed_cells(values, _equations_of(values), below - 1)


def suppress(report: dict[str, Any], below: int | None = None) -> dict[str, Any]:
    """A copy of ``report`` as it is published: small person counts become None.

    The copy says what was suppressed: ``suppressed`` lists the keys (in a fixed
    order) and ``suppression`` gives the rule (``{"below": 5}``: counts of 1 to 4
    people, and the cells that would give one away).
    """
    below = default_below() if below is None else int(below)
    hidden = hidden_cells(report, below)
    out = copy.deepcopy(report)
    for key in hidden:
        _set(out, key, None)
    out["suppressed"] = sorted(hidden, key=PERSON_CELLS.index)
    out["suppression"] = {"below": below}
    return out


def _has(report: dict[str, Any], key: str) -> bool:
    try:
        _get(report, key)
    except (KeyError, TypeError):
        return False
    return True


def _equations_of(values: dict[str, int]) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (total, parts)
        for total, parts in EQUATIONS
        if total in values and all(p in values for p in parts)
    ]


def _get(report: dict[str, Any], key: str) -> Any:
    node: Any = report
    for part in key.split("."):
        node = node[part]
    return node


def _set(report: dict[str, Any], key: str, value: Any) -> None:
    *path, last = key.split(".")
    node = report
    for part in path:
        node = node[part]
    node[last] = value


# --- cells -----------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def _shown(value: Any) -> Any:
    return SUPPRESSED_MARK if value is None else value


@dataclass(frozen=True)
class Sheet:
    """One table of the report: its name, translated header and rows."""

    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]


def _summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    """figure, code, label, value: the period, the headline rule, then every number."""
    from crm.codes import HeadlineRule

    fw, en = report[FRAMEWORKS], report[ENGAGEMENTS]
    rule = HeadlineRule(fw["headline_rule"])

    def line(key: str, value: Any, code: str = "", label_key: str | None = None) -> list[Any]:
        figure = key if not code else key.rpartition(".")[0]
        return [figure, code, str(texts.figure_label(label_key or key)), _shown(value)]

    rows: list[list[Any]] = [
        ["period", "from", _("First day"), report["period"]["from"]],
        ["period", "to", _("Last day"), report["period"]["to"]],
        [f"{FRAMEWORKS}.headline_rule", rule.value, _("Headline rule used"), str(rule.label)],
        line(f"{FRAMEWORKS}.headline", fw["headline"]),
    ]
    for name in (
        "concluded_to_date",
        "concluded_in_period",
        "in_force_at_end",
        "civil_society_to_date",
    ):
        rows.append(line(f"{FRAMEWORKS}.{name}", fw[name]))
    rows.append(line(f"{ENGAGEMENTS}.headline", en["headline"]))
    rows.append(line(f"{ENGAGEMENTS}.held_in_period", en["held_in_period"]))
    for name in PARTICIPANTS:
        key = f"{ENGAGEMENTS}.participants.{name}"
        rows.append(line(key, en["participants"][name], code=name))
    rows.append(line(f"{ENGAGEMENTS}.unique_people", en["unique_people"]))
    return rows


def sheets(report: dict[str, Any]) -> list[Sheet]:
    """The report as tables: a summary, then one per breakdown (current language)."""
    header = [_("Figure"), _("Code"), _("Label"), _("Count")]
    out = [Sheet("summary", _("Summary"), header, _summary_rows(report))]
    for breakdown in BREAKDOWNS:
        counts = report[breakdown.section].get(breakdown.name, {})
        rows = [
            [code, str(texts.value_label(breakdown.key, code)), n] for code, n in counts.items()
        ]
        out.append(
            Sheet(
                breakdown.name,
                str(texts.breakdown_label(breakdown.key)),
                [_("Code"), _("Label"), _("Count")],
                rows,
            )
        )
    return out


def notes(report: dict[str, Any]) -> list[str]:
    """The lines under the figures: the lock (and whether these are today's data),
    what a breakdown adds up to, and what the suppression mark means."""
    lines = []
    locked = report.get("locked")
    if locked:
        lines.append(texts.locked_note(locked["name"], datetime.fromisoformat(locked["locked_at"])))
        if report.get("live"):
            lines.append(texts.live_note())
        if locked["restated"]:
            lines.append(texts.restated_note())
    lines.append(str(texts.BREAKDOWN_NOTE))
    if report.get("suppressed"):
        lines.append(texts.suppression_note(report["suppression"]["below"]))
    return lines


def restatement_rows(report: dict[str, Any]) -> list[list[Any]]:
    """["restatement", figure key, figure name, "published 2, today 3"] per restated figure."""
    return [
        [
            "restatement",
            change["figure"],
            texts.figure_title(change["figure"]),
            texts.change_text(change["published"], change["today"]),
        ]
        for change in report.get("restatement", [])
    ]


# --- the formats -----------------------------------------------------------------------------


def to_json(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode()


def to_csv(report: dict[str, Any]) -> bytes:
    """One long table (UTF-8 with a BOM, so spreadsheet programs read the Arabic):
    figure, code, label, count; the breakdowns follow the summary."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("Figure"), _("Code"), _("Label"), _("Count")])
    for sheet in sheets(report):
        if sheet.key == "summary":
            rows = sheet.rows
        else:
            section = next(b.section for b in BREAKDOWNS if b.name == sheet.key)
            rows = [[f"{section}.{sheet.key}", *row] for row in sheet.rows]
        for row in rows:
            writer.writerow([neutralise(cell) for cell in row])
    for line in notes(report):
        writer.writerow(["note", "", neutralise(line), ""])
    for row in restatement_rows(report):
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()[:31] or "Sheet"
    candidate, n = cleaned, 2
    while candidate in used:
        candidate = f"{cleaned[:28]} {n}"
        n += 1
    used.add(candidate)
    return candidate


def to_xlsx(report: dict[str, Any], *, made_by: str | None = None) -> bytes:
    """One sheet per table; right-to-left sheets when the language is Arabic.

    The document properties say who made the file (``made_by``) and when.
    """
    workbook = Workbook()
    workbook.remove(workbook.active)
    rtl = text_direction(current_language()) == "rtl"
    used: set[str] = set()
    bold = Font(bold=True)
    for sheet in sheets(report):
        ws = workbook.create_sheet(_sheet_title(sheet.title, used))
        ws.sheet_view.rightToLeft = rtl
        ws.append([neutralise(cell) for cell in sheet.header])
        for cell in ws[1]:
            cell.font = bold
        for row in sheet.rows:
            ws.append([neutralise(cell) for cell in row])
        if sheet.key == "summary":
            ws.append([])
            for line in notes(report):
                ws.append([neutralise(line)])
            for row in restatement_rows(report):
                ws.append([neutralise(cell) for cell in row])
        for column, width in zip("ABCD", (34, 24, 56, 12), strict=False):
            ws.column_dimensions[column].width = width
        ws.freeze_panes = "A2"
    workbook.properties.title = _("Outcome 3 report")
    workbook.properties.creator = made_by or "crm"
    workbook.properties.created = datetime.now(UTC).replace(tzinfo=None)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_table(report: dict[str, Any]) -> bytes:
    """A plain-text report for the terminal."""
    p = Period(
        date.fromisoformat(report["period"]["from"]), date.fromisoformat(report["period"]["to"])
    )
    lines = [_("Outcome 3 report"), texts.period_label(p), ""]
    for sheet in sheets(report):
        if sheet.key == "summary":
            rows = [(row[2], row[3]) for row in sheet.rows[2:]]
        else:
            rows = [(row[1], row[2]) for row in sheet.rows]
        lines.append(sheet.title)
        if not rows:
            lines.append("  " + _("none"))
        width = max((len(str(label)) for label, _value in rows), default=0)
        for label, value in rows:
            lines.append(f"  {label!s:<{width}}  {value!s:>8}")
        lines.append("")
    lines.extend(notes(report))
    for _kind, _key, title, change in restatement_rows(report):
        lines.append(f"  {title}: {change}")
    return ("\n".join(lines) + "\n").encode()


WRITERS = {"csv": to_csv, "xlsx": to_xlsx, "json": to_json, "table": to_table}


def render(report: dict[str, Any], fmt: str, *, made_by: str | None = None) -> bytes:
    if fmt == "xlsx":
        return to_xlsx(report, made_by=made_by)
    return WRITERS[fmt](report)


def filename(report: dict[str, Any], fmt: str, language: str, *, live: bool = False) -> str:
    period = report["period"]
    suffix = "-live" if live else ""
    extension = "txt" if fmt == "table" else fmt
    return f"outcome3_{period['from']}_{period['to']}_{language}{suffix}.{extension}"
