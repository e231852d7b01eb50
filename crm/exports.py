"""Streaming CSV and XLSX files for exports: what every list's "Export" uses.

- CSV: UTF-8 with a byte order mark (Excel then reads Arabic right), produced
  by a generator a chunk at a time, so a million rows never sit in memory; the
  SHA-256 and the row count are computed as the bytes go out, and handed to a
  callback once the last byte is written (the audit row is written then).
- XLSX: openpyxl in write-only mode into a temporary file (rows are streamed to
  disk, not kept in memory), then sent in chunks and deleted. The workbook says
  who made it and when, twice: in its document properties and in an "About"
  sheet that also names the list, its filter, the purpose and the row count.
  Sheets are right to left in Arabic.
- CSV carries no such line (a comment line would not be CSV and would break
  re-import); its file name says when and by whom (the user id), and the audit
  trail holds the file's SHA-256, so any CSV can be traced to its export.

Every text cell goes through :func:`crm.imports.columns.neutralise`: a cell that
starts with ``= + - @``, a tab or a carriage return gets a leading apostrophe, so
no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from crm.imports.columns import neutralise

CHUNK_BYTES = 64 * 1024
BOM = "\ufeff"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
# XML 1.0 cannot hold these; openpyxl refuses them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell_value(value: Any) -> Any:
    """A value as the writers put it in a cell: text neutralised, dates kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | date | datetime):
        return value
    return neutralise(str(value))


def _csv_text(value: Any) -> str:
    value = cell_value(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- CSV ---------------------------------------------------------------------------


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    on_done: Callable[[int, str], None] | None = None,
) -> Iterator[bytes]:
    """The CSV file as byte chunks: BOM, header, rows. ``on_done(rows, sha256)``
    runs after the last chunk (not when the reader stops early)."""
    digest = hashlib.sha256()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([_csv_text(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        count += 1
        if buffer.tell() >= CHUNK_BYTES:
            chunk = buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            digest.update(chunk)
            yield chunk
    chunk = buffer.getvalue().encode("utf-8")
    digest.update(chunk)
    yield chunk
    if on_done is not None:
        on_done(count, digest.hexdigest())


# --- XLSX --------------------------------------------------------------------------


def _xlsx_text(value: str) -> str:
    return _XML_ILLEGAL.sub("\ufffd", value)


def write_xlsx(
    path: str | Path,
    *,
    sheet_title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    right_to_left: bool = False,
    about: Sequence[tuple[str, Any]] = (),
    about_title: str = "About",
    properties: dict[str, Any] | None = None,
    extra_sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]] = (),
    about_rows: Callable[[int], Sequence[tuple[str, Any]]] | None = None,
) -> int:
    """Write a workbook to ``path`` in write-only mode; return the number of data
    rows. ``about`` (or ``about_rows(count)``, called once the rows are written)
    fills the "About" sheet; ``properties`` sets the document properties
    (creator, title, description...)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def header_cells(sheet: Any, names: Sequence[str]) -> list[Any]:
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=_xlsx_text(str(name)))
            cell.font = bold
            cells.append(cell)
        return cells

    def data_cells(sheet: Any, row: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for value in row:
            value = cell_value(value)
            if isinstance(value, datetime | date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = (
                    "yyyy-mm-dd" if not isinstance(value, datetime) else "yyyy-mm-dd hh:mm"
                )
                out.append(cell)
            elif isinstance(value, str):
                out.append(_xlsx_text(value))
            else:
                out.append(value)
        return out

    def new_sheet(title: str) -> Any:
        sheet = workbook.create_sheet(title=_sheet_title(title))
        if right_to_left:
            sheet.sheet_view.rightToLeft = True
        return sheet

    sheet = new_sheet(sheet_title)
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, header))
    count = 0
    for row in rows:
        sheet.append(data_cells(sheet, row))
        count += 1
    for title, names, extra in extra_sheets:
        other = new_sheet(title)
        other.append(header_cells(other, names))
        for row in extra:
            other.append(data_cells(other, row))
    about = list(about) + list(about_rows(count) if about_rows else [])
    if about:
        info = new_sheet(about_title)
        for label, value in about:
            info.append(
                [WriteOnlyCell(info, value=_xlsx_text(str(label))), *data_cells(info, [value])]
            )
        info.column_dimensions["A"].width = 28
        info.column_dimensions["B"].width = 80
    for key, value in (properties or {}).items():
        setattr(workbook.properties, key, value)
    workbook.save(str(path))
    return count


def _sheet_title(title: str) -> str:
    """A valid sheet name: no []:*?/\\ and at most 31 characters."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Sheet"
    return cleaned[:31]


def temporary_path(suffix: str) -> Path:
    """A new, private temporary file (mode 0600) for a workbook being written."""
    handle, name = tempfile.mkstemp(prefix="crm-export-", suffix=suffix)
    os.close(handle)
    return Path(name)


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def file_chunks(path: str | Path, *, delete: bool = True) -> Iterator[bytes]:
    """The file's bytes in chunks; the file is deleted at the end, or when the
    reader goes away early."""
    try:
        with open(path, "rb") as handle:
            yield from iter(lambda: handle.read(CHUNK_BYTES), b"")
    finally:
        if delete:
            Path(path).unlink(missing_ok=True)


# --- file names --------------------------------------------------------------------


def safe_filename(name: str) -> str:
    """A download name without paths, controls or direction characters, in ASCII
    letters, digits, dots, dashes and underscores."""
    name = unicodedata.normalize("NFKD", name)
    name = "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch in "._-"))
    name = name.lstrip(".")
    return name[:150] or "export"


def content_disposition(filename: str) -> str:
    return f'attachment; filename="{safe_filename(filename)}"'
