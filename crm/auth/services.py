"""Accounts, sign-in, sessions and throttling: the rules, for views and the CLI."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from crm.audit.services import record
from crm.auth.models import LoginFailure, SetupToken, User, UserSession
from crm.auth.passwords import (
    MAX_LENGTH,
    burn_time,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from crm.codes import Role
from crm.db import utcnow
from crm.errors import PermissionDenied, ValidationError
from crm.extensions import db
from crm.security import Permission, new_token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


# --- accounts ----------------------------------------------------------------------


def _check_email(email: str, *, exclude_id: int | None = None) -> str:
    email = normalize_email(email)
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError({"email": [_l("Enter a valid e-mail address.")]}) from exc
    taken = db.session.execute(
        select(User.id).where(func.lower(User.email) == email, User.id != (exclude_id or 0))
    ).first()
    if taken:
        raise ValidationError({"email": [_l("An account with this e-mail address exists.")]})
    return email


def _password_context(email: str, name: str) -> list[str]:
    from crm.partners.models import Partner

    words = [email.split("@")[0], *email.split("@")[-1].split("."), *name.split()]
    acronyms = db.session.execute(
        select(Partner.acronym).where(Partner.acronym.is_not(None)).limit(5000)
    ).scalars()
    return [*words, *(a for a in acronyms if a)]


def check_new_password(password: str, *, email: str, name: str, field: str = "password") -> None:
    problems = password_problems(password, context=_password_context(email, name))
    if problems:
        raise ValidationError({field: problems})


def create_user(data: Mapping[str, Any], *, actor: User | None) -> User:
    """Create an account. ``actor`` None means the command line or the setup page."""
    if actor is not None and not actor.can(Permission.USERS_MANAGE):
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    name = (data.get("name") or "").strip()
    try:
        email = _check_email(data.get("email") or "")
    except ValidationError as exc:
        errors.update(exc.errors)
        email = normalize_email(data.get("email") or "")
    try:
        role = Role(data.get("role"))
    except ValueError:
        errors["role"] = [_l("Choose a role.")]
        role = Role.VIEWER
    locale = data.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"]
    if locale not in current_app.config["LANGUAGES"]:
        errors["locale"] = [_l("Choose a language.")]
    password = data.get("password") or ""
    try:
        check_new_password(password, email=email, name=name or email)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    user = User(
        email=email,
        name=name or email.split("@")[0],
        role=role,
        locale=locale,
        digits=data.get("digits") or "latn",
        active=True,
        password_hash=hash_password(password),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(user)
    db.session.flush()
    record("user.create", user, actor=actor, details={"role": role.value})
    return user


def update_user(user: User, data: Mapping[str, Any], *, actor: User) -> User:
    """Change name, e-mail, role, language or active flag (administrators only)."""
    if not actor.can(Permission.USERS_MANAGE):
        raise PermissionDenied()
    changes: dict[str, tuple[Any, Any]] = {}
    if "email" in data and normalize_email(data["email"]) != user.email:
        changes["email"] = (user.email, _check_email(data["email"], exclude_id=user.id))
    if "name" in data and (data["name"] or "").strip() != user.name:
        changes["name"] = (user.name, data["name"].strip())
    if "role" in data and Role(data["role"]) != user.role:
        changes["role"] = (user.role, Role(data["role"]))
    if "locale" in data and data["locale"] != user.locale:
        changes["locale"] = (user.locale, data["locale"])
    if "active" in data and bool(data["active"]) != user.active:
        if user.id == actor.id and not data["active"]:
            raise ValidationError({"active": [_l("You cannot deactivate your own account.")]})
        changes["active"] = (user.active, bool(data["active"]))
    if "role" in changes and user.id == actor.id and changes["role"][1] != Role.ADMIN:
        raise ValidationError({"role": [_l("You cannot remove your own administrator role.")]})
    for field, (_old, new) in changes.items():
        setattr(user, field, new)
    if changes:
        record("user.update", user, actor=actor, changes=changes)
    if "active" in changes and not user.active:
        end_all_sessions(user, reason="deactivated", actor=actor)
    return user


def set_password(user: User, new_password: str, *, actor: User | None) -> None:
    """Set a new password; every session of the account ends."""
    if actor is not None and actor.id != user.id and not actor.can(Permission.USERS_MANAGE):
        raise PermissionDenied()
    check_new_password(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    action = "user.password_change" if actor and actor.id == user.id else "user.password_reset"
    record(action, user, actor=actor)
    end_all_sessions(user, reason="password", actor=actor)


def change_own_password(user: User, current: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current):
        raise ValidationError({"current_password": [_l("Your current password is not right.")]})
    set_password(user, new_password, actor=user)


def update_preferences(
    user: User, *, locale: str, digits: str, timezone: str | None = None, keep_zone: bool = False
) -> None:
    """Language, digits and time zone (None or "": the organisation's). With
    ``keep_zone`` the time zone is left as it is."""
    from crm.clock import valid_zone

    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationError({"locale": [_l("Choose a language.")]})
    if digits not in ("latn", "arab"):
        raise ValidationError({"digits": [_l("Choose how numbers are written.")]})
    zone = user.timezone if keep_zone else (timezone or None)
    if zone is not None and not valid_zone(zone):
        raise ValidationError({"timezone": [_l("Choose a time zone from the list.")]})
    changes = {
        name: (getattr(user, name), value)
        for name, value in (("locale", locale), ("digits", digits), ("timezone", zone))
        if getattr(user, name) != value
    }
    user.locale, user.digits, user.timezone = locale, digits, zone
    if changes:
        record("user.preferences", user, actor=user, changes=changes)


# --- throttling --------------------------------------------------------------------


@dataclass(frozen=True)
class Throttle:
    blocked: bool
    retry_minutes: int = 0


def _failure_keys(email: str, address: str | None) -> list[tuple[str, str]]:
    keys = [("account", token_hash("account:" + normalize_email(email)))]
    if address:
        keys.append(("address", token_hash("address:" + address)))
    return keys


def check_throttle(email: str, address: str | None) -> Throttle:
    """Blocked while an account name or an address has too many recent failures.

    Keyed on what was typed, whether or not such an account exists, so the answer
    gives nothing away; and per key only, so nobody can lock out everyone.
    """
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"])
    since = utcnow() - window
    limits = {
        "account": config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        "address": config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
    }
    for scope, key in _failure_keys(email, address):
        count, oldest = db.session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                LoginFailure.scope == scope, LoginFailure.key_hash == key, LoginFailure.at > since
            )
        ).one()
        if count >= limits[scope]:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=since.tzinfo)
            remaining = (oldest + window) - utcnow()
            return Throttle(True, max(1, int(remaining.total_seconds() // 60) + 1))
    return Throttle(False)


def _record_failure(email: str, address: str | None) -> None:
    for scope, key in _failure_keys(email, address):
        db.session.add(LoginFailure(scope=scope, key_hash=key))
    # Old rows are of no use to the throttle; keep the table small.
    cutoff = utcnow() - timedelta(days=1)
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))


def authenticate(email: str, password: str, address: str | None) -> User | None:
    """The user if the e-mail and password match an active account, else None.

    An unknown e-mail, a wrong password and a deactivated account look the same
    from outside, in answer and in time.
    """
    email = normalize_email(email)
    user = db.session.execute(
        select(User).where(func.lower(User.email) == email)
    ).scalar_one_or_none()
    if user is None or len(password) > MAX_LENGTH:
        burn_time(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.active
    if not ok or user is None:
        _record_failure(email, address)
        record(
            "auth.login_failed",
            actor=None,
            object_type="users",
            object_id=user.id if user else None,
        )
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


# --- sessions ----------------------------------------------------------------------


def start_session(user: User) -> str:
    """Open a new server-side session and return the token for the cookie."""
    token = new_token()
    now = utcnow()
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            last_seen_at=now,
            reauthenticated_at=now,
        )
    )
    user._session_token = token
    record("auth.login", user, actor=user)
    return token


def load_session(token: str) -> User | None:
    """The user of a live session, or None if it ended, idled out or grew too old."""
    if not token:
        return None
    row = db.session.execute(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return None
    config = current_app.config
    now = utcnow()
    if now - row.created_at > timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]):
        _end(row, "absolute_timeout")
        return None
    if now - row.last_seen_at > timedelta(minutes=config["SESSION_IDLE_MINUTES"]):
        _end(row, "idle_timeout")
        return None
    user = row.user
    if not user.active:
        _end(row, "deactivated")
        return None
    if now - row.last_seen_at > timedelta(seconds=60):  # one write a minute at most
        row.last_seen_at = now
    user._session_token = token
    g.crm_session = row
    return user


def _end(row: UserSession, reason: str) -> None:
    row.ended_at = utcnow()
    row.end_reason = reason


def end_session(token: str | None, *, reason: str = "logout") -> None:
    if not token:
        return
    row = db.session.execute(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if row is not None and row.ended_at is None:
        _end(row, reason)
        record("auth.logout", row.user, actor=row.user, details={"reason": reason})


def end_all_sessions(user: User, *, reason: str, actor: User | None) -> int:
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    record("auth.sessions_ended", user, actor=actor, details={"reason": reason})
    return int(getattr(result, "rowcount", 0) or 0)


def reauthenticate(user: User, password: str) -> bool:
    """Confirm the password again before a sensitive act (export, erasure…)."""
    row: UserSession | None = g.get("crm_session")
    if row is None or not verify_password(user.password_hash, password):
        record("auth.reauth_failed", user, actor=user)
        return False
    row.reauthenticated_at = utcnow()
    record("auth.reauth", user, actor=user)
    return True


def recently_authenticated(minutes: int | None = None) -> bool:
    row: UserSession | None = g.get("crm_session")
    if row is None:
        return False
    minutes = minutes or current_app.config["REAUTH_MINUTES"]
    return utcnow() - row.reauthenticated_at <= timedelta(minutes=minutes)


# --- first administrator -----------------------------------------------------------


def has_users() -> bool:
    return db.session.execute(select(User.id).limit(1)).first() is not None


def issue_setup_token() -> str | None:
    """A new one-time token for the setup page, if there is no account yet."""
    if has_users():
        return None
    db.session.execute(delete(SetupToken).where(SetupToken.used_at.is_(None)))
    token = new_token()
    db.session.add(SetupToken(token_hash=token_hash(token)))
    return token


def setup_token_valid(token: str) -> bool:
    if has_users():
        return False
    return (
        db.session.execute(
            select(SetupToken.id).where(
                SetupToken.token_hash == token_hash(token), SetupToken.used_at.is_(None)
            )
        ).first()
        is not None
    )


def create_first_admin(token: str, data: Mapping[str, Any]) -> User:
    if not setup_token_valid(token):
        raise PermissionDenied()
    user = create_user({**data, "role": Role.ADMIN.value}, actor=None)
    db.session.execute(
        update(SetupToken).where(SetupToken.used_at.is_(None)).values(used_at=utcnow())
    )
    return user
