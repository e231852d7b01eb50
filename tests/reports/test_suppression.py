"""Small counts of people are suppressed on every channel (security.md, "Survivor
data"), and people without consent to use in reporting are counted but not listed."""

from __future__ import annotations

import html
import json
from datetime import date

from crm.extensions import db
from crm.people.models import ConsentEvent
from crm.reports import services
from crm.reports.counting import Period

P = Period.year(2024)


def consent(person, granted=True):
    db.session.add(
        ConsentEvent(
            person_id=person.id, scope="use_in_reporting", granted=granted, on=date(2024, 1, 1)
        )
    )
    db.session.flush()


def test_the_page_marks_suppressed_cells_and_says_why(o3, client, login_as):
    o3.engagement(women=3, men=40, unspecified=12, under_18=0)
    login_as("viewer")
    page = html.unescape(client.get("/reports/?kind=year&year=2024").text)
    # women (3) primary; unspecified (12, the smallest other part) secondary.
    assert 'data-figure="engagements.participants.women" data-value="" data-suppressed' in page
    assert (
        'data-figure="engagements.participants.unspecified" data-value="" data-suppressed' in page
    )
    assert 'data-figure="engagements.participants.men" data-value="40"' in page
    assert 'data-figure="engagements.participants.total" data-value="55"' in page
    assert 'data-figure="engagements.participants.under_18" data-value="0"' in page
    assert "Not shown: a count of 1 to 4 people" in page
    # Counts of engagements are never suppressed, however small.
    assert 'data-figure="engagements.held_in_period" data-value="1"' in page
    assert 'data-figure="engagements.by_type.consultation" data-value="1"' in page


def test_nothing_small_nothing_suppressed(o3, client, login_as):
    o3.engagement(women=30, men=40)
    login_as("viewer")
    page = client.get("/reports/?kind=year&year=2024").text
    assert "data-suppressed" not in page and "Not shown" not in page
    assert services.channel_report(P).as_json()["suppressed"] == []


def test_a_restatement_does_not_give_a_suppressed_count_away(o3, make_user, client, login_as):
    o3.engagement(women=30, men=40)
    services.lock_period(P, actor=make_user(role="reporting"), name="2024")
    o3.engagement(date(2024, 5, 5), women=2, men=0)  # two more women: 32, then 2 alone
    db.session.commit()
    shown = services.channel_report(P, live=True).as_json()
    restated = {c["figure"]: c for c in shown["restatement"]}
    assert restated["engagements.participants.women"] == {
        "figure": "engagements.participants.women",
        "published": 30,
        "today": 32,
    }
    o3.engagement(date(2024, 6, 6), women=0, men=0, unspecified=3)
    db.session.commit()
    restated = {c["figure"]: c for c in services.channel_report(P).as_json()["restatement"]}
    # Published 0, today 3 people of unspecified sex: today's value is suppressed.
    assert restated["engagements.participants.unspecified"]["today"] is None
    login_as("viewer")
    page = html.unescape(client.get("/reports/?kind=year&year=2024").text)
    assert "Sex not recorded</strong>: published 0, today •" in page


def people_line(page: str) -> str:
    start = page.index('<li data-restated="engagements.unique_people">')
    return page[start : page.index("</li>", start)]


def test_people_without_consent_are_left_out_of_the_lists_shown_from_a_lock(
    o3, make_user, client, login_as
):
    officer = make_user(role="reporting")
    listed, withheld = o3.person(), o3.person()
    consent(listed)
    o3.engagement(women=30, men=30, people=[o3.person(), o3.person(), o3.person()])
    services.lock_period(P, actor=officer, name="2024")
    o3.engagement(date(2024, 7, 7), women=10, men=10, people=[listed, withheld])
    db.session.commit()
    login_as("reporting")
    line = people_line(client.get("/reports/?kind=year&year=2024").text)
    assert f">#{listed.id}<" in line and f">#{withheld.id}<" not in line
    login_as("focal_point")
    line = people_line(client.get("/reports/?kind=year&year=2024").text)
    assert f">#{listed.id}<" in line and f">#{withheld.id}<" in line
    # Counted all the same: five people today.
    figures = json.loads(
        services.export_report(P, "json", actor=None, language="en", live=True).content
    )
    assert figures["engagements"]["unique_people"] == 5
