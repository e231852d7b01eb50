"""Dates cannot be stored with day and month swapped, whatever the browser's
language: typed as text, read by crm.dates, shown back in words."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from crm.codes import Role
from crm.dates import DateProblem, parse_date
from crm.frameworks.models import Framework


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2024-03-12", date(2024, 3, 12)),
        ("٢٠٢٤-٠٣-١٢", date(2024, 3, 12)),
        ("۲۰۲۴-۰۳-۱۲", date(2024, 3, 12)),
        ("2024/3/12", date(2024, 3, 12)),
        (" 2024-03-12 ", date(2024, 3, 12)),
        ("\u200f2024-03-12\u200f", date(2024, 3, 12)),
        ("25/03/2024", date(2024, 3, 25)),  # 25 is no month: one reading only
        ("03/25/2024", date(2024, 3, 25)),
        ("٢٥/٠٣/٢٠٢٤", date(2024, 3, 25)),
        ("05/05/2024", date(2024, 5, 5)),  # both readings are the same day
        ("", None),
    ],
)
def test_what_is_read(app, typed, expected):
    assert parse_date(typed) == expected


@pytest.mark.parametrize("typed", ["12/03/2024", "١٢/٠٣/٢٠٢٤", "3.12.2024", "01-02-2024"])
def test_two_readings_are_refused_with_both(app, typed):
    with force_locale("en"):
        with pytest.raises(DateProblem) as exc:
            parse_date(typed)
        message = str(exc.value.message)
    assert "could be" in message and "YYYY-MM-DD" in message


@pytest.mark.parametrize(
    "typed", ["31/02/2024", "2024-02-30", "12 March", "tomorrow", "2024-13-01"]
)
def test_no_date_is_refused(app, typed):
    with force_locale("en"), pytest.raises(DateProblem):
        parse_date(typed)


def form(partner_id, **overrides):
    data = {
        "title_en": "Memorandum with the Syrian Archive",
        "title_ar": "",
        "ref": "",
        "instrument": "mou",
        "status": "in_force",
        "partner_ids": [str(partner_id)],
        "signed_on": "2024-03-12",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "12/03/2024 could be 2024-03-12 or 2024-12-03"),
        ("ar", "2024-03-12"),
    ],
)
def test_a_form_refuses_12_03_2024_in_both_languages(
    db, client, login_as, make_partner, language, message
):
    partner = make_partner()
    login_as(Role.OUTREACH, locale=language)
    for typed in ("12/03/2024", "١٢/٠٣/٢٠٢٤"):
        page = client.post("/frameworks/new", data=form(partner.id, signed_on=typed))
        assert page.status_code == 200
        error = page.text.split('id="signed_on-error"')[1].split("</p>")[0]
        assert message in error and "2024-12-03" in error
        assert f'value="{typed}"' in page.text  # what was typed is still there
    assert db.session.execute(select(Framework)).first() is None


@pytest.mark.parametrize("language", ["en", "ar"])
def test_unambiguous_forms_are_stored_unswapped(db, client, login_as, make_partner, language):
    partner = make_partner()
    login_as(Role.OUTREACH, locale=language)
    for ref, typed, expected in (
        ("F-D-1", "٢٠٢٤-٠٣-١٢", date(2024, 3, 12)),
        ("F-D-2", "25/03/2024", date(2024, 3, 25)),
        ("F-D-3", "2024-12-03", date(2024, 12, 3)),
    ):
        response = client.post("/frameworks/new", data=form(partner.id, ref=ref, signed_on=typed))
        assert response.status_code == 302, response.text[:500]
        stored = db.session.execute(select(Framework).where(Framework.ref == ref)).scalar_one()
        assert stored.signed_on == expected


def test_the_saved_message_gives_the_date_in_words(db, client, login_as, make_partner):
    partner = make_partner()
    login_as(Role.OUTREACH, locale="en")
    response = client.post("/frameworks/new", data=form(partner.id), follow_redirects=True)
    assert "Signed on: 12 March 2024." in response.text


@pytest.mark.parametrize(("language", "words"), [("en", "12 March 2024"), ("ar", "12 آذار 2024")])
def test_date_fields_are_text_with_the_words_beside_them(
    client, login_as, make_partner, language, words
):
    partner = make_partner()
    login_as(Role.OUTREACH, locale=language)
    # A form sent back (no title) shows the typed date, in words, next to its field.
    page = client.post("/frameworks/new", data=form(partner.id, title_en="")).text
    field = (
        page.split('name="signed_on"')[0].rsplit("<input", 1)[1]
        + page.split('name="signed_on"')[1].split(">")[0]
    )
    assert 'type="text"' in field and 'type="date"' not in field
    assert 'data-date-input="signed_on-words"' in field and 'dir="ltr"' in field
    output = page.split('id="signed_on-words"')[1].split("</output>")[0]
    assert words in output
    assert "/static/js/dates.js" in page
