"""Reading an import file as a stream of rows: CSV in any of the encodings people
actually send, and XLSX checked for zip bombs before anything is unpacked.

A file is opened with :func:`open_table`; it yields a :class:`Table` whose ``rows``
iterator reads the file lazily, one row at a time, so memory does not grow with
the file. Every cell comes out as text (``""`` when empty): dates of an XLSX file
as ``YYYY-MM-DD``, whole numbers without a decimal point, booleans as ``yes``/``no``,
so that a CSV and an XLSX of the same data read the same.

Row numbers are those a spreadsheet shows: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

# Sizes, unless the app's settings say otherwise (IMPORT_MAX_FILE_MB, ...).
DEFAULT_MAX_FILE_MB = 200
# A workbook's parts once unpacked; 100,000 engagement rows are about 60 MB.
DEFAULT_MAX_UNPACKED_MB = 600
# Real workbooks compress 5 to 30 times; a zip bomb thousands of times.
DEFAULT_MAX_RATIO = 150
MAX_ZIP_MEMBERS = 2000
SAMPLE_BYTES = 64 * 1024

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and other old Office files
_UNDECODABLE = re.compile("[\udc80-\udcff]")
# Sheets of our own templates and exports that hold no rows.
NON_DATA_SHEETS = {"help", "مساعدة", "about", "بشأن", "حول الملف", "حول"}


class FileProblem(Exception):
    """The file as a whole cannot be read; ``message`` says why in the reader's
    language (a lazy string)."""

    def __init__(self, message: Any):
        self.message = message
        super().__init__("import problem")


@dataclass
class Table:
    """A file opened for reading: its format, header and a lazy row iterator."""

    format: str  # "csv" or "xlsx"
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str | None = None  # CSV only
    sheet: str | None = None  # XLSX only
    notes: list[Any] = field(default_factory=list)  # e.g. "read as Windows-1256"


def _setting(name: str, default: int) -> int:
    if has_app_context():
        return int(current_app.config.get(name, default))
    return default


# --- detection -------------------------------------------------------------------


def sniff_format(head: bytes) -> str:
    """``"xlsx"`` or ``"csv"`` from the first bytes, never from the file name."""
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        raise FileProblem(
            _l("This is an old Excel file (.xls). Save it as .xlsx or as CSV UTF-8 and try again.")
        )
    if head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")):
        raise FileProblem(_l("This file is neither a CSV nor an XLSX file."))
    return "csv"


def _looks_like_utf16(sample: bytes) -> str | None:
    """UTF-16 without a byte order mark: ASCII-range text has a zero in every
    other byte."""
    if len(sample) < 4:
        return None
    even = sample[0::2]
    odd = sample[1::2]
    if odd.count(0) > len(odd) * 0.3 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.3 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def _is_arabic_letter(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" and unicodedata.category(ch).startswith("L")


def _looks_like_windows_1256(sample: bytes) -> bool:
    """Text that is not UTF-8 but reads as Arabic in Windows-1256 (what Excel on an
    Arabic Windows saves as "CSV"): nearly every non-ASCII character is then an
    Arabic letter or Arabic punctuation."""
    try:
        decoded = sample.decode("cp1256")
    except UnicodeDecodeError:
        return False
    non_ascii = [ch for ch in decoded if ord(ch) > 127]
    if not non_ascii:
        return False
    arabic = sum(1 for ch in non_ascii if _is_arabic_letter(ch) or ch in "،؛؟\u200c\u200d")
    return arabic >= 0.9 * len(non_ascii)


def detect_encoding(sample: bytes) -> tuple[str, Any | None]:
    """The encoding of a CSV file from its first bytes, and a note when it is not
    UTF-8. Raises :class:`FileProblem` when the text cannot be read safely."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", _l("The file is in UTF-16; it was read as such.")
    utf16 = _looks_like_utf16(sample)
    if utf16:
        return utf16, _l("The file is in UTF-16; it was read as such.")
    if b"\x00" in sample:
        raise FileProblem(_l("This file is not text: it is neither a CSV nor an XLSX file."))
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the end is fine
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", None
    if _looks_like_windows_1256(sample):
        return "cp1256", _l(
            "The file is in the Windows Arabic encoding (Windows-1256); it was read as such."
        )
    raise FileProblem(
        _l(
            "The file is not in UTF-8 and its encoding could not be recognised. "
            'In Excel, save it as "CSV UTF-8 (comma delimited)" and try again.'
        )
    )


def _pick_delimiter(first_line: str, known: Sequence[str]) -> str:
    """The delimiter that splits the header into the most known column names (Excel
    in some languages writes ``;`` or a tab instead of a comma)."""
    wanted = {k.strip().casefold() for k in known}
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        score = sum(1 for c in cells if c.strip().casefold() in wanted)
        if score > best_score or (score == best_score and len(cells) > 1 and best_score <= 0):
            best, best_score = delimiter, score
    return best


# --- CSV ---------------------------------------------------------------------------


def _encoding_name(encoding: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1256": "Windows-1256"}.get(
        encoding, encoding.upper()
    )


@contextmanager
def _open_csv(path: Path, known: Sequence[str]) -> Iterator[Table]:
    with path.open("rb") as raw:
        sample = raw.read(SAMPLE_BYTES)
    encoding, note = detect_encoding(sample)
    # Undecodable bytes become lone surrogates, so the row holding them can be named.
    handle = path.open("r", encoding=encoding, errors="surrogateescape", newline="")
    try:
        first_line = handle.readline()
        delimiter = _pick_delimiter(first_line, known)
        handle.seek(0)  # the data rows are read from the start, header skipped
        reader = csv.reader(io.StringIO(first_line), delimiter=delimiter)
        header = next(reader, [])
        header = [h.lstrip("\ufeff") for h in header]
        rows = _csv_data_rows(handle, delimiter, encoding)
        yield Table(
            format="csv",
            header=header,
            rows=rows,
            encoding=encoding,
            notes=[note] if note is not None else [],
        )
    finally:
        handle.close()


def _csv_data_rows(
    handle: IO[str], delimiter: str, encoding: str
) -> Iterator[tuple[int, list[str]]]:
    """Data rows numbered as a spreadsheet would (the header is row 1)."""
    reader = csv.reader(handle, delimiter=delimiter, strict=False)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileProblem(
                _l("Row %(row)s cannot be read as CSV (a quote is not closed?).", row=number + 1)
            ) from exc
        number += 1
        if any(_UNDECODABLE.search(c) for c in cells):
            raise FileProblem(
                _l(
                    "Row %(row)s is not valid %(encoding)s text. "
                    'Save the file as "CSV UTF-8" and try again.',
                    encoding=_encoding_name(encoding),
                    row=number,
                )
            )
        if number == 1:
            continue  # the header, read separately
        if not any(c.strip() for c in cells):
            continue
        yield number, cells


# --- XLSX --------------------------------------------------------------------------


def check_zip(path: Path) -> None:
    """Refuse a workbook that would unpack to too much, or compresses suspiciously
    well (a zip bomb), before any part of it is decompressed."""
    max_unpacked = _setting("IMPORT_MAX_UNPACKED_MB", DEFAULT_MAX_UNPACKED_MB) * 1024 * 1024
    max_ratio = _setting("IMPORT_MAX_RATIO", DEFAULT_MAX_RATIO)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileProblem(_l("This XLSX file is damaged and cannot be opened.")) from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise FileProblem(_l("This XLSX file has too many parts to be a workbook."))
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names:
        raise FileProblem(_l("This file is a zip archive but not an XLSX workbook."))
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise FileProblem(_l("This XLSX file is encrypted. Remove the password and try again."))
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > max_ratio:
            raise FileProblem(
                _l(
                    "This XLSX file unpacks to far more than its size (a zip bomb?); "
                    "it was refused."
                )
            )
    if total > max_unpacked:
        raise FileProblem(
            _l(
                "This XLSX file is too large once unpacked (more than %(size)s MB). "
                "Split it, or save it as CSV.",
                size=max_unpacked // (1024 * 1024),
            )
        )


def ensure_safe_xml_parser() -> None:
    """openpyxl must parse with defusedxml (no entity expansion, no external
    entities); refuse XLSX altogether otherwise."""
    import openpyxl
    from openpyxl.xml import functions

    if not openpyxl.DEFUSEDXML or not functions.iterparse.__module__.startswith("defusedxml"):
        raise FileProblem(
            _l("XLSX files cannot be read safely on this server (defusedxml is missing); use CSV.")
        )


def cell_text(value: Any) -> str:
    """One spreadsheet value as the text a CSV of the same data would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def _pick_sheet(workbook: Any, preferred: Sequence[str]) -> Any:
    wanted = [p.casefold() for p in preferred]
    for name in workbook.sheetnames:
        if name.strip().casefold() in wanted:
            return workbook[name]
    for name in workbook.sheetnames:
        if name.strip().casefold() not in NON_DATA_SHEETS:
            return workbook[name]
    raise FileProblem(_l("The workbook has no sheet with data."))


def _xlsx_rows(sheet: Any) -> Iterator[tuple[int, list[str]]]:
    for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        cells = [cell_text(v) for v in values]
        if not any(c.strip() for c in cells):
            continue
        yield number, cells


@contextmanager
def _open_xlsx(path: Path, sheet_names: Sequence[str]) -> Iterator[Table]:
    ensure_safe_xml_parser()
    check_zip(path)
    from openpyxl import load_workbook

    # Opened as a file, not by name: openpyxl refuses a name without an .xlsx
    # extension, and an upload is stored as "upload" (the content tells the type).
    raw = path.open("rb")
    try:
        workbook = load_workbook(raw, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raw.close()
        raise FileProblem(_l("This XLSX file is damaged and cannot be opened.")) from exc
    try:
        sheet = _pick_sheet(workbook, sheet_names)
        first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        header = [cell_text(v) for v in first]
        while header and not header[-1].strip():
            header.pop()
        yield Table(format="xlsx", header=header, rows=_xlsx_rows(sheet), sheet=sheet.title)
    finally:
        workbook.close()
        raw.close()


# --- the entry point ---------------------------------------------------------------


@contextmanager
def open_table(
    path: str | Path, *, known_columns: Sequence[str] = (), sheet_names: Sequence[str] = ()
) -> Iterator[Table]:
    """Open an import file (CSV or XLSX, told apart by content) for reading.

    ``known_columns`` helps to recognise the CSV delimiter; ``sheet_names`` are the
    XLSX sheets to prefer (else the first sheet that is not a help sheet).
    """
    path = Path(path)
    max_file = _setting("IMPORT_MAX_FILE_MB", DEFAULT_MAX_FILE_MB) * 1024 * 1024
    try:
        size = path.stat().st_size
        with path.open("rb") as raw:
            head = raw.read(8)
    except OSError as exc:
        raise FileProblem(_l("The file cannot be read.")) from exc
    if size == 0:
        raise FileProblem(_l("The file is empty."))
    if size > max_file:
        raise FileProblem(
            _l(
                "The file is larger than %(size)s MB. Split it into smaller files.",
                size=max_file // (1024 * 1024),
            )
        )
    kind = sniff_format(head)
    opener = _open_xlsx(path, sheet_names) if kind == "xlsx" else _open_csv(path, known_columns)
    with opener as table:
        if not any(h.strip() for h in table.header):
            raise FileProblem(_l("The first row must name the columns; it is empty."))
        yield table
