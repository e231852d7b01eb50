"""`crm report lock` and `crm report unlock` as interfaces.md describes them."""

from __future__ import annotations

import json
from datetime import date

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.reports import services
from crm.reports.counting import Period
from crm.reports.models import ReportingPeriod


def last_audit(action):
    entry = (
        db.session.query(AuditEntry).filter_by(action=action).order_by(AuditEntry.id.desc()).first()
    )
    return entry, json.loads(entry.details)


def test_lock_then_unlock_a_year(runner, o3, client, login_as):
    o3.engagement(date(2024, 3, 3))
    o3.framework(date(2023, 5, 5))
    result = runner.invoke(
        args=["report", "lock", "--year", "2024", "--name", "Report on 2024 results"]
    )
    assert result.exit_code == 0, result.output
    assert "Report on 2024 results" in result.stdout
    period = services.locked_record(Period.year(2024))
    assert period is not None and period.name == "Report on 2024 results"
    assert period.snapshot["figures"]["engagements"]["headline"] == 1
    entry, details = last_audit("period.lock")
    assert entry.object_id == period.id and details["engagements"] == 1

    again = runner.invoke(args=["report", "lock", "--year", "2024"])
    assert again.exit_code == 1
    assert "locked already" in again.stderr

    result = runner.invoke(
        args=["report", "unlock", "--year", "2024", "--reason", "A date was wrong"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert services.locked_record(Period.year(2024)) is None
    _entry, details = last_audit("period.unlock")
    assert details["reason"] == "A date was wrong"

    again = runner.invoke(args=["report", "unlock", "--year", "2024", "--reason", "again"])
    assert again.exit_code == 1
    assert "not locked" in again.stderr
    # What was published, and why it was reopened, stays in view.
    login_as("viewer")
    page = client.get("/reports/periods").text
    assert "Earlier lock: published on" in page
    assert "(O3.1: 1, O3.2: 1)" in page
    assert "A date was wrong" in page


def test_lock_a_general_assembly_year_or_dates_named_by_default(runner):
    result = runner.invoke(args=["report", "lock", "--ga-year", "2024"])
    assert result.exit_code == 0, result.output
    period = db.session.query(ReportingPeriod).one()
    assert (period.start_on, period.end_on) == (date(2024, 2, 1), date(2025, 1, 31))
    assert "General Assembly year" in period.name
    result = runner.invoke(
        args=["report", "lock", "--from", "2024-01-01", "--to", "2024-06-30", "--name", "H1"]
    )
    assert result.exit_code == 0, result.output
    assert services.locked_record(Period(date(2024, 1, 1), date(2024, 6, 30))).name == "H1"


def test_errors_are_translated_and_usage_exits_2(runner):
    assert runner.invoke(args=["report", "lock"]).exit_code == 2
    assert (
        runner.invoke(args=["report", "lock", "--year", "2024", "--ga-year", "2024"]).exit_code == 2
    )
    assert runner.invoke(args=["report", "unlock", "--year", "2024"]).exit_code == 2  # no reason
    bad = runner.invoke(args=["report", "lock", "--year", "abc"])
    assert bad.exit_code == 1 and "abc" in bad.stderr
    arabic = runner.invoke(
        args=["report", "unlock", "--year", "2024", "--reason", "x"], env={"CRM_LANG": "ar"}
    )
    assert arabic.exit_code == 1
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic.stderr)
    blank = runner.invoke(args=["report", "lock", "--year", "2023"])
    assert blank.exit_code == 0
    empty_reason = runner.invoke(args=["report", "unlock", "--year", "2023", "--reason", "  "])
    assert empty_reason.exit_code == 1
    assert "why" in empty_reason.stderr.lower()
    assert services.locked_record(Period.year(2023)) is not None
