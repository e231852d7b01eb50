"""Locked periods: frozen figures and ids, restatements, and the audit trail."""

from __future__ import annotations

import html
import json
from datetime import date

import pytest
from flask_babel import force_locale

from crm.audit.models import AuditEntry
from crm.db import utcnow
from crm.errors import ConflictError, PermissionDenied, ValidationError
from crm.extensions import db
from crm.reports import counting, services
from crm.reports.counting import Period
from crm.reports.models import ReportingPeriod

P = Period.year(2024)


def audit(action):
    entry = (
        db.session.query(AuditEntry).filter_by(action=action).order_by(AuditEntry.id.desc()).first()
    )
    return entry, json.loads(entry.details)


@pytest.fixture
def officer(make_user):
    return make_user(role="reporting")


@pytest.fixture
def published(o3, officer):
    """2024 with two frameworks and two engagements, locked."""
    frameworks = [o3.framework(date(2023, 1, 1)), o3.framework(date(2024, 5, 5))]
    engagements = [
        o3.engagement(date(2024, 3, 3), women=5),
        o3.engagement(date(2024, 9, 9), men=6),
    ]
    period = services.lock_period(P, actor=officer, name="Report on 2024 results")
    return period, frameworks, engagements


def test_locking_freezes_figures_rule_version_and_ids(published, officer):
    period, frameworks, engagements = published
    assert period.is_locked and period.locked_by_id == officer.id
    assert period.rule_version == counting.RULE_VERSION
    snapshot = period.snapshot
    assert snapshot["figures"] == counting.report(P)
    assert snapshot["records"]["cooperation_frameworks.concluded_to_date"] == sorted(
        f.id for f in frameworks
    )
    assert snapshot["records"]["engagements.held_in_period"] == sorted(e.id for e in engagements)
    assert snapshot["records"]["engagements.by_type.consultation"] == sorted(
        e.id for e in engagements
    )
    entry, details = audit("period.lock")
    assert entry.actor_id == officer.id and entry.object_id == period.id
    assert details["frameworks"] == 2 and details["engagements"] == 2
    assert details["rule_version"] == counting.RULE_VERSION
    assert len(details["snapshot_sha256"]) == 64


def test_a_locked_report_shows_the_frozen_figures_and_the_restatement(published, o3):
    period, _frameworks, engagements = published
    late = o3.engagement(date(2024, 12, 30), type="workshop")  # logged after publication
    engagements[0].archived_at = utcnow()  # deleted after publication
    db.session.flush()
    view = services.channel_report(P)
    assert view.locked == period
    assert view.figures["engagements"]["headline"] == 2  # as published
    restated = view.restated
    assert restated.any
    changes = {c.key: c for c in restated.changes}
    held = changes["engagements.held_in_period"]
    assert (held.frozen, held.live, held.added, held.removed) == (
        2,
        2,
        [late.id],
        [engagements[0].id],
    )
    assert changes["engagements.by_type.workshop"].added == [late.id]
    assert changes["engagements.participants.women"].frozen == 5
    assert changes["engagements.participants.women"].live == 0
    assert "cooperation_frameworks.concluded_to_date" not in changes


def test_nothing_changed_means_no_restatement(published):
    assert not services.restatement(published[0]).any


def test_the_locked_page_says_what_changed(published, o3, client, login_as):
    _period, _frameworks, engagements = published
    late = o3.engagement(date(2024, 12, 30))
    login_as("viewer")
    page = client.get("/reports/?kind=year&year=2024")
    assert page.status_code == 200
    assert 'data-figure="engagements.headline" data-value="2"' in page.text
    assert "Restatement" in page.text
    assert f"#{late.id}" in page.text
    assert "Report on 2024 results" in page.text
    assert "Show today's data instead" in html.unescape(page.text)
    # The switch: today's data, labelled as such, with the restatement.
    live_page = client.get("/reports/?kind=year&year=2024&live=1")
    assert 'data-figure="engagements.headline" data-value="3"' in live_page.text
    assert "Today's data, not the published figures" in html.unescape(live_page.text)
    assert "published 2, today 3" in live_page.text
    assert "Show the published figures" in live_page.text
    # The list behind the locked figure is the frozen one; today's is one click away.
    frozen = client.get("/reports/records?kind=year&year=2024&figure=engagements.held_in_period")
    assert engagements[0].ref in frozen.text and late.ref not in frozen.text
    live = client.get(
        "/reports/records?kind=year&year=2024&figure=engagements.held_in_period&live=1"
    )
    assert late.ref in live.text


def test_exports_the_cli_and_the_api_give_the_frozen_figures(
    published, o3, runner, client, make_token
):
    o3.engagement(date(2024, 12, 30))
    exported = services.export_report(P, "json", actor=None, language="en")
    assert json.loads(exported.content)["engagements"]["headline"] == 2
    live = services.export_report(P, "json", actor=None, language="en", live=True)
    assert json.loads(live.content)["engagements"]["headline"] == 3
    assert live.filename.endswith("_en-live.json")
    result = runner.invoke(args=["report", "outcome3", "--year", "2024", "--format", "json"])
    assert json.loads(result.stdout)["engagements"]["headline"] == 2
    assert "Restatement" in result.stderr
    live_cli = runner.invoke(
        args=["report", "outcome3", "--year", "2024", "--format", "json", "--live"]
    )
    assert json.loads(live_cli.stdout)["engagements"]["headline"] == 3
    assert "today's data" in live_cli.stderr
    # The API answers the published figure too, and says that it is locked.
    _token, secret = make_token("reporting")
    headers = {"Authorization": f"Bearer {secret}"}
    frozen = client.get("/api/v1/outcome3?year=2024", headers=headers).get_json()
    assert frozen["engagements"]["headline"] == 2
    assert frozen["locked"]["name"] == "Report on 2024 results"
    assert frozen["locked"]["restated"] is True
    assert set(frozen["locked"]) == {"name", "locked_at", "restated"}
    assert frozen["live"] is False
    assert {"figure": "engagements.held_in_period", "published": 2, "today": 3} in frozen[
        "restatement"
    ]
    today = client.get("/api/v1/outcome3?year=2024&live=1", headers=headers).get_json()
    assert today["engagements"]["headline"] == 3 and today["live"] is True
    assert today["locked"]["restated"] is True
    assert frozen == json.loads(result.stdout)
    assert today == json.loads(live_cli.stdout)
    assert counting.outcome3(P.start, P.end)["engagements"]["headline"] == 3


def test_unlocking_keeps_what_was_published(published, officer, o3):
    period, *_ = published
    frozen = dict(period.snapshot)
    services.unlock_period(
        period, actor=officer, version=period.version, reason="A late entry was found"
    )
    assert not period.is_locked
    assert period.snapshot["earlier"][0]["unlock_reason"] == "A late entry was found"
    assert period.snapshot["earlier"][0]["figures"] == frozen["figures"]
    assert period.snapshot["earlier"][0]["records"] == frozen["records"]
    entry, details = audit("period.unlock")
    assert entry.object_id == period.id and details["engagements"] == 2
    assert details["reason"] == "A late entry was found"
    o3.engagement(date(2024, 12, 30))
    assert services.published_report(P).figures["engagements"]["headline"] == 3
    services.lock_period(P, actor=officer, version=period.version)
    assert period.snapshot["figures"]["engagements"]["headline"] == 3
    assert len(period.snapshot["earlier"]) == 1


def test_lock_rules(published, officer, make_user):
    period, *_ = published
    with force_locale("en"):
        with pytest.raises(ValidationError):
            services.lock_period(P, actor=officer)  # locked already
        with pytest.raises(PermissionDenied):
            services.unlock_period(
                period, actor=make_user(role="outreach"), version=period.version, reason="x"
            )
        with pytest.raises(ConflictError):
            services.unlock_period(period, actor=officer, version=period.version - 1, reason="x")
        with pytest.raises(ValidationError):
            services.unlock_period(period, actor=officer, version=period.version, reason="  ")
        with pytest.raises(PermissionDenied):
            services.lock_period(Period.year(2023), actor=make_user(role="admin"), name="x")
        with pytest.raises(ValidationError):
            services.lock_period(Period.year(2023), actor=officer, name="  ")


def test_lock_and_unlock_from_the_report_page(o3, client, login_as):
    o3.engagement(date(2024, 3, 3))
    login_as("reporting")
    page = client.get("/reports/?kind=year&year=2024")
    assert "Lock the figures of this period" in page.text
    response = client.post(
        "/reports/lock",
        data={"name": "Report on 2024 results", "start": "2024-01-01", "end": "2024-12-31"},
    )
    assert response.status_code == 302
    period = db.session.query(ReportingPeriod).one()
    assert period.is_locked
    page = client.get("/reports/?kind=year&year=2024")
    assert "Unlock this period" in page.text
    refused = client.post(
        f"/reports/periods/{period.id}/unlock", data={"version": period.version, "reason": "x"}
    )
    assert refused.status_code == 302 and period.is_locked  # not confirmed
    refused = client.post(
        f"/reports/periods/{period.id}/unlock", data={"version": period.version, "confirm": "y"}
    )
    assert refused.status_code == 302 and period.is_locked  # no reason
    client.post(
        f"/reports/periods/{period.id}/unlock",
        data={"version": period.version, "confirm": "y", "reason": "Corrected a date"},
    )
    db.session.refresh(period)
    assert not period.is_locked


def test_only_the_reporting_officer_locks(client, login_as):
    for role in ("outreach", "admin", "viewer"):
        login_as(role)
        page = client.get("/reports/?kind=year&year=2024")
        assert "Lock the figures of this period" not in page.text
        response = client.post(
            "/reports/lock", data={"name": "x", "start": "2024-01-01", "end": "2024-12-31"}
        )
        assert response.status_code == 403
    assert db.session.query(ReportingPeriod).count() == 0


def test_named_periods(client, login_as):
    login_as("reporting")
    response = client.post(
        "/reports/periods",
        data={"name": "GA report 2024", "start": "2024-02-01", "end": "2025-01-31"},
    )
    assert response.status_code == 302
    page = client.get("/reports/periods")
    assert "GA report 2024" in page.text
    assert "kind=ga_year" in page.text
    again = client.post(
        "/reports/periods", data={"name": "Twice", "start": "2024-02-01", "end": "2025-01-31"}
    )
    assert again.status_code == 400
    assert "exists already" in again.text
