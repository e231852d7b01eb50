"""Settings: defaults, then instance/config.py, then CRM_* environment variables."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

# Keys that come from the environment as CRM_<NAME>; everything else may be set in
# instance/config.py or passed to create_app().
ENVIRONMENT_SETTINGS = {
    "CRM_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "CRM_SECRET_KEY": "SECRET_KEY",
    "CRM_DATA_KEY": "DATA_KEY",
    "CRM_REDIS_URL": "REDIS_URL",
    "CRM_DEFAULT_LOCALE": "BABEL_DEFAULT_LOCALE",
    "CRM_ALERT_WINDOW_DAYS": "ALERT_WINDOW_DAYS",
    "CRM_MAX_UPLOAD_MB": "MAX_UPLOAD_MB",
    "CRM_BASE_URL": "BASE_URL",
    "CRM_PROXY_COUNT": "PROXY_COUNT",
    "CRM_TIMEZONE": "TIMEZONE",
    # Published figures hide counts of people from 1 to CRM_SUPPRESS_BELOW - 1.
    "CRM_SUPPRESS_BELOW": "SUPPRESS_BELOW",
}

DEFAULTS: dict[str, Any] = {
    "BABEL_DEFAULT_LOCALE": "ar",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    "LANGUAGES": ("ar", "en"),
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SQLALCHEMY_RECORD_QUERIES": False,
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "crm_session",
    "REMEMBER_COOKIE_DURATION": 0,
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "REAUTH_MINUTES": 10,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 30,
    "LOGIN_FAILURE_WINDOW_MINUTES": 15,
    "ALERT_WINDOW_DAYS": 90,
    "MAX_UPLOAD_MB": 20,
    "PAGE_SIZE": 50,
    "BASE_URL": "http://127.0.0.1:5000",
    "PRODUCTION": False,
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted.
    "PROXY_COUNT": 0,
    # The organisation's time zone: what "today" means (a user may choose their own).
    "TIMEZONE": "Europe/Zurich",
    # Counts of 1 to SUPPRESS_BELOW - 1 people are suppressed in published figures
    # (0 or 1: nothing is).
    "SUPPRESS_BELOW": 5,
}


def _read_or_create_key(instance: Path, name: str, *, nbytes: int, warn: str | None) -> str:
    """Return the key stored in instance/<name>, creating it (mode 0600) on first use."""
    path = instance / name
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    if warn:
        log.warning(warn, path)
    return value


def configure(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for env_name, key in ENVIRONMENT_SETTINGS.items():
        if env_name in os.environ:
            app.config[key] = os.environ[env_name]
    if overrides:
        app.config.from_mapping(overrides)

    for key in ("ALERT_WINDOW_DAYS", "MAX_UPLOAD_MB", "PROXY_COUNT", "SUPPRESS_BELOW"):
        app.config[key] = int(app.config[key])
    from crm.clock import valid_zone

    if not valid_zone(app.config.get("TIMEZONE")):
        raise RuntimeError(
            f"CRM_TIMEZONE={app.config.get('TIMEZONE')!r} is not a time zone such as Europe/Zurich"
        )
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_MB"] * 1024 * 1024

    instance = Path(app.instance_path)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'crm.sqlite'}")
    app.config["SECRET_KEY_FROM_FILE"] = not app.config.get("SECRET_KEY")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _read_or_create_key(instance, "secret.key", nbytes=48, warn=None)
    if not app.config.get("DATA_KEY"):
        from crm.crypto import new_key_string

        path = instance / "data.key"
        if path.exists():
            app.config["DATA_KEY"] = path.read_text(encoding="ascii").strip()
        else:
            instance.mkdir(parents=True, exist_ok=True)
            value = new_key_string()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(value + "\n")
            log.warning(
                "A new data encryption key was written to %s. Back it up now: without "
                "it the encrypted identities in the database cannot be read.",
                path,
            )
            app.config["DATA_KEY"] = value
    # Served over HTTPS (behind a TLS proxy): the session cookie never travels in clear.
    if str(app.config["BASE_URL"]).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    else:
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")


PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development", "test"}


def check_production(app: Flask) -> None:
    """Refuse to run in production with debug on or without a real secret key."""
    problems = []
    if app.debug or os.environ.get("FLASK_DEBUG", "").lower() in {"1", "true", "yes"}:
        problems.append("debug mode is on")
    secret = str(app.config.get("SECRET_KEY") or "")
    if app.config.get("SECRET_KEY_FROM_FILE"):
        problems.append("CRM_SECRET_KEY is not set")
    if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 32:
        problems.append("the secret key is a placeholder or shorter than 32 characters")
    if problems:
        raise RuntimeError("Refusing to start in production: " + "; ".join(problems))
