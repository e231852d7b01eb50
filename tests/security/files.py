"""Downloading an export as a user would, and reading the file back."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.security import dom


def download(client: Any, url: str, fmt: str = "csv", purpose: str = "reporting") -> Any:
    """Open the export page at ``url``, choose the format and a purpose, and send
    the form. The response is the file (or the page again, when refused)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code, page.headers.get("Location"))
    form = dom.form_with(page.get_data(as_text=True), "format")
    fields = dom.as_multidict(form["fields"], format=fmt)
    if "purpose" in fields:
        fields.setlist("purpose", [purpose])
    return client.post(form["attrs"].get("action") or url, data=fields)


def csv_cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_cells(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def cells(response: Any) -> list[list[Any]]:
    content = response.get_data()
    kind = response.headers.get("Content-Type", "")
    return xlsx_cells(content) if "spreadsheet" in kind else csv_cells(content)
