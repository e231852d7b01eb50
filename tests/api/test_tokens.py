"""Managing API tokens in the web interface: own tokens, and an administrator's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crm.api.models import ApiToken
from crm.api.services import hash_token
from crm.audit.models import AuditEntry
from crm.codes import Role


def secret_on(page):
    match = re.search(r'<code class="code token-secret" dir="ltr">([^<]+)</code>', page)
    assert match, "no token on the page"
    return match.group(1)


@pytest.mark.parametrize("role", list(Role))
def test_the_token_page_is_for_roles_with_api_access(client, login_as, role):
    login_as(role)
    response = client.get("/account/api-tokens")
    allowed = role in (Role.ADMIN, Role.OUTREACH, Role.FOCAL_POINT, Role.REPORTING)
    assert response.status_code == (200 if allowed else 403)
    admin_page = client.get("/admin/api-tokens")
    assert admin_page.status_code == (200 if role == Role.ADMIN else 403)


def test_a_token_is_shown_once_and_works(db, client, login_as):
    user = login_as(Role.OUTREACH)
    page = client.post("/account/api-tokens", data={"name": "dashboard", "scope": "read"})
    assert page.status_code == 200
    secret = secret_on(page.text)
    assert "only time the token is shown" in page.text
    stored = db.session.execute(select(ApiToken)).scalar_one()
    assert stored.user_id == user.id and stored.token_hash == hash_token(secret)
    listing = client.get("/account/api-tokens")
    assert secret not in listing.text
    assert stored.prefix in listing.text
    assert (
        client.get("/api/v1/partners", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "api_token.create")
    ).scalar_one()
    assert secret not in entry.details


def test_a_revoked_token_stops_working(db, client, login_as):
    login_as(Role.OUTREACH)
    secret = secret_on(client.post("/account/api-tokens", data={"name": "x", "scope": "read"}).text)
    token = db.session.execute(select(ApiToken)).scalar_one()
    client.post(f"/account/api-tokens/{token.id}/revoke")
    assert (
        client.get("/api/v1/partners", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    assert "Revoked" in client.get("/account/api-tokens").text


def test_nobody_revokes_someone_elses_token_from_their_own_page(db, client, login_as, make_token):
    token, _secret = make_token(Role.OUTREACH)
    login_as(Role.OUTREACH)
    assert client.post(f"/account/api-tokens/{token.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_an_administrator_creates_and_revokes_tokens_for_anyone(db, client, login_as, make_user):
    officer = make_user(role=Role.REPORTING, name="Report Writer")
    login_as(Role.ADMIN)
    page = client.post(
        "/admin/api-tokens",
        data={
            "user_id": officer.id,
            "name": "report bot",
            "scope": "read",
            "expires_on": "2099-01-01",
        },
    )
    assert page.status_code == 400  # more than two years ahead
    page = client.post(
        "/admin/api-tokens", data={"user_id": officer.id, "name": "report bot", "scope": "read"}
    )
    secret_on(page.text)
    token = db.session.execute(select(ApiToken)).scalar_one()
    assert token.user_id == officer.id
    assert "Report Writer" in client.get("/admin/api-tokens").text
    client.post(f"/admin/api-tokens/{token.id}/revoke")
    assert db.session.get(ApiToken, token.id).revoked_at is not None


def test_the_forms_need_their_csrf_token(db, client, login_as, csrf):
    login_as(Role.OUTREACH)
    assert (
        client.post("/account/api-tokens", data={"name": "x", "scope": "read"}).status_code == 400
    )
    assert db.session.execute(select(ApiToken)).first() is None


def test_the_token_page_in_arabic(client, login_as):
    login_as(Role.OUTREACH, locale="ar")
    client.set_language("ar")
    page = client.get("/account/api-tokens")
    assert 'dir="rtl"' in page.text
    assert "مفاتيح" in page.text
