"""The report pages as each role sees them, in both languages."""

from __future__ import annotations

import re
from datetime import date

import pytest

from crm.codes import HeadlineRule
from crm.extensions import db
from crm.reports.models import IndicatorSetting


@pytest.fixture
def year_2024(o3):
    secret = o3.framework(
        date(2022, 4, 4),
        title_en="Secret protocol with the Aleppo group",
        title_ar="بروتوكول سري",
        confidential=True,
    )
    public = o3.framework(date(2024, 4, 4), title_en="Open MoU", partner_types=("state",))
    engagement = o3.engagement(date(2024, 5, 5), women=9, men=8, victim_groups=("sgbv",))
    return secret, public, engagement


def test_the_report_shows_both_headlines_with_definitions_in_both_languages(
    year_2024, client, login_as
):
    login_as("viewer")
    page = client.get("/reports/?kind=year&year=2024")
    assert page.status_code == 200
    text = page.text
    assert 'data-figure="cooperation_frameworks.headline" data-value="2"' in text
    assert 'data-figure="engagements.headline" data-value="1"' in text
    assert "Frameworks concluded since the Mechanism began" in text  # the rule used
    assert "أطر التعاون الموقّعة (النافذة" in text  # the definition in Arabic too
    assert "may add up to more than its headline" in text
    assert "By the end of 2024 the Mechanism had concluded 2 cooperation frameworks" in text
    assert "In 2024 the Mechanism held 1 engagement with victims and survivors." in text
    # Every number links to its records.
    assert "/reports/records?figure=cooperation_frameworks.by_partner_type.state" in text.replace(
        "&amp;", "&"
    )


def test_every_breakdown_has_a_table_and_an_accessible_chart(year_2024, client, login_as):
    login_as("viewer")
    text = client.get("/reports/?kind=year&year=2024").text
    charts = re.findall(r"<svg [^>]*class=\"chart\".*?</svg>", text, flags=re.S)
    assert len(charts) == 6 + 1  # breakdowns with values + the year-by-year chart
    for chart in charts:
        assert 'role="img"' in chart and "aria-label=" in chart
        assert "<title" in chart and "<desc" in chart
        assert "style=" not in chart
        assert 'direction="ltr"' in chart
    assert "Survivors of sexual and gender-based violence: 1" in text
    assert "style=" not in text


def test_the_arabic_report_reads_right_to_left(year_2024, client, login_as):
    login_as("viewer", locale="ar")
    client.set_language("ar")
    text = client.get("/reports/?kind=year&year=2024").text
    assert 'dir="rtl"' in text and 'lang="ar"' in text
    assert "تقرير النتيجة 3" in text
    assert 'direction="rtl"' in text
    assert "في عام 2024" in text


def test_targets_show_progress(year_2024, client, login_as):
    db.session.add(
        IndicatorSetting(
            year=2024, frameworks_target=4, engagements_target=2, frameworks_baseline=1
        )
    )
    db.session.flush()
    login_as("viewer")
    text = client.get("/reports/?kind=year&year=2024").text
    assert '<progress max="4" value="2"' in text
    assert "Target: 4 (50% reached)" in text
    assert "Baseline: 1" in text


def test_a_bad_period_is_explained(client, login_as):
    login_as("viewer")
    page = client.get("/reports/?kind=range&start=2024-05-01&end=2024-01-01")
    assert page.status_code == 400
    assert "The last day must be on or after the first day." in page.text
    page = client.get("/reports/?kind=year&year=12")
    assert page.status_code == 400


def test_ga_year_and_ranges(year_2024, client, login_as):
    login_as("viewer")
    text = client.get("/reports/?kind=ga_year&year=2024").text
    assert "General Assembly year 2024–2025" in text
    text = client.get("/reports/?kind=range&start=2024-05-05&end=2024-05-05").text
    assert 'data-figure="engagements.headline" data-value="1"' in text
    assert "From 5 May 2024 to 5 May 2024 the Mechanism held 1 engagement" in text


def test_confidential_records_are_counted_but_not_named(year_2024, client, login_as):
    secret, _public, _engagement = year_2024
    url = "/reports/records?kind=year&year=2024&figure=cooperation_frameworks.concluded_to_date"
    login_as("viewer")
    page = client.get(url)
    assert page.status_code == 200
    assert "Confidential record" in page.text
    assert "Secret protocol" not in page.text and secret.ref not in page.text
    assert "Open MoU" in page.text
    assert "2 records" in page.text
    login_as("reporting")
    page = client.get(url)
    assert "Secret protocol with the Aleppo group" in page.text


def test_records_of_a_breakdown_value(year_2024, client, login_as):
    _secret, _public, engagement = year_2024
    login_as("viewer")
    page = client.get(
        "/reports/records?kind=year&year=2024&figure=cooperation_frameworks.by_partner_type.state"
    )
    assert "Open MoU" in page.text and "1 record" in page.text
    page = client.get(
        "/reports/records?kind=year&year=2024&figure=engagements.by_victim_group.sgbv"
    )
    assert engagement.ref in page.text
    for bad in ("engagements.by_type.<dance>", "nothing", ""):
        assert client.get(f"/reports/records?kind=year&year=2024&figure={bad}").status_code == 404


def consent_to_reporting(person, granted=True):
    from crm.people.models import ConsentEvent

    db.session.add(
        ConsentEvent(
            person_id=person.id, scope="use_in_reporting", granted=granted, on=date(2024, 1, 1)
        )
    )
    db.session.flush()


def test_people_reached_are_listed_by_code_only_to_those_who_may_see_people(o3, client, login_as):
    person = o3.person()
    consent_to_reporting(person)
    o3.engagement(people=[person])
    url = "/reports/records?kind=year&year=2024&figure=engagements.unique_people"
    login_as("viewer")
    page = client.get(url)
    assert person.code not in page.text and "1 record" in page.text
    login_as("reporting")
    assert person.code in client.get(url).text


def test_people_without_consent_to_reporting_count_but_are_listed_only_to_the_focal_point(
    o3, client, login_as
):
    consenting, refusing, withdrawn = o3.person(), o3.person(), o3.person()
    consent_to_reporting(consenting)
    consent_to_reporting(withdrawn)
    consent_to_reporting(withdrawn, granted=False)  # the latest event decides
    o3.engagement(people=[consenting, refusing, withdrawn], women=30, men=30)
    for person in (o3.person() for _ in range(3)):  # five people: not suppressed
        consent_to_reporting(person)
        o3.engagement(people=[person])
    url = "/reports/records?kind=year&year=2024&figure=engagements.unique_people"
    login_as("reporting")
    report = client.get("/reports/?kind=year&year=2024")
    assert 'data-figure="engagements.unique_people" data-value="6"' in report.text
    page = client.get(url)
    assert consenting.code in page.text
    assert refusing.code not in page.text and withdrawn.code not in page.text
    assert "4 records" in page.text
    assert "2 more people are counted in this figure but not listed" in page.text
    login_as("focal_point")
    page = client.get(url)
    assert all(p.code in page.text for p in (consenting, refusing, withdrawn))
    assert "not listed" not in page.text


def test_printable_version(year_2024, client, login_as):
    login_as("viewer")
    page = client.get("/reports/print?kind=year&year=2024")
    assert page.status_code == 200
    assert 'data-figure="engagements.headline" data-value="1"' in page.text
    assert "print.css" in page.text
    assert "Show the report" not in page.text  # no period form on paper


def test_settings(client, login_as):
    login_as("reporting")
    page = client.get("/reports/settings")
    assert page.status_code == 200
    response = client.post(
        "/reports/settings",
        data={
            "year": "٢٠٢٤",
            "headline_rule": "in_force_at_end",
            "frameworks_target": "100",
            "engagements_target": "22",
        },
    )
    assert response.status_code == 302
    setting = db.session.query(IndicatorSetting).filter_by(year=2024).one()
    assert setting.headline_rule == HeadlineRule.IN_FORCE_AT_END
    assert (setting.frameworks_target, setting.engagements_target) == (100, 22)
    stale = client.post(
        "/reports/settings",
        data={
            "year": "2024",
            "headline_rule": "concluded_to_date",
            "version": str(setting.version - 1) if setting.version > 1 else "0",
        },
    )
    assert stale.status_code == 409
    assert "Someone saved the settings" in stale.text
    login_as("outreach")
    assert client.get("/reports/settings").status_code == 403


def test_dashboard_panel(o3, client, login_as):
    today = date.today()
    o3.engagement(date(today.year, 1, 1))
    login_as("viewer")
    text = client.get("/").text
    assert "Outcome 3 in" in text
    assert "Engagements with victims and survivors (O3.2)" in text


def test_settings_open_on_the_stored_values_and_an_unchanged_save_changes_nothing(client, login_as):
    from crm.audit.models import AuditEntry
    from crm.reports import services

    officer = login_as("reporting")
    services.save_setting(
        2024,
        {
            "headline_rule": "in_force_at_end",
            "frameworks_baseline": 89,
            "frameworks_target": 100,
            "engagements_baseline": 19,
            "engagements_target": 22,
        },
        actor=officer,
    )
    db.session.commit()
    setting = db.session.query(IndicatorSetting).filter_by(year=2024).one()
    version = setting.version
    page = client.get("/reports/settings?year=2024")
    form = page.text
    for name, value in (
        ("frameworks_baseline", "89"),
        ("frameworks_target", "100"),
        ("engagements_baseline", "19"),
        ("engagements_target", "22"),
    ):
        assert re.search(rf'name="{name}"[^>]*value="{value}"', form), name
    assert re.search(r'<option[^>]*selected[^>]*value="in_force_at_end"', form) or re.search(
        r'<option[^>]*value="in_force_at_end"[^>]*selected', form
    )
    # Press Save without touching anything: what the browser sends back.
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    audit_rows = db.session.query(AuditEntry).count()
    response = client.post(
        "/reports/settings",
        data={
            "year": fields["year"],
            "version": fields["version"],
            "headline_rule": "in_force_at_end",
            **{k: fields[k] for k in ("frameworks_baseline", "frameworks_target")},
            **{k: fields[k] for k in ("engagements_baseline", "engagements_target")},
        },
    )
    assert response.status_code == 302
    db.session.refresh(setting)
    assert setting.version == version
    assert (
        setting.headline_rule,
        setting.frameworks_baseline,
        setting.frameworks_target,
        setting.engagements_baseline,
        setting.engagements_target,
    ) == (HeadlineRule.IN_FORCE_AT_END, 89, 100, 19, 22)
    assert db.session.query(AuditEntry).count() == audit_rows
    # This year's form opens on this year's stored values too (no ?year=).
    this_year = date.today().year
    services.save_setting(this_year, {"frameworks_target": 7}, actor=officer)
    db.session.commit()
    assert re.search(
        r'name="frameworks_target"[^>]*value="7"', client.get("/reports/settings").text
    )


@pytest.mark.parametrize("tampered", ["abc", "-3", "999999", "1.5", ""])
def test_a_tampered_version_is_a_conflict_never_a_500(client, login_as, tampered):
    from crm.reports import services

    officer = login_as("reporting")
    services.save_setting(2024, {"frameworks_target": 100}, actor=officer)
    db.session.commit()
    response = client.post(
        "/reports/settings",
        data={
            "year": "2024",
            "version": tampered,
            "headline_rule": "concluded_to_date",
            "frameworks_target": "5",
        },
    )
    assert response.status_code == 409
    assert "Someone saved the settings" in response.text
    setting = db.session.query(IndicatorSetting).filter_by(year=2024).one()
    assert setting.frameworks_target == 100
