"""`crm demo`: an empty database becomes the published 2024 report."""

from __future__ import annotations

import html
from datetime import date

from crm.extensions import db
from crm.reports import services
from crm.reports.counting import Period, outcome3, report


def test_demo_fills_an_empty_database_with_the_published_figures(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "demo@example.org" in result.output
    figures = outcome3(date(2024, 1, 1), date(2024, 12, 31))
    frameworks, engagements = figures["cooperation_frameworks"], figures["engagements"]
    assert frameworks["headline"] == frameworks["concluded_to_date"] == 100
    assert engagements["headline"] == engagements["held_in_period"] == 22
    assert report(Period.year(2022))["cooperation_frameworks"]["concluded_to_date"] == 83
    # Realistic rather than flat: every kind of figure has something in it.
    # 91 by their own expiry dates, and one expired in 2021 kept in force by its
    # renewal of 2023 (the effective expiry of domain.md).
    assert frameworks["in_force_at_end"] == 92
    assert frameworks["civil_society_to_date"] == 64
    assert frameworks["by_instrument"]["protocol"] == 1
    assert frameworks["by_partner_type"]["syrian_cso"] == 40
    assert engagements["participants"]["total"] == 812
    assert engagements["by_format"] == {"in_person": 14, "online": 5, "hybrid": 3}
    assert engagements["unique_people"] == 4
    assert len(engagements["by_type"]) >= 5 and len(engagements["by_country"]) >= 5
    # 2023 was locked when published, and a late entry makes a restatement.
    locked = services.locked_record(Period.year(2023))
    assert locked is not None and services.restatement(locked).any
    # 2024 is locked as published: 100 frameworks, 22 engagements, nothing restated.
    published = services.locked_record(Period.year(2024))
    assert published is not None and published.name == "Report on 2024 results"
    frozen = published.snapshot["figures"]
    assert frozen["cooperation_frameworks"]["headline"] == 100
    assert frozen["engagements"]["headline"] == 22
    assert not services.restatement(published).any

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 1
    assert "not empty" in again.stderr


def test_a_record_dated_2024_after_the_demo_is_a_restatement_not_a_silent_change(
    runner, o3, client, login_as, make_token
):
    assert runner.invoke(args=["demo"]).exit_code == 0
    late = o3.engagement(date(2024, 12, 3), women=10, men=10)
    db.session.commit()
    view = services.channel_report(Period.year(2024))
    assert view.figures["engagements"]["headline"] == 22  # as published
    assert view.is_restated
    changes = {c.key: c for c in view.restated.changes}
    held = changes["engagements.held_in_period"]
    assert (held.frozen, held.live, held.added) == (22, 23, [late.id])
    login_as("reporting")
    page = html.unescape(client.get("/reports/?kind=year&year=2024").text)
    assert 'data-figure="engagements.headline" data-value="22"' in page
    assert "Held in the period</strong>: published 22, today 23" in page
    # Year by year, the locked years keep their published headlines too.
    years = {y.year: y for y in services.yearly(2024)}
    assert (years[2024].frameworks, years[2024].engagements) == (100, 22)
    assert services.yearly(2024, live=True)[-1].engagements == 23
    _token, secret = make_token("reporting")
    api = client.get(
        "/api/v1/outcome3?year=2024", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    assert api["engagements"]["headline"] == 22
    assert api["locked"] == {
        "name": "Report on 2024 results",
        "locked_at": api["locked"]["locked_at"],
        "restated": True,
    }
