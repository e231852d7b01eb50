"""'Today' follows domain.md: the organisation's zone, or the user's own; frozen
clocks around midnight in UTC+3 (Damascus) and UTC-5 (Bogotá)."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from crm import clock
from crm.engagements.services import create_engagement
from crm.errors import ValidationError

HELD = {
    "title_ar": "جلسة استماع مع ناجيات",
    "category": "victims_survivors",
    "type": "consultation",
    "format": "in_person",
    "status": "held",
}


@pytest.fixture
def english():
    from flask_babel import force_locale

    with force_locale("en"):
        yield


def freeze(monkeypatch, *args):
    instant = datetime(*args, tzinfo=UTC)
    monkeypatch.setattr(clock, "now_utc", lambda: instant)


def test_default_zone_is_zurich(app):
    with app.app_context():
        assert str(clock.organisation_zone()) == "Europe/Zurich"


def test_damascus_user_logs_a_held_engagement_at_one_in_the_morning(
    app, make_user, monkeypatch, english
):
    # 22:00 UTC on 10 June = 01:00 on 11 June in Damascus (UTC+3), midnight in Zurich.
    freeze(monkeypatch, 2026, 6, 10, 22, 0)
    damascus = make_user(role="outreach", timezone="Asia/Damascus")
    assert clock.today(damascus) == date(2026, 6, 11)
    engagement = create_engagement({**HELD, "start_date": "2026-06-11"}, actor=damascus)
    assert engagement.start_date == date(2026, 6, 11)
    # The 12th is still in the future in Damascus.
    with pytest.raises(ValidationError) as exc:
        create_engagement({**HELD, "start_date": "2026-06-12"}, actor=damascus)
    assert "start_date" in exc.value.errors


def test_the_organisation_zone_decides_for_a_user_without_one(app, make_user, monkeypatch, english):
    # 21:30 UTC on 10 June: 23:30 in Zurich (10 June), 00:30 in Damascus (11 June).
    freeze(monkeypatch, 2026, 6, 10, 21, 30)
    officer = make_user(role="outreach")
    assert clock.today(officer) == date(2026, 6, 10)
    with pytest.raises(ValidationError):
        create_engagement({**HELD, "start_date": "2026-06-11"}, actor=officer)
    monkeypatch.setitem(app.config, "TIMEZONE", "Asia/Damascus")
    assert clock.today(officer) == date(2026, 6, 11)
    assert create_engagement({**HELD, "start_date": "2026-06-11"}, actor=officer).id


def test_utc_minus_five_late_evening_is_still_yesterday(app, make_user, monkeypatch, english):
    # 03:00 UTC on 11 June = 22:00 on 10 June in Bogotá (UTC-5, no summer time).
    freeze(monkeypatch, 2026, 6, 11, 3, 0)
    bogota = make_user(role="outreach", timezone="America/Bogota")
    assert clock.today(bogota) == date(2026, 6, 10)
    with pytest.raises(ValidationError):
        create_engagement({**HELD, "start_date": "2026-06-11"}, actor=bogota)
    assert create_engagement({**HELD, "start_date": "2026-06-10"}, actor=bogota).id
    # In Zurich it is 05:00 on 11 June already.
    assert create_engagement({**HELD, "start_date": "2026-06-11"}, actor=make_user()).id


def test_stored_times_are_shown_in_the_readers_zone(client, login_as, monkeypatch):
    from crm.i18n import format_datetime

    user = login_as("outreach", timezone="Asia/Damascus", locale="en")
    with client.application.test_request_context():
        from flask_login import login_user

        login_user(user)
        shown = format_datetime(datetime(2026, 6, 10, 22, 0, tzinfo=UTC), "yyyy-MM-dd HH:mm")
    assert shown == "2026-06-11 01:00"


def test_account_page_offers_the_time_zone_and_saves_it(client, login_as, db):
    from tests.conftest import csrf_token

    user = login_as("outreach", locale="en")
    page = client.get("/account")
    assert "Time zone" in page.text and "Asia/Damascus" in page.text
    token = csrf_token(page.text)
    response = client.post(
        "/account/preferences",
        data={
            "csrf_token": token,
            "prefs-csrf_token": token,
            "prefs-locale": "en",
            "prefs-digits": "latn",
            "prefs-timezone": "Asia/Damascus",
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.timezone == "Asia/Damascus"
    bad = client.post(
        "/account/preferences",
        data={
            "prefs-csrf_token": token,
            "prefs-locale": "en",
            "prefs-digits": "latn",
            "prefs-timezone": "Mars/Olympus",
        },
    )
    assert bad.status_code == 422
    db.session.refresh(user)
    assert user.timezone == "Asia/Damascus"


def test_arabic_account_page_translates_the_zone_label(client, login_as):
    login_as("outreach", locale="ar")
    page = client.get("/account").text
    assert "المنطقة الزمنية" in page


def test_no_code_asks_the_machine_for_today():
    """Every 'today' goes through crm.clock: no date.today() or naive now() elsewhere."""
    offenders = []
    for path in Path("crm").rglob("*.py"):
        if path.name == "clock.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                owner = ast.unparse(node.func.value)
                if (name == "today" and owner in ("date", "datetime")) or (
                    name == "now" and owner == "datetime" and not node.args
                ):
                    offenders.append(f"{path}:{node.lineno}")
                if name == "date" and ast.unparse(node.func.value).endswith("utcnow()"):
                    offenders.append(f"{path}:{node.lineno}")
    assert offenders == []


def test_a_stored_instant_falls_on_the_readers_day(app, make_user):
    from flask_login import login_user

    from crm.i18n import format_date

    instant = datetime(2026, 6, 10, 22, 30, tzinfo=UTC)
    with app.test_request_context():
        login_user(make_user(timezone="Asia/Damascus"))
        assert format_date(instant, "yyyy-MM-dd") == "2026-06-11"
    with app.test_request_context():
        login_user(make_user(timezone="America/Bogota"))
        assert format_date(instant, "yyyy-MM-dd") == "2026-06-10"
