"""Reading import files: encodings, delimiters, XLSX, and files that must be refused."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date, datetime

import pytest
from flask_babel import force_locale

from crm.imports.readers import FileProblem, detect_encoding, open_table
from tests.fixtures.imports import csv_bytes, xlsx_bytes

HEADER = ["ref", "name_ar", "name_en", "type"]
ROWS = [
    ["P-1", "رابطة عائلات قيصر", "Caesar Families Association", "victims_association"],
    ["P-2", "منظمة النساء الآن", "Women Now", "syrian_cso"],
]


def read(path, **kwargs):
    with open_table(path, known_columns=HEADER, **kwargs) as table:
        return table, list(table.rows)


def problem(path, language="en"):
    with pytest.raises(FileProblem) as caught:
        read(path)
    with force_locale(language):
        return str(caught.value.message)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", False),
        ("utf-8", True),
        ("utf-16-le", True),
        ("utf-16-be", True),
        ("utf-16-le", False),
    ],
)
def test_unicode_files_read_the_same_whatever_the_encoding(app, tmp_path, encoding, bom):
    path = tmp_path / "partners.csv"
    path.write_bytes(csv_bytes(HEADER, ROWS, encoding=encoding, bom=bom))
    table, rows = read(path)
    assert table.format == "csv"
    assert table.header == HEADER
    assert rows == [(2, ROWS[0]), (3, ROWS[1])]


def test_windows_arabic_encoding_is_recognised_and_read(app, tmp_path):
    path = tmp_path / "excel-arabic-windows.csv"
    path.write_bytes(csv_bytes(HEADER, ROWS, encoding="cp1256"))
    table, rows = read(path)
    assert table.encoding == "cp1256"
    assert rows[0][1][1] == "رابطة عائلات قيصر"
    with force_locale("en"):
        assert "Windows-1256" in str(table.notes[0])


def test_a_file_in_another_legacy_encoding_is_refused_with_a_clear_message(app, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(
        csv_bytes(HEADER, [["P-1", "", "Société générale", "other"]], encoding="latin-1")
    )
    assert "CSV UTF-8" in problem(path)
    assert "UTF-8" in problem(path, "ar")
    assert "احفظ" in problem(path, "ar")


def test_invalid_utf8_after_the_start_is_refused_naming_the_row(app, tmp_path):
    good = csv_bytes(HEADER, [[f"P-{i}", "", "Name", "other"] for i in range(5000)])
    path = tmp_path / "broken.csv"
    path.write_bytes(good + b"P-x,\xff\xfe\xfa,Bad,other\r\n")
    with pytest.raises(FileProblem) as caught:
        read(path)
    with force_locale("en"):
        assert "Row 5002 " in str(caught.value.message)


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_excel_delimiters_are_recognised_from_the_header(app, tmp_path, delimiter):
    path = tmp_path / "partners.csv"
    rows = [["P-1", "اسم؛ آخر", "Name, with comma", "other"]]
    path.write_bytes(csv_bytes(HEADER, rows, delimiter=delimiter))
    table, read_rows = read(path)
    assert table.header == HEADER
    assert read_rows == [(2, rows[0])]


def test_blank_lines_are_skipped_and_rows_keep_their_spreadsheet_numbers(app, tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_bytes(b'ref,name_en\r\nP-1,"Two\r\nlines"\r\n,\r\n\r\nP-2,Next\r\n')
    _table, rows = read(path)
    assert rows == [(2, ["P-1", "Two\r\nlines"]), (5, ["P-2", "Next"])]


def test_detect_encoding_never_guesses_on_binary_data(app):
    with pytest.raises(FileProblem):
        detect_encoding(b"ref,name\x00\x01\x02\x03\x00\x00\x00\x00\x05\x06\x07\x08\x09")


# --- XLSX --------------------------------------------------------------------------


def test_xlsx_cells_read_as_the_text_a_csv_would_hold(app, tmp_path):
    path = tmp_path / "partners.xlsx"
    path.write_bytes(
        xlsx_bytes(
            ["ref", "signed_on", "women", "confidential", "name_ar"],
            [
                ["F-1", date(2024, 3, 1), 12.0, True, "مذكرة"],
                ["F-2", datetime(2024, 3, 2), 3, False, None],
            ],
            title="Frameworks",
            extra_sheets=["Help"],
        )
    )
    table, rows = read(path)
    assert table.format == "xlsx"
    assert table.sheet == "Frameworks"
    assert rows == [
        (2, ["F-1", "2024-03-01", "12", "yes", "مذكرة"]),
        (3, ["F-2", "2024-03-02", "3", "no", ""]),
    ]


def test_xlsx_sheet_named_after_the_kind_is_preferred(app, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Help"
    book.active.append(["column", "meaning"])
    book.create_sheet("notes").append(["x"])
    data = book.create_sheet("engagements")
    data.append(["ref"])
    data.append(["E-1"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    with open_table(path, sheet_names=("engagements",)) as table:
        assert table.sheet == "engagements"
        assert list(table.rows) == [(2, ["E-1"])]


def _zip(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(app, tmp_path, monkeypatch):
    path = tmp_path / "bomb.xlsx"
    _zip(
        path,
        {"xl/workbook.xml": "<workbook/>", "xl/worksheets/sheet1.xml": b"0" * (30 * 1024 * 1024)},
    )
    opened = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: opened.append(a))
    assert "zip bomb" in problem(path)
    assert opened == []


def test_a_workbook_too_large_once_unpacked_is_refused(app, tmp_path):
    path = tmp_path / "large.xlsx"
    noise = os.urandom(2 * 1024 * 1024)  # does not compress: no zip bomb, only large
    _zip(path, {"xl/workbook.xml": "<workbook/>", "xl/worksheets/sheet1.xml": noise})
    app.config["IMPORT_MAX_UNPACKED_MB"] = 1
    try:
        assert "too large once unpacked" in problem(path)
    finally:
        del app.config["IMPORT_MAX_UNPACKED_MB"]


def test_an_oversize_file_is_refused_before_it_is_read(app, tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"ref\r\n" + b"P-1\r\n" * 300_000)
    app.config["IMPORT_MAX_FILE_MB"] = 1
    try:
        assert "larger than 1 MB" in problem(path)
    finally:
        del app.config["IMPORT_MAX_FILE_MB"]


def test_xml_entity_expansion_is_refused_by_defusedxml(app, tmp_path):
    """The "billion laughs": openpyxl parses through defusedxml, which refuses
    entity declarations, so the workbook is reported damaged instead of eating
    memory."""
    source = io.BytesIO(xlsx_bytes(HEADER, ROWS))
    path = tmp_path / "laughs.xlsx"
    laughs = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as target:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/workbook.xml":
                if data.startswith(b"<?xml"):
                    declaration, rest = data.split(b"?>", 1)
                    data = declaration + b"?>" + laughs.encode() + rest
                else:
                    data = laughs.encode() + data
            target.writestr(item, data)
    assert "damaged" in problem(path)


def test_openpyxl_reads_through_defusedxml(app, monkeypatch):
    import openpyxl
    from openpyxl.xml import functions

    from crm.imports.readers import ensure_safe_xml_parser

    assert openpyxl.DEFUSEDXML is True
    assert functions.iterparse.__module__.startswith("defusedxml")
    ensure_safe_xml_parser()
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(FileProblem):
        ensure_safe_xml_parser()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"%PDF-1.7\n" + b"x" * 50, "neither a CSV nor an XLSX"),
        (b"", "empty"),
        (b"PK\x03\x04 not really a zip", "damaged"),
    ],
)
def test_files_that_are_not_tables_are_refused(app, tmp_path, content, words):
    path = tmp_path / "partners.csv"
    path.write_bytes(content)
    assert words in problem(path)


def test_a_zip_that_is_not_a_workbook_is_refused(app, tmp_path):
    path = tmp_path / "archive.xlsx"
    _zip(path, {"readme.txt": "hello"})
    assert "not an XLSX workbook" in problem(path)
