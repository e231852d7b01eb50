"""What "today" and "now" mean (domain.md): one place, asked by every rule.

"Today" is the date in the organisation's time zone (setting ``CRM_TIMEZONE``,
default ``Europe/Zurich``), or in the user's own zone when they chose one in their
account: their zone decides what "today" means for the rules they trigger (a held
engagement cannot start in the future, the month a calendar opens on, ...).
Stored times stay UTC; they are shown in the reader's zone.

Dates without a zone (``start_date``, ``signed_on``) are calendar dates and are
never converted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, has_app_context, has_request_context

DEFAULT_TIMEZONE = "Europe/Zurich"


def now_utc() -> datetime:
    """The current instant, UTC-aware. Tests freeze the clock by replacing this."""
    return datetime.now(UTC)


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted (the account page's choices)."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def valid_zone(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def organisation_zone() -> ZoneInfo:
    name = DEFAULT_TIMEZONE
    if has_app_context():
        name = current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE
    return ZoneInfo(name)


def zone_for(user: Any = None) -> ZoneInfo:
    """The user's chosen zone, else the organisation's. Without ``user``: the
    signed-in user of the request, if any."""
    if user is None and has_request_context():
        from flask_login import current_user

        if getattr(current_user, "is_authenticated", False):
            user = current_user
    chosen = getattr(user, "timezone", None) if user is not None else None
    if chosen and valid_zone(chosen):
        return ZoneInfo(chosen)
    return organisation_zone()


def now(user: Any = None) -> datetime:
    """The current instant in the user's (else the organisation's) zone."""
    return now_utc().astimezone(zone_for(user))


def today(user: Any = None) -> date:
    """Today's date in the user's (else the organisation's) zone."""
    return now(user).date()


def local(value: datetime | None, user: Any = None) -> datetime | None:
    """A stored (UTC) time in the reader's zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone_for(user))
