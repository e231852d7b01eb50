"""Accounts, their sessions, and the records that throttle sign-in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.codes import Role, code_enum
from crm.db import TimestampMixin, UTCDateTime, utcnow
from crm.extensions import db
from crm.security import Permission, role_can


class User(TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(code_enum(Role))
    locale: Mapped[str] = mapped_column(String(8), default="ar")
    digits: Mapped[str] = mapped_column(String(8), default="latn")
    # An IANA zone (Asia/Damascus) the user chose; None: the organisation's zone.
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Second factor (its own issue): the TOTP secret, encrypted, and when it was set.
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login: the id in the cookie is the session token, not the user id, so
    # ending a session server-side makes the cookie worthless.
    _session_token = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self._session_token

    def can(self, permission: Permission) -> bool:
        return self.active and role_can(self.role, permission)

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class UserSession(db.Model):
    """A signed-in browser. The cookie holds a random token; the table its hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reauthenticated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginFailure(db.Model):
    """One failed sign-in, keyed by a hash of the account name or of the address.

    Kept in the database so throttling holds across workers and restarts.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_scope_key_at", "scope", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # "account" or "address"
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SetupToken(db.Model):
    """The one-time token that creates the first administrator."""

    __tablename__ = "setup_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
