"""List exports: what the list shows, in the reader's language, streamed, audited."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.auth.models import UserSession
from crm.codes import Role
from crm.db import utcnow


def exported(client, name, query="", **form):
    data = {"format": "csv", "purpose": "", **form}
    return client.post(f"/exports/{name}{query}", data=data)


def csv_rows(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def audit(db, action):
    return [
        json.loads(e.details)
        for e in db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars()
    ]


def make_stale(db, user):
    """The user's session confirmed its password long ago."""
    session = db.session.execute(
        select(UserSession).where(UserSession.user_id == user.id)
    ).scalar_one()
    session.reauthenticated_at = utcnow() - timedelta(hours=1)
    db.session.commit()


def test_a_partner_list_exports_what_it_shows_as_csv(db, client, login_as, make_partner):
    make_partner(ref="P-X1", name_en='=HYPERLINK("http://evil")', type="media")
    make_partner(ref="P-X2", name_en="Women Now", type="syrian_cso")
    user = login_as(Role.OUTREACH)
    response = exported(client, "partners", "?type=media")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith('attachment; filename="partners_')
    assert f"_u{user.id}.csv" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:4] == ["Reference", "Name (Latin script)", "Name (Arabic)", "Acronym"]
    assert len(rows) == 2
    assert rows[1][0] == "P-X1"
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'  # neutralised
    assert rows[1][4] == "Media"
    done = audit(db, "export")[0]
    assert done["rows"] == 1
    assert done["sha256"] == hashlib.sha256(response.get_data()).hexdigest()
    assert done["filters"] == {"type": ["media"]}
    assert audit(db, "export.start")[0]["list"] == "partners"


def test_search_words_are_kept_only_as_a_hash_in_the_trail(db, client, login_as, make_partner):
    make_partner(name_en="Layla Haddad Foundation")
    login_as(Role.OUTREACH)
    exported(client, "partners", "?q=Layla").get_data()
    entry = audit(db, "export")[0]
    assert "Layla" not in json.dumps(entry)
    assert entry["filters"]["q"]["sha256"]


def test_xlsx_says_who_made_it_and_when(db, client, login_as, make_partner):
    make_partner(ref="P-X1", name_en="Women Now", type="media")
    user = login_as(Role.OUTREACH, name="Rana Outreach")
    response = exported(client, "partners", format="xlsx", purpose="reporting")
    assert response.status_code == 200
    data = response.get_data()
    book = load_workbook(io.BytesIO(data))
    assert book.properties.creator == f"Rana Outreach <{user.email}>"
    assert book.sheetnames == ["Partners", "About"]
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True)}
    assert about["Exported by"] == f"Rana Outreach <{user.email}>"
    assert about["Rows"] == 1
    assert about["Purpose"] == "Reporting (annual report, donors)"
    assert list(book["Partners"].iter_rows(values_only=True))[1][0] == "P-X1"
    entry = audit(db, "export")[0]
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["purpose"] == "reporting" and entry["rows"] == 1


def test_an_arabic_export_has_arabic_headers_labels_and_right_to_left_sheets(
    db, client, login_as, make_partner
):
    make_partner(ref="P-X1", name_ar="رابطة", type="media", women_led=True)
    login_as(Role.OUTREACH, locale="ar")
    client.set_language("ar")
    book = load_workbook(io.BytesIO(exported(client, "partners", format="xlsx").get_data()))
    sheet = book.worksheets[0]
    assert sheet.sheet_view.rightToLeft is True
    header, row = list(sheet.iter_rows(values_only=True))[:2]
    assert header[0] == "المرجع"
    assert row[7] == "نعم"


@pytest.mark.parametrize("role", [Role.VIEWER])
def test_roles_without_the_export_permission_are_refused(client, login_as, role):
    login_as(role)
    assert client.get("/exports/partners").status_code == 403
    assert exported(client, "partners").status_code == 403


def test_an_unknown_list_is_not_found(client, login_as):
    login_as(Role.OUTREACH)
    assert client.get("/exports/people").status_code == 404


def test_confidential_records_need_a_purpose_and_a_fresh_password(
    db, client, login_as, make_partner
):
    make_partner(ref="P-SECRET", name_en="Hidden", confidential=True)
    user = login_as(Role.OUTREACH)
    form = client.get("/exports/partners")
    assert "confidential records" in form.text
    refused = exported(client, "partners")
    assert refused.status_code == 400
    assert "Say why this file is needed." in refused.text
    make_stale(db, user)
    again = exported(client, "partners", purpose="analysis")
    assert again.status_code == 302
    assert "/reauthenticate?next=" in again.headers["Location"]
    assert audit(db, "export") == []


def test_a_viewer_like_role_never_gets_confidential_rows(db, client, login_as, make_partner):
    make_partner(ref="P-OPEN", name_en="Open")
    make_partner(ref="P-SECRET", name_en="Hidden", confidential=True)
    # The reporting officer may export; the list they see decides the file.
    login_as(Role.REPORTING)
    rows = csv_rows(exported(client, "partners", purpose="analysis"))
    assert {r[0] for r in rows[1:]} == {"P-OPEN", "P-SECRET"}


def test_personal_data_needs_its_own_permission(db, client, login_as, make_partner, make_contact):
    partner = make_partner(ref="P-C")
    make_contact(partner, name_en="Layla Haddad", email="layla@example.org")
    login_as(Role.OUTREACH)
    assert client.get("/exports/contacts").status_code == 403
    login_as(Role.FOCAL_POINT)
    assert exported(client, "contacts").status_code == 400  # no purpose
    rows = csv_rows(exported(client, "contacts", purpose="coordination"))
    assert rows[1][:3] == ["P-C", "Layla Haddad", ""]
    assert audit(db, "export")[0]["personal"] is True


def test_a_public_export_never_names_a_partner_that_must_not_be_named(
    db, client, login_as, make_partner
):
    make_partner(ref="P-N", name_en="Named Org", type="media")
    make_partner(ref="P-H", name_en="Hidden Org", type="syrian_cso", do_not_name_publicly=True)
    make_partner(ref="P-C", name_en="Confidential Org", confidential=True)
    login_as(Role.OUTREACH)
    response = exported(client, "partners", public="y")
    text = response.get_data().decode("utf-8-sig")
    assert "Named Org" in text
    assert "Hidden Org" not in text and "P-H" not in text
    assert "Syrian civil society organisation (name withheld)" in text
    assert "Confidential Org" not in text
    assert audit(db, "export")[0]["public"] is True


def test_framework_and_engagement_lists_export_with_their_filters(
    db, client, login_as, make_framework, make_engagement
):
    make_framework(ref="F-1", status="in_force")
    make_framework(ref="F-2", status="draft", signed_on=None)
    make_engagement(ref="E-1")
    login_as(Role.OUTREACH)
    rows = csv_rows(exported(client, "frameworks", "?status=draft"))
    assert [r[0] for r in rows[1:]] == ["F-2"]
    rows = csv_rows(exported(client, "engagements"))
    assert [r[0] for r in rows[1:]] == ["E-1"]


def test_the_records_behind_a_report_figure_export(db, client, login_as, make_engagement):
    from datetime import date

    make_engagement(ref="E-2024")
    make_engagement(ref="E-2023", start_date=date(2023, 5, 1))
    login_as(Role.REPORTING)
    query = "?figure=engagements.held_in_period&kind=year&year=2024"
    rows = csv_rows(exported(client, "report", query))
    assert [r[0] for r in rows[1:]] == ["E-2024"]
    assert client.get("/exports/report?figure=nonsense&kind=year&year=2024").status_code == 404
    assert (
        client.get(
            "/exports/report?figure=engagements.unique_people&kind=year&year=2024"
        ).status_code
        == 404
    )


def test_an_interrupted_download_is_recorded(db, client, login_as, make_partner):
    for i in range(3):
        make_partner(ref=f"P-{i}")
    login_as(Role.OUTREACH)
    response = exported(client, "partners")
    iterator = iter(response.response)
    next(iterator)
    response.close()
    assert audit(db, "export.incomplete")


def test_a_public_engagement_list_describes_partners_that_must_not_be_named(
    db, client, login_as, make_partner, make_engagement
):
    named = make_partner(ref="P-N", name_en="Named Org", type="media")
    hidden = make_partner(ref="P-H", name_en="Hidden Org", do_not_name_publicly=True)
    secret = make_partner(ref="P-S", name_en="Secret Org", confidential=True)
    make_engagement(ref="E-PUB", partners=[named, hidden, secret], summary_en="Private summary")
    login_as(Role.OUTREACH)
    text = exported(client, "engagements", public="y").get_data().decode("utf-8-sig")
    assert "Named Org" in text
    assert "Hidden Org" not in text and "Secret Org" not in text and "P-H" not in text
    assert text.count("(name withheld)") == 2
    assert "Private summary" not in text
    assert "E-PUB" not in text  # references are internal


@pytest.mark.parametrize("role", list(Role))
def test_who_may_export_what(db, client, login_as, make_partner, make_contact, role):
    partner = make_partner(ref="P-R")
    make_contact(partner, name_en="Layla Haddad")
    login_as(role)
    expected = {
        # role: (partners list, contact persons)
        Role.ADMIN: (200, 403),
        Role.OUTREACH: (200, 403),
        Role.FOCAL_POINT: (200, 200),
        Role.REPORTING: (200, 403),
        Role.VIEWER: (403, 403),
    }[role]
    assert client.get("/exports/partners").status_code == expected[0]
    assert client.get("/exports/contacts").status_code == expected[1]


def test_the_export_page_in_arabic(db, client, login_as, make_partner):
    make_partner(ref="P-AR")
    login_as(Role.OUTREACH, locale="ar")
    client.set_language("ar")
    page = client.get("/exports/partners")
    assert 'dir="rtl"' in page.text
    assert "ما سيتضمنه الملف" in page.text
