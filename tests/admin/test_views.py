"""An administrator manages accounts."""

from __future__ import annotations

from sqlalchemy import select

from crm.auth.models import User, UserSession
from tests.conftest import sign_in


def test_admin_creates_an_account(client, login_as, db):
    login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Lina",
            "email": "Lina@Example.org",
            "role": "focal_point",
            "locale": "ar",
            "password": "Cedar-Window-Blue-Morning-5",
            "active": "y",
        },
    )
    assert response.status_code == 302
    user = db.session.execute(select(User).where(User.email == "lina@example.org")).scalar_one()
    assert user.role == "focal_point" and user.locale == "ar"
    assert "Lina" in client.get("/admin/users").text


def test_invalid_account_keeps_the_input_and_says_why(client, login_as):
    login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Omar",
            "email": "not-an-email",
            "role": "viewer",
            "locale": "en",
            "password": "short",
        },
    )
    assert response.status_code == 200
    assert "Enter a valid e-mail address." in response.text
    assert "Use at least 12 characters." in response.text
    assert 'value="Omar"' in response.text


def test_deactivating_an_account_ends_its_sessions(app, client, login_as, make_user, db):
    login_as("admin")
    target = make_user(role="outreach")
    other = app.test_client()
    sign_in(other, target)
    assert other.get("/").status_code == 200
    response = client.post(
        f"/admin/users/{target.id}",
        data={"name": target.name, "email": target.email, "role": "outreach", "locale": "en"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert target.active is False
    assert other.get("/").status_code == 302
    open_sessions = db.session.execute(
        select(UserSession).where(UserSession.user_id == target.id, UserSession.ended_at.is_(None))
    ).all()
    assert open_sessions == []


def test_admin_resets_a_password_and_ends_all_sessions(app, client, login_as, make_user, db):
    login_as("admin")
    target = make_user()
    other = app.test_client()
    sign_in(other, target)
    response = client.post(
        f"/admin/users/{target.id}/password",
        data={
            "reset-password": "Harbour-Lights-At-Dusk-8",
            "reset-confirm": "Harbour-Lights-At-Dusk-8",
        },
    )
    assert response.status_code == 302
    assert other.get("/").status_code == 302


def test_end_all_sessions_button(app, client, login_as, make_user):
    login_as("admin")
    target = make_user()
    other = app.test_client()
    sign_in(other, target)
    client.post(f"/admin/users/{target.id}/sessions/end")
    assert other.get("/").status_code == 302


def test_admin_cannot_lock_themself_out(client, login_as, db):
    me = login_as("admin")
    response = client.post(
        f"/admin/users/{me.id}",
        data={"name": me.name, "email": me.email, "role": "viewer", "locale": "en", "active": "y"},
    )
    assert response.status_code == 200
    assert "You cannot remove your own administrator role." in response.text
    db.session.expire_all()
    assert me.role == "admin"


def test_other_roles_cannot_manage_accounts(client, login_as, make_user):
    target = make_user()
    for role in ("outreach", "focal_point", "reporting", "viewer"):
        login_as(role)
        assert client.get("/admin/users").status_code == 403
        assert client.post(f"/admin/users/{target.id}/sessions/end").status_code == 403


def test_unknown_account_is_404(client, login_as):
    login_as("admin")
    assert client.get("/admin/users/999999").status_code == 404


def test_account_pages_in_arabic(client, login_as):
    login_as("admin", locale="ar")
    page = client.get("/admin/users")
    assert 'dir="rtl"' in page.text
    assert "الحسابات" in page.text or "حساب" in page.text
