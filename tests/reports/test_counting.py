"""Every counting rule of domain.md at its edges."""

from __future__ import annotations

from datetime import date

import pytest

from crm.codes import HeadlineRule
from crm.db import utcnow
from crm.extensions import db
from crm.reports import counting
from crm.reports.counting import Period, outcome3, record_ids
from crm.reports.models import IndicatorSetting

Y2024 = Period.year(2024)


def ids(key, period=Y2024):
    return set(db.session.execute(record_ids(key, period)).scalars())


def fw(period=Y2024):
    return counting.report(period)["cooperation_frameworks"]


def en(period=Y2024):
    return counting.report(period)["engagements"]


# --- periods ---------------------------------------------------------------------------


def test_periods_calendar_ga_year_and_range():
    assert Period.year(2024) == Period(date(2024, 1, 1), date(2024, 12, 31))
    assert Period.year(2024).kind == "year"
    ga = Period.ga_year(2024)
    assert (ga.start, ga.end) == (date(2024, 2, 1), date(2025, 1, 31))
    assert ga.kind == "ga_year"
    assert ga.indicator_year == 2024
    assert Period(date(2024, 3, 1), date(2024, 6, 30)).kind == "range"
    assert Period(date(2023, 3, 1), date(2024, 6, 30)).indicator_year == 2024
    with pytest.raises(ValueError):
        Period(date(2024, 2, 1), date(2024, 1, 31))


# --- frameworks ------------------------------------------------------------------------


def test_signed_on_the_first_and_last_day_of_the_year_count_in_it(o3):
    first = o3.framework(date(2024, 1, 1))
    last = o3.framework(date(2024, 12, 31))
    o3.framework(date(2023, 12, 31))
    o3.framework(date(2025, 1, 1))
    assert ids("cooperation_frameworks.concluded_in_period") == {first.id, last.id}
    figures = fw()
    assert figures["concluded_in_period"] == 2
    assert figures["concluded_to_date"] == 3  # 2023-12-31 too, not 2025-01-01
    assert fw(Period.year(2023))["concluded_to_date"] == 1


def test_only_concluded_statuses_with_a_signature_count(o3):
    counted = [
        o3.framework(status=status) for status in ("in_force", "suspended", "expired", "terminated")
    ]
    o3.framework(status="draft")
    o3.framework(status="negotiation")
    o3.framework(status="void")
    o3.framework(signed_on=None, status="in_force")
    assert ids("cooperation_frameworks.concluded_to_date") == {f.id for f in counted}


def test_archived_frameworks_and_amendments_never_count(o3):
    kept = o3.framework(date(2020, 5, 5))
    o3.framework(date(2020, 5, 5), archived=True)
    o3.framework(date(2024, 5, 5), amends=kept, status="in_force")
    figures = fw()
    assert figures["concluded_to_date"] == 1
    assert figures["concluded_in_period"] == 0
    assert figures["in_force_at_end"] == 1
    assert ids("cooperation_frameworks.concluded_to_date") == {kept.id}


def test_in_force_at_the_end_of_the_period_at_its_edges(o3):
    plain = o3.framework(date(2022, 1, 1))
    expires_last_day = o3.framework(date(2022, 1, 1), expires_on=date(2024, 12, 31))
    o3.framework(date(2022, 1, 1), expires_on=date(2024, 12, 30), status="expired")
    o3.framework(
        date(2022, 1, 1), terminated_on=date(2024, 12, 31), status="terminated"
    )  # terminated on the last day: no longer in force
    terminated_after = o3.framework(
        date(2022, 1, 1), terminated_on=date(2025, 1, 1), status="terminated"
    )
    o3.framework(date(2024, 6, 1), in_force_from=date(2025, 1, 1))  # not yet in force
    in_force_last_day = o3.framework(date(2024, 6, 1), in_force_from=date(2024, 12, 31))
    signed_last_day = o3.framework(date(2024, 12, 31))
    assert ids("cooperation_frameworks.in_force_at_end") == {
        plain.id,
        expires_last_day.id,
        terminated_after.id,
        in_force_last_day.id,
        signed_last_day.id,
    }
    assert fw()["in_force_at_end"] == 5
    assert fw()["concluded_to_date"] == 8


def test_civil_society_needs_a_civil_society_counterpart(o3):
    cso = o3.framework(partner_types=("syrian_cso",))
    victims = o3.framework(partner_types=("victims_association",))
    ngo = o3.framework(partner_types=("state", "international_ngo"))
    o3.framework(partner_types=("state",))
    o3.framework(partner_types=("un_entity", "academic"))
    gone = o3.partner("syrian_cso", archived_at=utcnow())
    o3.framework(partners=[gone])  # its only civil-society counterpart was deleted
    assert ids("cooperation_frameworks.civil_society_to_date") == {cso.id, victims.id, ngo.id}
    assert fw()["civil_society_to_date"] == 3


def test_a_framework_counts_once_under_each_distinct_counterpart_type(o3):
    partners = [o3.partner("syrian_cso") for _ in range(27)] + [o3.partner("state")]
    protocol = o3.framework(partners=partners, instrument="protocol")  # 28 counterparts
    o3.framework(partner_types=("syrian_cso",))
    figures = fw()
    assert figures["concluded_to_date"] == 2
    assert figures["by_partner_type"] == {"syrian_cso": 2, "state": 1}
    assert figures["by_instrument"] == {"mou": 1, "protocol": 1}
    assert sum(figures["by_partner_type"].values()) > figures["concluded_to_date"]
    assert ids("cooperation_frameworks.by_partner_type.state") == {protocol.id}
    assert ids("cooperation_frameworks.by_instrument.protocol") == {protocol.id}


def test_headline_follows_the_rule_set_for_the_year(o3):
    o3.framework(
        date(2020, 1, 1), status="expired", expires_on=date(2021, 1, 1), partner_types=("state",)
    )
    o3.framework(date(2024, 3, 1), partner_types=("state",))
    o3.framework(date(2024, 3, 1), partner_types=("syrian_cso",))
    assert fw()["headline"] == 3
    assert fw()["headline_rule"] == "concluded_to_date"
    db.session.add(IndicatorSetting(year=2024, headline_rule=HeadlineRule.IN_FORCE_AT_END))
    db.session.flush()
    assert (fw()["headline"], fw()["headline_rule"]) == (2, "in_force_at_end")
    assert fw(Period.year(2023))["headline_rule"] == "concluded_to_date"
    setting = db.session.query(IndicatorSetting).filter_by(year=2024).one()
    setting.headline_rule = HeadlineRule.CIVIL_SOCIETY_TO_DATE
    db.session.flush()
    assert (fw()["headline"], fw()["headline_rule"]) == (1, "civil_society_to_date")
    # A General Assembly year starting in 2024 reads the 2024 settings.
    assert fw(Period.ga_year(2024))["headline_rule"] == "civil_society_to_date"


# --- engagements -----------------------------------------------------------------------


def test_held_on_the_first_and_last_day_count(o3):
    first = o3.engagement(date(2024, 1, 1))
    last = o3.engagement(date(2024, 12, 31), end_date=date(2025, 1, 2))
    o3.engagement(date(2023, 12, 31), end_date=date(2024, 1, 2))  # counts in 2023, once
    o3.engagement(date(2025, 1, 1))
    assert ids("engagements.held_in_period") == {first.id, last.id}
    assert en()["held_in_period"] == 2
    assert en(Period.year(2023))["held_in_period"] == 1
    assert en(Period.year(2025))["held_in_period"] == 1


def test_only_held_engagements_with_victims_and_survivors_count(o3):
    held = o3.engagement()
    for status in ("planned", "postponed", "cancelled"):
        o3.engagement(status=status)
    for category in ("civil_society", "state", "other"):
        o3.engagement(category=category)
    o3.engagement(archived=True)
    assert ids("engagements.held_in_period") == {held.id}
    assert en()["headline"] == 1


def test_ga_year_counts_february_to_january(o3):
    o3.engagement(date(2024, 1, 31))
    inside = {o3.engagement(date(2024, 2, 1)).id, o3.engagement(date(2025, 1, 31)).id}
    o3.engagement(date(2025, 2, 1))
    assert ids("engagements.held_in_period", Period.ga_year(2024)) == inside
    assert en(Period.ga_year(2024))["held_in_period"] == 2


def test_participants_are_summed_over_the_counted_engagements(o3):
    o3.engagement(women=10, men=5, unspecified=1, under_18=3)
    o3.engagement(women=2, men=None, unspecified=None, under_18=None)
    o3.engagement(women=100, men=100, status="cancelled")
    o3.engagement(women=100, men=100, category="state")
    assert en()["participants"] == {
        "total": 18,
        "women": 12,
        "men": 5,
        "unspecified": 1,
        "under_18": 3,
    }


def test_participants_of_an_empty_period_are_zero():
    assert en()["participants"] == {
        "total": 0,
        "women": 0,
        "men": 0,
        "unspecified": 0,
        "under_18": 0,
    }


def test_unique_people_reached_counts_each_person_once(o3):
    a, b, c = o3.person(), o3.person(), o3.person()
    gone = o3.person()
    gone.archived_at = utcnow()
    o3.engagement(people=[a, b, gone])
    o3.engagement(people=[a, c])
    o3.engagement(people=[a], status="planned")
    lone = o3.person()
    o3.engagement(date(2023, 5, 5), people=[lone])
    assert en()["unique_people"] == 3
    assert ids("engagements.unique_people") == {a.id, b.id, c.id}


def test_engagement_breakdowns_count_each_value(o3):
    one = o3.engagement(
        type="workshop",
        format="online",
        country="DE",
        victim_groups=("missing_disappeared", "detention_torture"),
    )
    o3.engagement(type="consultation", format="in_person", country="TR", victim_groups=("sgbv",))
    o3.engagement(type="consultation", format="hybrid", country=None)
    o3.engagement(type="workshop", status="planned", victim_groups=("sgbv",))
    figures = en()
    assert figures["by_type"] == {"consultation": 2, "workshop": 1}
    assert figures["by_format"] == {"in_person": 1, "online": 1, "hybrid": 1}
    assert figures["by_country"] == {"DE": 1, "TR": 1}
    assert figures["by_victim_group"] == {
        "missing_disappeared": 1,
        "detention_torture": 1,
        "sgbv": 1,
    }
    assert ids("engagements.by_victim_group.missing_disappeared") == {one.id}
    assert ids("engagements.by_country.de") == {one.id}


# --- the whole report -----------------------------------------------------------------


def test_outcome3_has_exactly_the_shape_of_the_interface(o3):
    o3.framework(date(2019, 1, 1))
    o3.engagement(women=1, men=1)
    report = outcome3(date(2024, 1, 1), date(2024, 12, 31))
    assert list(report) == ["period", "cooperation_frameworks", "engagements"]
    assert report["period"] == {"from": "2024-01-01", "to": "2024-12-31"}
    assert list(report["cooperation_frameworks"]) == [
        "headline",
        "headline_rule",
        "concluded_to_date",
        "concluded_in_period",
        "in_force_at_end",
        "civil_society_to_date",
        "by_partner_type",
        "by_instrument",
    ]
    assert list(report["engagements"]) == [
        "headline",
        "held_in_period",
        "participants",
        "unique_people",
        "by_type",
        "by_format",
        "by_victim_group",
        "by_country",
    ]
    assert list(report["engagements"]["participants"]) == [
        "total",
        "women",
        "men",
        "unspecified",
        "under_18",
    ]


def test_every_breakdown_value_lists_exactly_the_records_it_counts(o3):
    o3.framework(date(2019, 1, 1), partner_types=("state", "un_entity"), instrument="protocol")
    o3.framework(date(2024, 1, 1), partner_types=("syrian_cso",))
    o3.engagement(type="workshop", victim_groups=("sgbv", "other"), country="LB")
    o3.engagement(type="meeting", format="online", country="TR")
    report = counting.report(Y2024)
    for breakdown in counting.BREAKDOWNS:
        for value, n in report[breakdown.section][breakdown.name].items():
            assert len(ids(f"{breakdown.key}.{value}")) == n, (breakdown.key, value)
    for key in counting.FIGURES:
        section, name = key.split(".")
        assert len(ids(key)) == report[section][name]


def test_a_key_naming_no_figure_is_refused():
    for key in ("engagements.nothing", "engagements.by_type.<b>", "x", "engagements.by_type."):
        with pytest.raises(KeyError):
            record_ids(key, Y2024)
    # A code no list knows may still be stored: it names a (here empty) list.
    assert counting.count(record_ids("engagements.by_type.dance", Y2024)) == 0


def test_yearly_series_runs_from_the_first_record(o3):
    o3.framework(date(2019, 4, 1))
    o3.framework(date(2021, 4, 1))
    o3.engagement(date(2020, 3, 3))
    o3.engagement(date(2021, 3, 3))
    o3.engagement(date(2021, 3, 4))
    series = counting.yearly(2022)
    assert [(y.year, y.frameworks, y.engagements) for y in series] == [
        (2019, 1, 0),
        (2020, 1, 1),
        (2021, 2, 2),
        (2022, 2, 0),
    ]
    assert counting.yearly(2018) == []


def test_the_count_happens_in_the_database(o3, app):
    """However many records, the report is a fixed number of aggregate queries."""
    from sqlalchemy import event

    for _ in range(3):
        o3.framework()
        o3.engagement(victim_groups=("sgbv",))
    statements = []

    def log(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", log)
    try:
        counting.report(Y2024)
    finally:
        event.remove(engine, "before_cursor_execute", log)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 15
    assert all(
        "count(" in s.lower() or "sum(" in s.lower() or "indicator_settings" in s for s in selects
    )
