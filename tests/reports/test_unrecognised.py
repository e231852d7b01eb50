"""A breakdown never drops a value: a stored code that no code list knows (left by
an older version, or written by a repair script) is shown as itself, marked
unrecognised, and counted, on every channel."""

from __future__ import annotations

import html
import json
from datetime import date

import pytest
from sqlalchemy import text

from crm.extensions import db
from crm.reports import services
from crm.reports.counting import Period, outcome3

P = Period.year(2024)


@pytest.fixture
def unknown_victim_group(o3):
    """An engagement whose victim group is a code the current list does not have."""
    engagement = o3.engagement(date(2024, 4, 4), victim_groups=("sgbv",), country="XZ")
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    else:
        names = connection.execute(
            text(
                "SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid = "
                "'engagement_victim_groups'::regclass"
            )
        ).scalars()
        for name in names:  # undone with the test's transaction
            connection.exec_driver_sql(
                f'ALTER TABLE engagement_victim_groups DROP CONSTRAINT "{name}"'
            )
    connection.execute(
        text("INSERT INTO engagement_victim_groups (engagement_id, code) VALUES (:e, :c)"),
        {"e": engagement.id, "c": "forced_displacement"},
    )
    yield engagement.ref  # read now: loading it again would meet the unknown code
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")


def test_an_unknown_code_is_counted_and_shown_as_itself(
    unknown_victim_group, client, login_as, runner
):
    figures = outcome3(P.start, P.end)["engagements"]
    assert figures["by_victim_group"] == {"sgbv": 1, "forced_displacement": 1}
    assert figures["by_country"] == {"XZ": 1}
    login_as("reporting")
    page = html.unescape(client.get("/reports/?kind=year&year=2024").text)
    assert 'data-figure="engagements.by_victim_group.forced_displacement" data-value="1"' in page
    assert "forced_displacement (unrecognised)" in page
    assert "XZ (unrecognised)" in page
    printed = html.unescape(client.get("/reports/print?kind=year&year=2024").text)
    assert "forced_displacement (unrecognised)" in printed
    csv_text = services.export_report(P, "csv", actor=None, language="en").content.decode()
    assert (
        "engagements.by_victim_group,forced_displacement,forced_displacement (unrecognised),1"
        in csv_text
    )
    cli = runner.invoke(args=["report", "outcome3", "--year", "2024", "--format", "json"])
    assert json.loads(cli.stdout)["engagements"]["by_victim_group"]["forced_displacement"] == 1
    table = runner.invoke(args=["report", "outcome3", "--year", "2024", "--lang", "en"])
    assert "forced_displacement (unrecognised)" in table.stdout
    # The records behind the unknown value are one click away, like any other.
    records = client.get(
        "/reports/records?kind=year&year=2024&figure=engagements.by_victim_group.forced_displacement"
    )
    assert records.status_code == 200
    assert unknown_victim_group in records.text


def test_unknown_codes_in_arabic(unknown_victim_group):
    content = services.export_report(P, "csv", actor=None, language="ar").content.decode()
    assert "forced_displacement (غير معروف)" in content
