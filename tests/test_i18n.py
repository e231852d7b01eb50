"""Choosing the language, switching it, and formatting for Syrian readers."""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale

from crm.i18n import format_date, format_number, normalize_digits
from tests.conftest import csrf_token


def test_accept_language_picks_arabic(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ar-SY,ar;q=0.9,en;q=0.5"
    page = client.get("/login")
    assert '<html lang="ar" dir="rtl"' in page.text
    assert "تسجيل الدخول" in page.text


def test_session_choice_beats_the_browser(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with client.session_transaction() as session:
        session["locale"] = "ar"
    assert 'lang="ar"' in client.get("/login").text


def test_saved_choice_beats_session_and_browser(client, login_as):
    login_as("viewer", locale="ar")
    with client.session_transaction() as session:
        session["locale"] = "en"
    assert 'dir="rtl"' in client.get("/").text


def test_switch_is_a_csrf_protected_post(client, csrf):
    assert client.get("/language").status_code == 405
    assert client.post("/language", data={"locale": "ar"}).status_code == 400
    token = csrf_token(client.get("/login").text)
    response = client.post(
        "/language", data={"locale": "ar", "next": "/login", "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert 'lang="ar"' in client.get("/login").text


def test_switch_saves_the_choice_on_the_account(client, login_as, db):
    user = login_as("outreach", locale="en")
    client.post("/language", data={"locale": "ar", "next": "/"})
    db.session.expire_all()
    assert user.locale == "ar"


def test_switch_does_not_redirect_off_site(client):
    response = client.post("/language", data={"locale": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_every_page_has_the_language_switch(client, login_as):
    assert 'action="/language"' in client.get("/login").text
    login_as("viewer")
    assert 'action="/language"' in client.get("/").text


def test_syrian_month_names(app):
    with app.test_request_context(), force_locale("ar"):
        assert "كانون الثاني" in format_date(date(2024, 1, 5), "long")
        assert "كانون الأول" in format_date(date(2024, 12, 31), "long")
        assert "تشرين الأول" in format_date(date(2024, 10, 1), "long")


def test_arabic_indic_digits_are_a_choice(app, client, login_as):
    login_as("outreach", locale="ar", digits="arab")
    page = client.get("/account")
    assert "٢" in page.text or "١" in page.text or "٠" in page.text
    with app.test_request_context(), force_locale("ar"):
        assert format_number(1234) == "1,234"  # anonymous: Western digits by default


def test_numbers_in_arabic_indic_digits(app):
    from crm.codes import Role

    with app.test_request_context():
        from flask_babel import force_locale
        from flask_login import login_user

        from crm.auth.models import User

        user = User(
            email="d@example.org",
            name="D",
            role=Role.OUTREACH,
            locale="ar",
            digits="arab",
            active=True,
        )
        user._session_token = "x"
        login_user(user)
        with force_locale("ar"):
            assert format_number(1234) == "١٬٢٣٤"
            assert format_date(date(2024, 1, 5), "long") == "٥ كانون الثاني ٢٠٢٤"


def test_input_accepts_both_digit_systems():
    assert normalize_digits("٢٠٢٤-٠١-٠٥") == "2024-01-05"
    assert normalize_digits("۱۲") == "12"


def test_english_dates_read_day_month_year(app):
    with app.test_request_context(), force_locale("en"):
        assert format_date(date(2024, 1, 5), "long") == "5 January 2024"
