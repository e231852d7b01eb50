"""Personal API tokens: created by their owner or an administrator, shown once,
stored as a SHA-256 hash, scoped to reading or to reading and writing, revocable,
optionally expiring.

What a token may do is the owner's role permissions (as they are at each
request) intersected with the token's scope: a token never does more than its
owner could in the web interface, and never touches survivors' identities,
accounts or exports.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from crm.api.models import ApiToken
from crm.audit.services import record
from crm.auth.models import User
from crm.db import utcnow
from crm.errors import PermissionDenied, ValidationError
from crm.extensions import db
from crm.security import Permission

P = Permission
TOKEN_PREFIX = "crm_"  # noqa: S105 (a marker in front of every token, not a secret)
PREFIX_LENGTH = 12
MAX_TOKENS_PER_USER = 20
MAX_LIFETIME_DAYS = 366 * 2

READ_PERMISSIONS = frozenset(
    {
        P.PARTNERS_VIEW,
        P.FRAMEWORKS_VIEW,
        P.ENGAGEMENTS_VIEW,
        P.REPORTS_VIEW,
        P.CONFIDENTIAL_VIEW,
        P.RECORDS_RESTORE,  # only lets archived records be read, as in the web
    }
)
WRITE_PERMISSIONS = frozenset({P.PARTNERS_EDIT, P.FRAMEWORKS_EDIT, P.ENGAGEMENTS_EDIT})
SCOPES: dict[str, frozenset[Permission]] = {
    "read": READ_PERMISSIONS,
    "read_write": READ_PERMISSIONS | WRITE_PERMISSIONS,
}
SCOPE_LABELS = {"read": _l("Read only"), "read_write": _l("Read and write")}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def can_manage_tokens_of(actor: Any, owner: User) -> bool:
    """An administrator manages anyone's tokens; a user with API access their own."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.can(P.USERS_MANAGE):
        return True
    return actor.id == owner.id and actor.can(P.API_TOKENS)


def _expiry(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(23, 59, 59), tzinfo=UTC)
    else:
        raise ValidationError({"expires_on": [_l("Enter a date as YYYY-MM-DD.")]})
    now = utcnow()
    if moment <= now:
        raise ValidationError({"expires_on": [_l("The expiry date must be in the future.")]})
    if moment > now + timedelta(days=MAX_LIFETIME_DAYS):
        raise ValidationError(
            {"expires_on": [_l("A token lives at most two years; choose an earlier date.")]}
        )
    return moment


def create_token(owner: User, data: Mapping[str, Any], *, actor: Any) -> tuple[ApiToken, str]:
    """Create a token for ``owner``; return it and its secret value, which is shown
    once and never stored. ``actor`` None is the command line (the operator)."""
    if actor is not None and not can_manage_tokens_of(actor, owner):
        raise PermissionDenied()
    errors: dict[str, list[Any]] = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = [_l("Give the token a name, e.g. the script that uses it.")]
    elif len(name) > 100:
        errors["name"] = [_l("At most 100 characters.")]
    scope = data.get("scope") or ""
    if scope not in SCOPES:
        errors["scope"] = [_l("Choose read only, or read and write.")]
    try:
        expires_at = _expiry(data.get("expires_on"))
    except ValidationError as exc:
        errors.update(exc.errors)
        expires_at = None
    live = db.session.execute(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == owner.id, ApiToken.revoked_at.is_(None))
    ).scalar_one()
    if live >= MAX_TOKENS_PER_USER:
        errors[""] = [_l("This account has too many tokens; revoke one first.")]
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=owner.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=hash_token(secret),
        scope=scope,
        created_by_id=getattr(actor, "id", None),
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    record(
        "api_token.create",
        token,
        actor=actor,
        details={"user_id": owner.id, "scope": scope, "expires_at": expires_at},
    )
    return token, secret


def revoke_token(token: ApiToken, *, actor: Any) -> None:
    owner = db.session.get(User, token.user_id)
    if owner is None or (actor is not None and not can_manage_tokens_of(actor, owner)):
        raise PermissionDenied()
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    record("api_token.revoke", token, actor=actor, details={"user_id": token.user_id})


def tokens_of(owner: User) -> list[ApiToken]:
    return list(
        db.session.execute(
            select(ApiToken)
            .where(ApiToken.user_id == owner.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        ).scalars()
    )


def all_tokens(*, actor: Any, include_revoked: bool = False) -> list[tuple[ApiToken, User]]:
    if not actor.can(P.USERS_MANAGE):
        raise PermissionDenied()
    stmt = select(ApiToken, User).join(User, User.id == ApiToken.user_id)
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    stmt = stmt.order_by(User.name, ApiToken.created_at.desc()).limit(1000)
    return [(t, u) for t, u in db.session.execute(stmt).all()]


def token_status(token: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``."""
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def authenticate(secret: str | None) -> tuple[ApiToken, User] | None:
    """The live token with this secret and its active owner, or None. Marks the
    token as used (at most one write a minute)."""
    if not secret or len(secret) > 200:
        return None
    found = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(secret))
    ).first()
    if found is None:
        return None
    token, user = found
    now = utcnow()
    if token_status(token, now) != "active" or not user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token, user


class TokenActor:
    """The token's owner as services see them: the same user, whose ``can`` is
    narrowed to the token's scope."""

    def __init__(self, user: User, token: ApiToken):
        self._user = user
        self.token = token
        self.scope_permissions = SCOPES.get(token.scope, frozenset())

    @property
    def user(self) -> User:
        return self._user

    def can(self, permission: Permission) -> bool:
        return permission in self.scope_permissions and self._user.can(permission)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._user, name)

    def __eq__(self, other: object) -> bool:
        other_user = other._user if isinstance(other, TokenActor) else other
        return self._user is other_user or (
            isinstance(other_user, User) and other_user.id == self._user.id
        )

    def __hash__(self) -> int:
        return hash(("user", self._user.id))

    def __repr__(self) -> str:
        return f"<TokenActor user={self._user.id} token={self.token.id}>"
