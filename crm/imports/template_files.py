"""Empty import files to download: the columns of a kind, ready to fill.

CSV has room for one header row only (a second "label" row would be read as
data), so it holds the column codes. The XLSX holds the same header on its
first sheet, and a help sheet ("Help" / "مساعدة") that describes each column in
English and Arabic: its labels (also accepted as headers), whether it is
required, its format, an example and the codes it accepts with their labels.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm import exports
from crm.imports.columns import Column
from crm.imports.kinds import Kind


def template_csv(kind: Kind) -> bytes:
    return (exports.BOM + ",".join(c.name for c in kind.columns) + "\r\n").encode("utf-8")


def _in(language: str, value: Any) -> str:
    with force_locale(language):
        return str(value)


def _codes(column: Column) -> str:
    if column.enum is None:
        return ""
    return "\n".join(
        f"{m.value} = {_in('en', m.label)} / {_in('ar', m.label)}" for m in column.enum
    )


def help_rows(kind: Kind) -> list[list[str]]:
    required = f"{_in('en', _l('Required'))} / {_in('ar', _l('Required'))}"
    rows = []
    for column in kind.columns:
        rows.append(
            [
                column.name,
                _in("en", column.label),
                _in("ar", column.label),
                required if column.required else "",
                _in("en", column.help),
                _in("ar", column.help),
                column.example,
                _codes(column),
            ]
        )
    return rows


def template_xlsx(kind: Kind, language: str) -> bytes:
    with force_locale(language):
        help_title = _("Help")
        header = [
            _("Column"),
            _("Name in English"),
            _("Name in Arabic"),
            _("Required"),
            _("Format (English)"),
            _("Format (Arabic)"),
            _("Example"),
            _("Accepted codes"),
        ]
    path = exports.temporary_path(".xlsx")
    try:
        exports.write_xlsx(
            path,
            sheet_title=kind.name,
            header=[c.name for c in kind.columns],
            rows=[],
            right_to_left=language == "ar",
            extra_sheets=[(help_title, header, help_rows(kind))],
        )
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
