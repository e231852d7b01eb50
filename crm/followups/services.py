"""Follow-ups: actions owed on an engagement, a person, a framework or a partner.

Data mappings use the keys ``title``, ``description``, ``due_on`` (a date or
YYYY-MM-DD), ``assignee_id``, ``status`` (``open``, ``done``, ``cancelled``) and,
on creation only, one of ``engagement_id``, ``person_id``, ``framework_id`` or
``partner_id`` (the record it is about), and ``auto_key`` for follow-ups the system
raises (one per key: raising it again returns the existing one).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, false, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from crm.audit.services import record
from crm.auth.models import User
from crm.codes import FollowUpStatus
from crm.db import utcnow
from crm.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm.extensions import db
from crm.followups.models import FollowUp
from crm.i18n import normalize_digits
from crm.security import Permission

# "Due soon": due today or within this many days.
DUE_SOON_DAYS = 14
SUBJECT_FIELDS = ("engagement_id", "person_id", "framework_id", "partner_id")
EDITABLE_FIELDS = ("title", "description", "due_on", "assignee_id", "status")


def _subject_models() -> dict[str, Any]:
    from crm.engagements.models import Engagement
    from crm.frameworks.models import Framework
    from crm.partners.models import Partner
    from crm.people.models import Person

    return {
        "engagement_id": Engagement,
        "person_id": Person,
        "framework_id": Framework,
        "partner_id": Partner,
    }


# --- access --------------------------------------------------------------------------


def get_follow_up(follow_up_id: int, *, actor: Any) -> FollowUp:
    """The follow-up, or NotFound if missing or outside the actor's reach (the record
    it is about decides: a confidential partner, a person, an archived record)."""
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None or not follow_up.can_view(actor):
        raise NotFound()
    return follow_up


def visible_condition(user: Any) -> ColumnElement[bool]:
    """SQL for "``user`` may see this follow-up", for lists and counts.

    Follow-ups about an archived record are left out, as their record is.
    """
    from crm.engagements.models import Engagement
    from crm.frameworks.models import Framework
    from crm.partners.models import Partner
    from crm.people.models import Person

    if not user.can(Permission.FOLLOWUPS_VIEW):
        return false()
    confidential_ok = true() if user.can(Permission.CONFIDENTIAL_VIEW) else None

    def reachable(column: Any, model: Any, permission: Permission, confidential: bool) -> Any:
        if not user.can(permission):
            return column.is_(None)
        live = select(model.id).where(model.archived_at.is_(None))
        if confidential and confidential_ok is None:
            live = live.where(model.confidential.is_(False))
        return or_(column.is_(None), column.in_(live))

    return and_(
        FollowUp.archived_at.is_(None),
        reachable(FollowUp.engagement_id, Engagement, Permission.ENGAGEMENTS_VIEW, False),
        reachable(FollowUp.person_id, Person, Permission.PEOPLE_VIEW, False),
        reachable(FollowUp.framework_id, Framework, Permission.FRAMEWORKS_VIEW, True),
        reachable(FollowUp.partner_id, Partner, Permission.PARTNERS_VIEW, True),
    )


# --- reading values ------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    return int(normalize_digits(str(value)).strip())


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(normalize_digits(str(value)).strip())


class _Cleaner:
    def __init__(self, data: Mapping[str, Any], follow_up: FollowUp | None, actor: Any):
        self.data = data
        self.follow_up = follow_up
        self.actor = actor
        self.errors: dict[str, list[Any]] = {}
        self.values: dict[str, Any] = {}

    def error(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, []).append(message)

    def given(self, field: str) -> bool:
        return self.follow_up is None or field in self.data

    def clean(self, subject: Any) -> None:
        allowed = set(EDITABLE_FIELDS)
        if self.follow_up is None:
            allowed |= {*SUBJECT_FIELDS, "auto_key"}
        for field in sorted(set(self.data) - allowed):
            self.error(field, _l("Unknown field."))
        if self.given("title"):
            title = _text(self.data.get("title"))
            if title is None:
                self.error("title", _l("Say what needs to be done."))
            elif len(title) > 300:
                self.error("title", _l("Use at most %(max)s characters.", max=300))
            self.values["title"] = title
        if self.given("description"):
            description = _text(self.data.get("description"))
            if description and len(description) > 20_000:
                self.error("description", _l("Use at most %(max)s characters.", max=20_000))
            self.values["description"] = description
        if self.given("due_on"):
            try:
                self.values["due_on"] = _date(self.data.get("due_on"))
            except (TypeError, ValueError):
                self.error("due_on", _l("Enter a date as YYYY-MM-DD."))
        if self.given("status"):
            raw = self.data.get("status")
            if raw is None or raw == "":
                self.values["status"] = FollowUpStatus.OPEN
            elif isinstance(raw, FollowUpStatus) or raw in FollowUpStatus.values():
                self.values["status"] = FollowUpStatus(raw)
            else:
                self.error("status", _l("Choose a value from the list."))
        if self.given("assignee_id"):
            self._assignee(subject)

    def _assignee(self, subject: Any) -> None:
        raw = self.data.get("assignee_id")
        if (raw is None or raw == "") and self.follow_up is None:
            raw = getattr(self.actor, "id", None)
        try:
            user_id = _int(raw)
        except (TypeError, ValueError):
            self.error("assignee_id", _l("Choose a person from the list."))
            return
        if user_id is None:
            self.values["assignee_id"] = None
            return
        user = db.session.get(User, user_id)
        if user is None or not user.active or not user.can(Permission.FOLLOWUPS_VIEW):
            self.error("assignee_id", _l("Choose a person from the list."))
        elif subject is not None and not subject.can_view(user):
            self.error(
                "assignee_id", _l("This person cannot see the record the follow-up is about.")
            )
        else:
            self.values["assignee_id"] = user.id


def resolve_subject(data: Mapping[str, Any], actor: Any) -> tuple[str | None, Any]:
    """The record a new follow-up is about: (field, record), NotFound outside reach."""
    models = _subject_models()
    given = [f for f in SUBJECT_FIELDS if data.get(f) not in (None, "")]
    if len(given) > 1:
        raise ValidationError({"": [_l("A follow-up is about one record only.")]})
    if not given:
        return None, None
    field = given[0]
    try:
        record_id = _int(data[field])
    except (TypeError, ValueError) as exc:
        raise NotFound() from exc
    subject = db.session.get(models[field], record_id)
    if subject is None or (actor is not None and not subject.can_view(actor)):
        raise NotFound()
    if subject.archived_at is not None:
        raise ValidationError({"": [_l("This record is archived.")]})
    return field, subject


def _check_version(follow_up: FollowUp, version: Any) -> None:
    if version is None or version == "":
        return
    try:
        given = int(version)
    except (TypeError, ValueError):
        given = -1
    if given != follow_up.version:
        raise ConflictError(current=follow_up)


def _set_status(follow_up: FollowUp, status: FollowUpStatus) -> None:
    if status == FollowUpStatus.DONE and follow_up.status != FollowUpStatus.DONE:
        follow_up.completed_at = utcnow()
    elif status != FollowUpStatus.DONE:
        follow_up.completed_at = None
    follow_up.status = status


def check_follow_up(
    data: Mapping[str, Any],
    *,
    actor: Any,
    follow_up: FollowUp | None = None,
    subject: Any = None,
) -> dict[str, list[Any]]:
    """Every rule ``data`` breaks, without changing anything."""
    cleaner = _Cleaner(data, follow_up, actor)
    cleaner.clean(follow_up.subject if follow_up is not None else subject)
    return cleaner.errors


# --- changing records ----------------------------------------------------------------


def create_follow_up(data: Mapping[str, Any], *, actor: Any) -> FollowUp:
    """Record an action owed, by default assigned to ``actor``.

    ``actor`` None means the system (e.g. a framework near expiry).
    """
    if actor is not None and not actor.can(Permission.FOLLOWUPS_EDIT):
        raise PermissionDenied()
    auto_key = _text(data.get("auto_key"))
    if auto_key:
        existing = db.session.execute(
            select(FollowUp).where(FollowUp.auto_key == auto_key)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    field, subject = resolve_subject(data, actor)
    cleaner = _Cleaner(data, None, actor)
    cleaner.clean(subject)
    if cleaner.errors:
        raise ValidationError(cleaner.errors)
    follow_up = FollowUp(
        created_by_id=getattr(actor, "id", None),
        auto_key=auto_key,
        status=FollowUpStatus.OPEN,
    )
    if field:
        setattr(follow_up, field, subject.id)
    status = cleaner.values.pop("status", FollowUpStatus.OPEN)
    for name, value in cleaner.values.items():
        setattr(follow_up, name, value)
    _set_status(follow_up, status)
    db.session.add(follow_up)
    db.session.flush()
    changes = {
        k: (None, getattr(follow_up, k))
        for k in (*EDITABLE_FIELDS, *SUBJECT_FIELDS)
        if getattr(follow_up, k) is not None
    }
    record("follow_up.create", follow_up, actor=actor, changes=changes)
    return follow_up


def update_follow_up(
    follow_up: FollowUp, data: Mapping[str, Any], *, actor: Any, version: int | None = None
) -> FollowUp:
    """Change the title, description, due date, assignee or status."""
    if actor is not None and not follow_up.can_edit(actor):
        raise NotFound() if not follow_up.can_view(actor) else PermissionDenied()
    cleaner = _Cleaner(data, follow_up, actor)
    cleaner.clean(follow_up.subject)
    if cleaner.errors:
        raise ValidationError(cleaner.errors)
    _check_version(follow_up, version)
    before = {k: getattr(follow_up, k) for k in EDITABLE_FIELDS}
    if "status" in cleaner.values:
        _set_status(follow_up, cleaner.values.pop("status"))
    for name, value in cleaner.values.items():
        setattr(follow_up, name, value)
    changes = {
        k: (old, getattr(follow_up, k)) for k, old in before.items() if getattr(follow_up, k) != old
    }
    if changes:
        db.session.flush()
        record("follow_up.update", follow_up, actor=actor, changes=changes)
    return follow_up


def complete_follow_up(follow_up: FollowUp, *, actor: Any, version: int | None = None) -> FollowUp:
    """Mark the follow-up done (doing it twice changes nothing)."""
    if actor is not None and not follow_up.can_edit(actor):
        raise NotFound() if not follow_up.can_view(actor) else PermissionDenied()
    _check_version(follow_up, version)
    if follow_up.status != FollowUpStatus.DONE:
        old = follow_up.status
        _set_status(follow_up, FollowUpStatus.DONE)
        db.session.flush()
        record(
            "follow_up.complete",
            follow_up,
            actor=actor,
            changes={"status": (old, follow_up.status)},
        )
    return follow_up


# --- lists and counts ----------------------------------------------------------------


def _mine(user: Any) -> Any:
    return (
        select(FollowUp)
        .where(FollowUp.assignee_id == user.id)
        .where(FollowUp.status == FollowUpStatus.OPEN)
        .where(visible_condition(user))
    )


def my_follow_ups(user: Any, today: date, *, limit: int = 100) -> dict[str, list[FollowUp]]:
    """The open follow-ups assigned to ``user``: ``overdue`` (due before today),
    ``due_soon`` (today to 14 days ahead) and ``later`` (after that, or with no due
    date), each soonest first and at most ``limit`` long."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    base = _mine(user)
    groups = {
        "overdue": base.where(FollowUp.due_on < today).order_by(FollowUp.due_on, FollowUp.id),
        "due_soon": base.where(FollowUp.due_on >= today, FollowUp.due_on <= soon).order_by(
            FollowUp.due_on, FollowUp.id
        ),
        "later": base.where(or_(FollowUp.due_on > soon, FollowUp.due_on.is_(None))).order_by(
            FollowUp.due_on.is_(None), FollowUp.due_on, FollowUp.id
        ),
    }
    return {
        name: list(db.session.execute(stmt.limit(limit)).scalars()) for name, stmt in groups.items()
    }


def follow_up_counts(user: Any, today: date) -> dict[str, int]:
    """How many open follow-ups ``user`` has: ``overdue``, ``due_soon``, ``later``
    and ``open`` (all three), for the dashboard and the navigation."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    subquery = _mine(user).with_only_columns(FollowUp.due_on).subquery()
    due = subquery.c.due_on
    row = db.session.execute(
        select(
            func.count(),
            func.sum(case((due < today, 1), else_=0)),
            func.sum(case((and_(due >= today, due <= soon), 1), else_=0)),
        ).select_from(subquery)
    ).one()
    total, overdue, due_soon = (int(v or 0) for v in row)
    return {
        "overdue": overdue,
        "due_soon": due_soon,
        "later": total - overdue - due_soon,
        "open": total,
    }


def follow_ups_for(subject: Any, *, actor: Any, limit: int = 100) -> list[FollowUp]:
    """The follow-ups about one record that ``actor`` may see: open ones first,
    soonest due first. Empty without FOLLOWUPS_VIEW."""
    if not actor.can(Permission.FOLLOWUPS_VIEW):
        return []
    field = {
        "engagements": "engagement_id",
        "people": "person_id",
        "frameworks": "framework_id",
        "partners": "partner_id",
    }[subject.__tablename__]
    stmt = (
        select(FollowUp)
        .where(getattr(FollowUp, field) == subject.id)
        .where(FollowUp.archived_at.is_(None))
        .order_by(
            (FollowUp.status != FollowUpStatus.OPEN),
            FollowUp.due_on.is_(None),
            FollowUp.due_on,
            FollowUp.id,
        )
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def assignable_users(subject: Any = None) -> list[User]:
    """Active users who may hold a follow-up about ``subject``, by name."""
    users = db.session.execute(
        select(User).where(User.active.is_(True)).order_by(User.name, User.id).limit(2000)
    ).scalars()
    return [
        u
        for u in users
        if u.can(Permission.FOLLOWUPS_VIEW) and (subject is None or subject.can_view(u))
    ]
