"""Exports of the report, small-cell suppression, and one set of figures everywhere."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import date

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.reports import exports, services, texts
from crm.reports.counting import BREAKDOWNS, Period, outcome3
from crm.reports.exports import suppressed_cells

P = Period.year(2024)
TOTAL = "engagements.participants.total"
W, M, U = (f"engagements.participants.{n}" for n in ("women", "men", "unspecified"))
EQ = exports.EQUATIONS


def people(total=None, women=0, men=0, unspecified=0, under_18=0, unique=0):
    values = {W: women, M: men, U: unspecified}
    values[TOTAL] = sum(values.values()) if total is None else total
    values["engagements.participants.under_18"] = under_18
    values["engagements.unique_people"] = unique
    return values


# --- suppression ----------------------------------------------------------------------


def test_counts_of_one_to_four_people_are_suppressed_zero_and_five_are_not():
    hidden = suppressed_cells(people(women=4, men=5, unspecified=0, under_18=1, unique=5), EQ, 4)
    assert "engagements.participants.under_18" in hidden
    assert W in hidden
    assert "engagements.unique_people" not in hidden
    assert U not in hidden  # zero reveals nobody


def test_a_total_does_not_give_a_suppressed_cell_away():
    # women 3 is hidden; with total 45 and men 40 shown, 45 − 40 − 2 = 3 would be
    # known, so the smallest other part (unspecified, 2) is hidden as well.
    values = people(women=3, men=40, unspecified=2)
    hidden = suppressed_cells(values, EQ, 4)
    assert {W, U} <= hidden
    assert TOTAL not in hidden and M not in hidden
    # With only one part left to hide, the next smallest is taken.
    values = people(women=3, men=40, unspecified=12)
    assert suppressed_cells(values, EQ, 4) & {W, M, U, TOTAL} == {W, U}


def test_no_equation_is_left_with_a_single_suppressed_cell():
    for women, men, unspecified in [
        (1, 0, 0),
        (2, 7, 0),
        (9, 9, 3),
        (0, 0, 0),
        (4, 4, 4),
        (1, 100, 6),
    ]:
        values = people(women=women, men=men, unspecified=unspecified)
        hidden = suppressed_cells(values, EQ, 4)
        members = [TOTAL, W, M, U]
        assert sum(m in hidden for m in members) != 1, values
        assert all(m in hidden for m in members if 1 <= values[m] <= 4)


def test_the_threshold_is_a_setting(app, o3):
    values = people(women=6, men=20)
    assert W in suppressed_cells(values, EQ, 9)
    assert not suppressed_cells(values, EQ, 4) & {W, M}
    assert exports.default_below() == 5  # CRM_SUPPRESS_BELOW: 1 to 4 suppressed
    o3.engagement(women=6, men=20)
    app.config["SUPPRESS_BELOW"] = 10
    try:
        assert exports.default_below() == 10
        shown = services.channel_report(P).as_json()
        assert shown["engagements"]["participants"]["women"] is None
        assert shown["suppression"] == {"below": 10}
        app.config["SUPPRESS_BELOW"] = 0  # nothing suppressed
        assert services.channel_report(P).as_json()["suppressed"] == []
    finally:
        app.config["SUPPRESS_BELOW"] = 5


def test_the_setting_comes_from_the_environment(monkeypatch, tmp_path):
    from crm import create_app

    monkeypatch.setenv("CRM_SUPPRESS_BELOW", "11")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "x" * 40,
            "DATA_KEY": "k",
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    assert app.config["SUPPRESS_BELOW"] == 11


def test_suppress_marks_the_report_and_keeps_the_shape(o3):
    o3.engagement(women=3, men=30, unspecified=1, under_18=2)
    published = exports.suppress(outcome3(P.start, P.end), 5)
    participants = published["engagements"]["participants"]
    assert participants["women"] is None and participants["unspecified"] is None
    assert participants["under_18"] is None
    assert participants["men"] == 30 and participants["total"] == 34
    assert published["suppressed"] == [W, U, "engagements.participants.under_18"]
    assert published["suppression"] == {"below": 5}
    assert published["engagements"]["held_in_period"] == 1  # events are not people


# --- cells -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_are_neutralised(text):
    assert exports.neutralise(text) == "'" + text
    assert exports.neutralise("plain") == "plain"
    assert exports.neutralise(5) == 5


def test_csv_and_xlsx_neutralise_what_they_write(app, o3, monkeypatch):
    o3.engagement()
    monkeypatch.setitem(texts.FIGURE_LABELS, "engagements.held_in_period", '=HYPERLINK("x")')
    report = outcome3(P.start, P.end)
    with force_locale("en"):
        csv_content, xlsx_content = exports.to_csv(report), exports.to_xlsx(report)
    rows = list(csv.reader(io.StringIO(csv_content.decode("utf-8-sig"))))
    assert ["engagements.held_in_period", "", '\'=HYPERLINK("x")', "1"] in rows
    workbook = load_workbook(io.BytesIO(xlsx_content))
    values = [c.value for row in workbook.worksheets[0].iter_rows() for c in row]
    assert '\'=HYPERLINK("x")' in values
    assert '=HYPERLINK("x")' not in values


# --- formats -------------------------------------------------------------------------


def flatten(report):
    """{figure key: value} of every number in a report."""
    out = {}
    for section in ("cooperation_frameworks", "engagements"):
        for name, value in report[section].items():
            if isinstance(value, dict):
                for code, n in value.items():
                    out[f"{section}.{name}.{code}"] = n
            elif name != "headline_rule":
                out[f"{section}.{name}"] = value
    return out


def from_csv(content: bytes):
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    out = {}
    for figure, code, _label, value in rows[1:]:
        if figure in ("period", "note") or figure.endswith("headline_rule"):
            continue
        out[f"{figure}.{code}" if code else figure] = int(value)
    return rows[0], out


def from_xlsx(content: bytes):
    workbook = load_workbook(io.BytesIO(content))
    summary, *rest = workbook.worksheets
    out = {}
    for figure, code, _label, value in summary.iter_rows(min_row=2, values_only=True):
        if not figure or figure in ("period",) or str(figure).endswith("headline_rule"):
            continue
        if value is None:  # the notes below the table
            continue
        out[f"{figure}.{code}" if code else figure] = int(value)
    for sheet, breakdown in zip(rest, BREAKDOWNS, strict=True):
        for code, _label, n in sheet.iter_rows(min_row=2, values_only=True):
            out[f"{breakdown.key}.{code}"] = n
    return workbook, out


def from_page(html: str):
    pairs = re.findall(r'data-figure="([^"]+)" data-value="([^"]*)"', html)
    return {key: int(value) for key, value in pairs}


@pytest.fixture
def history(o3):
    """A small history with every kind of breakdown value."""
    cso, state, ngo = o3.partner("syrian_cso"), o3.partner("state"), o3.partner("international_ngo")
    o3.framework(date(2019, 3, 1), partners=[cso, state], instrument="protocol")
    o3.framework(date(2024, 7, 1), partners=[ngo], expires_on=date(2024, 12, 1), status="expired")
    o3.framework(date(2024, 12, 31), partners=[state])
    o3.engagement(
        date(2024, 1, 1),
        women=12,
        men=9,
        unspecified=2,
        under_18=3,
        country="TR",
        victim_groups=("missing_disappeared", "sgbv"),
        type="focus_group",
    )
    o3.engagement(
        date(2024, 6, 6),
        women=40,
        men=31,
        format="online",
        country="DE",
        victim_groups=("detention_torture",),
    )
    o3.engagement(
        date(2024, 12, 31),
        women=5,
        men=6,
        format="hybrid",
        country="LB",
        type="workshop",
        people=[o3.person(), o3.person()],
    )
    return outcome3(P.start, P.end)


def test_xlsx_has_one_sheet_per_breakdown_right_to_left_in_arabic(history):
    with force_locale("ar"):
        content = exports.to_xlsx(history)
    workbook = load_workbook(io.BytesIO(content))
    assert len(workbook.worksheets) == 1 + len(BREAKDOWNS)
    assert all(ws.sheet_view.rightToLeft for ws in workbook.worksheets)
    header = [c.value for c in workbook.worksheets[1][1]]
    with force_locale("ar"):
        assert header == [str(exports._("Code")), str(exports._("Label")), str(exports._("Count"))]
    with force_locale("en"):
        english = load_workbook(io.BytesIO(exports.to_xlsx(history)))
    assert not any(ws.sheet_view.rightToLeft for ws in english.worksheets)
    assert [c.value for c in english.worksheets[1][1]] == ["Code", "Label", "Count"]


def test_csv_headers_follow_the_language(history):
    with force_locale("en"):
        rows = list(csv.reader(io.StringIO(exports.to_csv(history).decode("utf-8-sig"))))
    assert rows[0] == ["Figure", "Code", "Label", "Count"]
    with force_locale("ar"):
        content = exports.to_csv(history).decode("utf-8-sig")
    assert "Figure" not in content.splitlines()[0]


def test_files_suppress_small_counts(history):
    exported = services.export_report(P, "csv", actor=None, language="en")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    by_key = {(r[0], r[1]): r[3] for r in rows[1:]}
    assert by_key[("engagements.participants", "unspecified")] == "•"
    assert by_key[("engagements.participants", "under_18")] == "•"
    assert by_key[("engagements.unique_people", "")] == "•"
    # unspecified (2) is hidden, so the smallest other part goes too: the total
    # (57 + 46 + 2 = 105) stays, and no single hidden cell can be worked out.
    assert by_key[("engagements.participants", "men")] == "•"
    assert by_key[("engagements.participants", "total")] == "105"
    assert any(r[0] == "note" and "Not shown: a count of 1 to 4 people" in r[2] for r in rows)
    data = json.loads(services.export_report(P, "json", actor=None, language="en").content)
    assert data["engagements"]["participants"]["unspecified"] is None
    assert data["engagements"]["participants"]["men"] is None


def test_every_export_is_in_the_audit_trail(history, make_user):
    user = make_user(role="reporting")
    exported = services.export_report(P, "json", actor=user, language="ar")
    entry = (
        db.session.query(AuditEntry)
        .filter_by(action="report.export")
        .order_by(AuditEntry.id.desc())
        .first()
    )
    assert entry.actor_id == user.id
    details = json.loads(entry.details)
    assert details["sha256"] == hashlib.sha256(exported.content).hexdigest()
    assert details["filter"]["from"] == "2024-01-01"
    assert details["language"] == "ar"
    assert details["suppressed"] == json.loads(exported.content)["suppressed"] != []


def test_a_viewer_may_not_export(make_user):
    from crm.errors import PermissionDenied

    with force_locale("en"), pytest.raises(PermissionDenied):
        services.export_report(P, "csv", actor=make_user(role="viewer"), language="en")


def test_download_from_the_report_page(history, client, login_as):
    login_as("reporting")
    response = client.post(
        "/reports/export",
        data={
            "format": "xlsx",
            "language": "ar",
            "start": "2024-01-01",
            "end": "2024-12-31",
        },
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "outcome3_2024-01-01_2024-12-31_ar.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.worksheets[0].sheet_view.rightToLeft
    assert workbook.properties.creator.startswith("reporting")  # who made it
    login_as("viewer")
    refused = client.post(
        "/reports/export",
        data={"format": "csv", "language": "en", "start": "2024-01-01", "end": "2024-12-31"},
    )
    assert refused.status_code == 403
