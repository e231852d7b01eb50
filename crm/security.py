"""Who may do what, the deny-by-default gate, safe redirects and response headers."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from crm.codes import Role

F = TypeVar("F", bound=Callable[..., Any])


class Permission(StrEnum):
    PARTNERS_VIEW = "partners.view"
    PARTNERS_EDIT = "partners.edit"
    CONFIDENTIAL_VIEW = "confidential.view"  # confidential records and security notes
    RECORDS_RESTORE = "records.restore"  # bring archived records back
    FRAMEWORKS_VIEW = "frameworks.view"
    FRAMEWORKS_EDIT = "frameworks.edit"
    ENGAGEMENTS_VIEW = "engagements.view"
    ENGAGEMENTS_EDIT = "engagements.edit"
    FOLLOWUPS_VIEW = "followups.view"
    FOLLOWUPS_EDIT = "followups.edit"
    PEOPLE_VIEW = "people.view"  # pseudonymous records: code and anonymous attributes
    PEOPLE_EDIT = "people.edit"
    IDENTITY_VIEW = "people.identity"  # names and contact details, after a stated reason
    CONSENT_OVERRIDE = "people.consent_override"
    REPORTS_VIEW = "reports.view"
    PERIODS_LOCK = "reports.lock"
    INDICATORS_CONFIGURE = "reports.configure"
    EXPORT = "export"  # lists without personal data or confidential records
    EXPORT_PERSONAL = "export.personal"
    IMPORT = "import"
    USERS_MANAGE = "users.manage"
    AUDIT_VIEW = "audit.view"
    API_TOKENS = "api.tokens"


P = Permission
_READ = {P.PARTNERS_VIEW, P.FRAMEWORKS_VIEW, P.ENGAGEMENTS_VIEW, P.REPORTS_VIEW}
_OUTREACH = _READ | {
    P.PARTNERS_EDIT,
    P.CONFIDENTIAL_VIEW,
    P.FRAMEWORKS_EDIT,
    P.ENGAGEMENTS_EDIT,
    P.FOLLOWUPS_VIEW,
    P.FOLLOWUPS_EDIT,
    P.PEOPLE_VIEW,
    P.EXPORT,
    P.IMPORT,
    P.API_TOKENS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # The administrator runs accounts and the archive, and never sees survivors.
    Role.ADMIN: frozenset(
        _OUTREACH | {P.USERS_MANAGE, P.AUDIT_VIEW, P.RECORDS_RESTORE, P.INDICATORS_CONFIGURE}
    ),
    Role.OUTREACH: frozenset(_OUTREACH),
    Role.FOCAL_POINT: frozenset(
        _OUTREACH | {P.PEOPLE_EDIT, P.IDENTITY_VIEW, P.CONSENT_OVERRIDE, P.EXPORT_PERSONAL}
    ),
    Role.REPORTING: frozenset(
        _READ
        | {
            P.CONFIDENTIAL_VIEW,
            P.FOLLOWUPS_VIEW,
            P.FOLLOWUPS_EDIT,
            P.PEOPLE_VIEW,
            P.PERIODS_LOCK,
            P.INDICATORS_CONFIGURE,
            P.EXPORT,
            P.API_TOKENS,
        }
    ),
    Role.VIEWER: frozenset(_READ),
}


def role_can(role: Role | str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(Role(role), frozenset())


# --- the access gate -------------------------------------------------------------

ACCESS_ATTR = "_crm_access"


@dataclass(frozen=True)
class AccessRule:
    kind: str  # "public", "login" or "token" (the API authenticates its own requests)
    permissions: tuple[Permission, ...] = ()


def _mark(rule: AccessRule) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        if hasattr(view, ACCESS_ATTR):
            raise RuntimeError(f"{view.__name__} has two access rules")
        setattr(view, ACCESS_ATTR, rule)
        return view

    return decorate


def public(view: F) -> F:
    """Open to anyone, signed in or not. Keep this list short."""
    return _mark(AccessRule("public"))(view)


def login_only(view: F) -> F:
    """Any signed-in, active user."""
    return _mark(AccessRule("login"))(view)


def require(*permissions: Permission) -> Callable[[F], F]:
    """A signed-in user whose role has every one of ``permissions``."""
    return _mark(AccessRule("login", tuple(permissions)))


def token_auth(*permissions: Permission) -> Callable[[F], F]:
    """Marks an API view that authenticates with a bearer token itself."""
    return _mark(AccessRule("token", tuple(permissions)))


def access_rule(endpoint: str) -> AccessRule | None:
    if endpoint == "static" or endpoint.endswith(".static"):
        return AccessRule("public")
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None)


def enforce_access() -> Any:
    """Deny by default: a view without an access rule answers 403."""
    if request.endpoint is None:  # routing failed; the 404/405 handler answers
        return None
    rule = access_rule(request.endpoint)
    if rule is None:
        current_app.logger.error("no access rule for endpoint %s", request.endpoint)
        abort(403)
    if rule.kind in ("public", "token"):
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not all(current_user.can(p) for p in rule.permissions):
        abort(403)
    return None


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: no scheme, no host, no ``//host`` or ``/\\host``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default_endpoint: str = "main.index") -> str:
    return target if target and is_safe_next(target) else url_for(default_endpoint)


SAFE_LINK_SCHEMES = ("http", "https", "mailto")


def safe_link(url: str | None) -> str | None:
    """A user-supplied link if its scheme is http, https or mailto; otherwise None."""
    if not url:
        return None
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    return url if scheme in SAFE_LINK_SCHEMES else None


# Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069):
# in user text they can reorder what surrounds it and disguise it ("gnp.exe").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NO_BIDI = {ord(ch): None for ch in BIDI_CONTROLS}


def strip_bidi(text: Any) -> Any:
    """``text`` without bidirectional controls, for places that cannot isolate it
    with markup (the page title, file names). Markup stays Markup."""
    if text is None:
        return ""
    if hasattr(text, "__html__"):
        from markupsafe import Markup

        # Already escaped: taking characters out cannot make markup.
        return Markup(str(text.__html__()).translate(_NO_BIDI))  # noqa: S704
    return str(text).translate(_NO_BIDI)


# --- response headers ------------------------------------------------------------

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response: Any) -> Any:
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.endpoint == "static" or (request.endpoint or "").endswith(".static"):
        headers.setdefault("Cache-Control", "public, max-age=3600")
    else:
        # Pages may carry personal data: never keep them in a cache.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def init_security(app: Flask) -> None:
    app.before_request(enforce_access)
    app.after_request(set_security_headers)
    app.jinja_env.globals["safe_link"] = safe_link
    app.jinja_env.filters["strip_bidi"] = strip_bidi
    app.jinja_env.globals["Permission"] = Permission
