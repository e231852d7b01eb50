"""`crm demo`: an empty database becomes the published 2024 report."""

from __future__ import annotations

from datetime import date

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

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 1
    assert "not empty" in again.stderr
