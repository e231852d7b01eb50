"""`crm report outcome3` as interfaces.md describes it."""

from __future__ import annotations

import json
from datetime import date

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.reports.counting import outcome3
from crm.reports.exports import suppress


def run(runner, *args):
    return runner.invoke(args=["report", "outcome3", *args])


def test_json_is_the_report_of_the_interface(runner, o3):
    o3.framework(date(2021, 5, 1), partner_types=("syrian_cso", "state"))
    o3.framework(date(2024, 5, 1), instrument="protocol")
    o3.engagement(date(2024, 2, 2), women=7, men=3, country="DE")
    result = run(runner, "--year", "2024", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # The figures of the interface, with the counts of fewer than 5 people suppressed.
    assert data == suppress(outcome3(date(2024, 1, 1), date(2024, 12, 31)))
    assert data["engagements"]["participants"]["total"] == 10
    assert data["engagements"]["participants"]["men"] is None
    assert data["suppressed"] == [
        "engagements.participants.women",
        "engagements.participants.men",
    ]
    assert data["cooperation_frameworks"]["headline"] == 2
    assert data["engagements"]["by_country"] == {"DE": 1}


def test_from_to_and_the_ga_year(runner, o3):
    o3.engagement(date(2024, 2, 1))
    o3.engagement(date(2024, 1, 31))
    result = run(runner, "--from", "2024-02-01", "--to", "2025-01-31", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["engagements"]["held_in_period"] == 1
    result = run(runner, "--ga-year", "2024", "--format", "json")
    assert json.loads(result.stdout)["period"] == {"from": "2024-02-01", "to": "2025-01-31"}


def test_table_in_arabic(runner, o3):
    o3.engagement(date(2024, 3, 3), type="workshop")
    result = run(runner, "--year", "2024", "--lang", "ar")
    assert result.exit_code == 0
    assert "ورشة عمل" in result.stdout or "Workshop" not in result.stdout


def test_bad_input_exits_1_with_a_translated_message(runner):
    result = run(runner, "--from", "2024-13-01", "--to", "2024-12-31")
    assert result.exit_code == 1
    assert "YYYY-MM-DD" in result.stderr
    result = run(runner, "--from", "2024-12-31", "--to", "2024-01-01")
    assert result.exit_code == 1
    assert "last day" in result.stderr
    result = run(runner, "--year", "abc", "--lang", "ar")
    assert result.exit_code == 1
    assert "abc" in result.stderr
    assert "سنة" in result.stderr


def test_wrong_usage_exits_2(runner):
    assert run(runner).exit_code == 2
    assert (
        run(runner, "--year", "2024", "--from", "2024-01-01", "--to", "2024-02-01").exit_code == 2
    )
    assert run(runner, "--from", "2024-01-01").exit_code == 2
    assert run(runner, "--year", "2024", "--format", "pdf").exit_code == 2
    assert run(runner, "--year", "2024", "--lang", "fr").exit_code == 2


def test_output_file_and_the_audit_trail(runner, o3, tmp_path):
    o3.engagement(date(2024, 3, 3))
    target = tmp_path / "o3.xlsx"
    result = run(runner, "--year", "2024", "--format", "xlsx", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:2] == b"PK"
    entry = (
        db.session.query(AuditEntry)
        .filter_by(action="report.export")
        .order_by(AuditEntry.id.desc())
        .first()
    )
    details = json.loads(entry.details)
    assert details["format"] == "xlsx"
    assert details["filter"] == {"from": "2024-01-01", "to": "2024-12-31", "live": False}
    import hashlib

    assert details["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()


def test_the_command_answers_under_flask_too(app):
    assert {"report", "demo"} <= set(app.cli.commands)
