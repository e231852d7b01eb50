"""Signing in and out as a user does it, and what an attacker would try."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.auth.models import LoginFailure, UserSession
from crm.db import utcnow
from tests.conftest import TEST_PASSWORD, csrf_token


def sign_in_form(client, email, password=TEST_PASSWORD, next_url=""):
    return client.post("/login", data={"email": email, "password": password, "next": next_url})


def test_sign_in_with_the_right_password_opens_the_home_page(client, make_user, db):
    user = make_user(role="outreach")
    response = sign_in_form(client, user.email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert user.name in page.text
    assert db.session.execute(
        select(UserSession).where(UserSession.user_id == user.id)
    ).scalar_one()
    actions = (
        db.session.execute(select(AuditEntry.action).where(AuditEntry.object_id == user.id))
        .scalars()
        .all()
    )
    assert "auth.login" in actions


def test_unknown_user_and_wrong_password_get_the_same_answer(client, make_user):
    user = make_user()
    wrong = sign_in_form(client, user.email, "not-the-password-at-all")
    unknown = sign_in_form(client, "nobody@example.org", "not-the-password-at-all")
    assert wrong.status_code == unknown.status_code == 200
    assert "The e-mail address or the password is not right." in wrong.text
    strip = lambda text: text.replace(user.email, "").replace("nobody@example.org", "")  # noqa: E731
    assert strip(wrong.text).replace('value=""', "") == strip(unknown.text).replace(
        'value=""', ""
    ) or (wrong.text.count("not right") == unknown.text.count("not right"))


def test_failed_sign_in_is_recorded(client, make_user, db):
    user = make_user()
    sign_in_form(client, user.email, "wrong-password-123")
    failures = db.session.execute(select(LoginFailure)).scalars().all()
    assert {f.scope for f in failures} == {"account", "address"}
    assert user.email not in {f.key_hash for f in failures}  # stored as a hash only
    assert (
        db.session.execute(select(AuditEntry).where(AuditEntry.action == "auth.login_failed"))
        .scalars()
        .first()
    )


def test_deactivated_account_cannot_sign_in(client, make_user):
    user = make_user(active=False)
    response = sign_in_form(client, user.email)
    assert "The e-mail address or the password is not right." in response.text


def test_throttle_per_account_holds_with_the_right_password(app, client, make_user):
    user = make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        sign_in_form(client, user.email, "wrong-password-123")
    response = sign_in_form(client, user.email)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    # The same for an account that does not exist: the throttle gives nothing away.
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        sign_in_form(client, "ghost@example.org", "wrong-password-123")
    assert sign_in_form(client, "ghost@example.org").status_code == 429


def test_throttle_of_one_account_does_not_lock_out_others(app, client, make_user):
    victim, colleague = make_user(), make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        sign_in_form(client, victim.email, "wrong-password-123")
    response = sign_in_form(client, colleague.email)
    assert response.status_code == 302


def test_throttle_is_kept_in_the_database(app, client, make_user, db):
    """Another worker (or a restart) sees the same failures: they are rows."""
    user = make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        sign_in_form(client, user.email, "wrong-password-123")
    other_worker = app.test_client()
    other_worker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert sign_in_form(other_worker, user.email).status_code == 429


def test_session_id_changes_at_sign_in(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    sign_in_form(client, user.email)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_cookie_captured_before_logout_is_refused_after(client, make_user, csrf):
    user = make_user()
    token = csrf_token(client.get("/login").text)
    client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    stolen = client.get_cookie("crm_session").value
    home = client.get("/")
    response = client.post("/logout", data={"csrf_token": csrf_token(home.text)})
    assert response.status_code == 302
    assert "cookies" in response.headers["Clear-Site-Data"]
    client.set_cookie("crm_session", stolen)
    replay = client.get("/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]


def test_logout_needs_post_with_csrf(client, login_as, csrf):
    login_as("viewer")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_idle_timeout_ends_the_session(client, login_as, db):
    user = login_as("viewer")
    row = db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalar_one()
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db.session.flush()
    response = client.get("/")
    assert response.status_code == 302
    db.session.expire_all()
    assert row.ended_at is not None and row.end_reason == "idle_timeout"


def test_absolute_timeout_ends_an_active_session(client, login_as, db):
    user = login_as("viewer")
    row = db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalar_one()
    row.created_at = utcnow() - timedelta(hours=12, minutes=1)
    db.session.flush()
    assert client.get("/").status_code == 302
    db.session.expire_all()
    assert row.end_reason == "absolute_timeout"


def test_deactivation_ends_a_live_session_at_the_next_request(client, login_as, db):
    user = login_as("outreach")
    assert client.get("/").status_code == 200
    user.active = False
    db.session.flush()
    assert client.get("/").status_code == 302


def test_permission_change_applies_at_the_next_request(client, login_as, db):
    user = login_as("admin")
    assert client.get("/admin/users").status_code == 200
    user.role = "viewer"
    db.session.flush()
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "https://evil.example/",
        "/%0d%0aSet-Cookie:x=1",
    ],
)
def test_next_cannot_redirect_off_site(client, make_user, target):
    user = make_user()
    response = sign_in_form(client, user.email, next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/" or (location.startswith("/") and not location.startswith("//"))
    assert "evil" not in location and "javascript" not in location


def test_next_to_a_page_of_the_site_is_followed(client, make_user):
    user = make_user()
    response = sign_in_form(client, user.email, next_url="/account")
    assert response.headers["Location"] == "/account"


def test_password_change_ends_other_sessions(app, client, login_as, db):
    user = login_as("outreach")
    other = app.test_client()
    from tests.conftest import sign_in

    sign_in(other, user)
    assert other.get("/").status_code == 200
    response = client.post(
        "/account/password",
        data={
            "pw-current_password": TEST_PASSWORD,
            "pw-new_password": "Olive-Trees-Near-The-River-7",
            "pw-confirm_password": "Olive-Trees-Near-The-River-7",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this browser signed in afresh
    assert other.get("/").status_code == 302  # the other one is out


def test_weak_new_password_is_refused_next_to_the_field(client, login_as):
    login_as("outreach")
    response = client.post(
        "/account/password",
        data={
            "pw-current_password": TEST_PASSWORD,
            "pw-new_password": "password1234",
            "pw-confirm_password": "password1234",
        },
    )
    assert response.status_code == 422
    assert "This password is too common" in response.text


def test_preferences_change_language_and_digits(client, login_as, db):
    user = login_as("outreach")
    response = client.post(
        "/account/preferences", data={"prefs-locale": "ar", "prefs-digits": "arab"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (user.locale, user.digits) == ("ar", "arab")
    page = client.get("/account")
    assert 'dir="rtl"' in page.text


def test_reauthentication_marks_the_session(client, login_as, db):
    user = login_as("focal_point")
    row = db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalar_one()
    row.reauthenticated_at = utcnow() - timedelta(hours=1)
    db.session.flush()
    bad = client.post(
        "/reauthenticate", data={"password": "wrong-password-123", "next": "/account"}
    )
    assert "The password is not right." in bad.text
    good = client.post("/reauthenticate", data={"password": TEST_PASSWORD, "next": "/account"})
    assert good.headers["Location"] == "/account"
    db.session.expire_all()
    assert utcnow() - row.reauthenticated_at < timedelta(minutes=1)


def test_first_administrator_through_the_setup_token(app, client, db):
    from sqlalchemy import delete

    from crm.auth import services as auth
    from crm.auth.models import User

    if auth.has_users():  # other tests' users are rolled back; be sure
        db.session.execute(delete(User))
    token = auth.issue_setup_token()
    db.session.flush()
    assert client.get("/setup/not-the-token").status_code == 404
    response = client.post(
        f"/setup/{token}",
        data={
            "name": "Rana",
            "email": "rana@example.org",
            "new_password": "Jasmine-Gate-Of-Old-City-9",
            "confirm_password": "Jasmine-Gate-Of-Old-City-9",
        },
    )
    assert response.status_code == 302
    admin = db.session.execute(select(User).where(User.email == "rana@example.org")).scalar_one()
    assert admin.role == "admin"
    # The token works once.
    assert client.get(f"/setup/{token}").status_code == 404
