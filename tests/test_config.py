"""Settings, generated keys and the production guard."""

from __future__ import annotations

import os
import stat

import pytest

from crm import create_app
from crm.config import check_production


def _app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
    }
    config.update(overrides)
    return create_app(config)


def test_keys_are_generated_once_with_mode_0600(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)
    monkeypatch.delenv("CRM_DATA_KEY", raising=False)
    first = _app(tmp_path)
    for name in ("secret.key", "data.key"):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode == 0o600, name
    assert "Back it up" in caplog.text
    second = _app(tmp_path)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["DATA_KEY"] == second.config["DATA_KEY"]


def test_environment_settings_win(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite'}")
    monkeypatch.setenv("CRM_REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "s" * 40
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("other.sqlite")
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert not (tmp_path / "secret.key").exists()


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'crm.sqlite'}"


def test_production_refuses_a_generated_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)
    app = _app(tmp_path)
    with pytest.raises(RuntimeError, match="CRM_SECRET_KEY"):
        check_production(app)


def test_production_refuses_a_placeholder_key(tmp_path):
    app = _app(tmp_path, SECRET_KEY="change-me")
    with pytest.raises(RuntimeError, match="placeholder"):
        check_production(app)


def test_production_refuses_debug(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = _app(tmp_path, SECRET_KEY="x" * 48)
    with pytest.raises(RuntimeError, match="debug"):
        check_production(app)


def test_production_starts_with_a_real_key(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    check_production(_app(tmp_path, SECRET_KEY="x" * 48))


def test_wsgi_module_refuses_without_a_key(tmp_path, monkeypatch):
    import importlib
    import sys

    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CRM_DATABASE_URL", "sqlite://")
    sys.modules.pop("wsgi", None)
    with pytest.raises(RuntimeError, match="Refusing to start"):
        importlib.import_module("wsgi")
    sys.modules.pop("wsgi", None)


def test_sqlite_connections_are_configured(app, db):
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    from sqlalchemy import text

    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_session_cookie_is_secure_when_served_over_https(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_BASE_URL", "https://crm.example.org")
    app = _app(tmp_path, SECRET_KEY="x" * 48)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_cookie_flags_on_a_real_response(client, make_user):
    from tests.conftest import TEST_PASSWORD

    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert not any("remember_token" in c for c in response.headers.getlist("Set-Cookie"))


def test_behind_a_proxy_the_client_address_comes_from_its_header(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_PROXY_COUNT", "1")
    app = _app(tmp_path, SECRET_KEY="x" * 48)
    seen = {}

    from crm.security import public

    @app.get("/_probe")
    @public
    def probe():
        from flask import request

        seen["addr"], seen["secure"] = request.remote_addr, request.is_secure
        return ""

    app.test_client().get(
        "/_probe",
        headers={"X-Forwarded-For": "203.0.113.50", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert seen == {"addr": "203.0.113.50", "secure": True}
