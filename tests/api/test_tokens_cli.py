"""`crm tokens create` and `crm tokens revoke` as interfaces.md describes them."""

from __future__ import annotations

import json
from datetime import timedelta

from crm.api.models import ApiToken
from crm.audit.models import AuditEntry
from crm.db import utcnow
from crm.extensions import db


def test_create_prints_the_token_alone_and_it_opens_the_api(runner, make_user, client):
    user = make_user(role="reporting")
    db.session.commit()
    result = runner.invoke(
        args=["tokens", "create", user.email.upper(), "--name", "Nightly figures", "--days", "30"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n"  # alone on standard output, for scripts
    assert secret.startswith("crm_")
    assert "Nightly figures" in result.stderr
    token = db.session.query(ApiToken).one()
    assert token.user_id == user.id and token.scope == "read"
    assert token.expires_at - utcnow() < timedelta(days=31)
    assert secret not in (token.token_hash, token.prefix)
    response = client.get(
        "/api/v1/outcome3?year=2024", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    entry = db.session.query(AuditEntry).filter_by(action="api_token.create").one()
    assert json.loads(entry.details)["user_id"] == user.id


def test_write_scope_and_revoke(runner, make_user, client):
    user = make_user(role="outreach")
    db.session.commit()
    result = runner.invoke(
        args=["tokens", "create", user.email, "--name", "Sync", "--scope", "write"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert db.session.query(ApiToken).one().scope == "read_write"
    revoked = runner.invoke(args=["tokens", "revoke", user.email, "--name", "Sync"])
    assert revoked.exit_code == 0, revoked.output
    db.session.expire_all()
    assert db.session.query(ApiToken).one().revoked_at is not None
    response = client.get("/api/v1/partners", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert db.session.query(AuditEntry).filter_by(action="api_token.revoke").count() == 1
    again = runner.invoke(args=["tokens", "revoke", user.email, "--name", "Sync"])
    assert again.exit_code == 1
    assert "No live token" in again.stderr


def test_revoke_by_prefix_or_every_token(runner, make_user):
    user = make_user(role="reporting")
    db.session.commit()
    first = runner.invoke(args=["tokens", "create", user.email, "--name", "A"]).stdout.strip()
    runner.invoke(args=["tokens", "create", user.email, "--name", "B"])
    runner.invoke(args=["tokens", "create", user.email, "--name", "C"])
    assert runner.invoke(args=["tokens", "revoke", "--prefix", first[:12]]).exit_code == 0
    result = runner.invoke(args=["tokens", "revoke", user.email, "--all"])
    assert result.exit_code == 0
    assert "2 tokens" in result.stderr
    db.session.expire_all()
    assert all(t.revoked_at is not None for t in db.session.query(ApiToken))


def test_refusals_exit_1_and_usage_2(runner, make_user):
    unknown = runner.invoke(args=["tokens", "create", "nobody@example.org", "--name", "x"])
    assert unknown.exit_code == 1
    assert "nobody@example.org" in unknown.stderr and unknown.stdout == ""
    disabled = make_user(role="reporting", active=False)
    db.session.commit()
    refused = runner.invoke(args=["tokens", "create", disabled.email, "--name", "x"])
    assert refused.exit_code == 1 and refused.stdout == ""
    arabic = runner.invoke(
        args=["tokens", "create", "nobody@example.org", "--name", "x"], env={"CRM_LANG": "ar"}
    )
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic.stderr)
    assert runner.invoke(args=["tokens", "create", "a@example.org"]).exit_code == 2  # no --name
    assert (
        runner.invoke(
            args=["tokens", "create", "a@example.org", "--name", "x", "--scope", "admin"]
        ).exit_code
        == 2
    )
    assert runner.invoke(args=["tokens", "revoke"]).exit_code == 2
    assert runner.invoke(args=["tokens", "revoke", "a@example.org"]).exit_code == 2
    assert db.session.query(ApiToken).count() == 0
