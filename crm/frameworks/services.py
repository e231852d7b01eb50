"""The rules for cooperation frameworks: lifecycle, amendments, documents and alerts.

Callers give a mapping of field name -> value (see ``FRAMEWORK_FIELDS``); values
may be typed or plain text, as for partners (``crm.partners.services``). An update
changes only the fields it is given.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, false, select
from sqlalchemy.orm import Session

from crm import clock
from crm.audit.services import record
from crm.auth.models import User
from crm.codes import (
    CONCLUDED_STATUSES,
    AmendmentKind,
    FollowUpStatus,
    FrameworkStatus,
    Instrument,
)
from crm.db import utcnow
from crm.errors import NotFound, PermissionDenied, ValidationError
from crm.extensions import db
from crm.followups.models import FollowUp
from crm.frameworks.models import Framework, FrameworkDocument, FrameworkPartner
from crm.i18n import format_date
from crm.listing import count_rows
from crm.partners import values as v
from crm.partners.models import Partner
from crm.partners.records import check_version, has_control_characters, next_ref, touch_and_flush
from crm.partners.services import MSG_YES_NO, can_see_confidential, check_ref, read_fields
from crm.reports import counting
from crm.search import matches, search_text
from crm.security import Permission

REF_PREFIX = "F"

FRAMEWORK_FIELDS: dict[str, Any] = {
    "ref": _l("Reference"),
    "title_ar": _l("Title in Arabic"),
    "title_en": _l("Title in English"),
    "instrument": _l("Instrument"),
    "partner_ids": _l("Counterparts"),
    "purposes": _l("Purposes"),
    "status": _l("Status"),
    "signed_on": _l("Signed on"),
    "in_force_from": _l("In force from"),
    "expires_on": _l("Expires on"),
    "terminated_on": _l("Terminated on"),
    "next_review_on": _l("Next review"),
    "amends_id": _l("Amends"),
    "amendment_kind": _l("Kind of amendment"),
    "confidential": _l("Confidential"),
    "responsible_id": _l("Responsible staff member"),
    "notes": _l("Notes"),
}
MAX_LENGTHS = {"ref": 64, "title_en": 500, "title_ar": 500, "purposes": 20000, "notes": 20000}

MSG_TITLE = _l("Enter the title in Arabic or in English (at least one).")
MSG_INSTRUMENT = _l("Choose an instrument from the list.")
MSG_STATUS = _l("Choose a status from the list.")
MSG_DATE = _l("Enter a date as YYYY-MM-DD.")
MSG_PARTNERS = _l("Choose at least one counterpart.")
MSG_PARTNER_UNKNOWN = _l("A counterpart was not found among the partners.")
MSG_SIGNED = _l(
    "A framework in force, suspended, expired or terminated needs its date of signature."
)
MSG_TERMINATED = _l("A terminated framework needs its date of termination.")
MSG_TERMINATED_ORDER = _l("The date of termination cannot be before the date of signature.")
MSG_EXPIRES_ORDER = _l("The expiry date cannot be before the date of signature.")
MSG_IN_FORCE_ORDER = _l("Entry into force cannot be before the date of signature.")
MSG_EXPIRES_IN_FORCE_ORDER = _l("The expiry date cannot be before entry into force.")
MSG_AMENDS = _l(
    "An amendment must point at a concluded framework: in force, suspended, expired "
    "or terminated, signed, and not itself an amendment."
)
MSG_AMENDS_SELF = _l("A framework cannot amend itself.")
MSG_AMENDS_HAS_AMENDMENTS = _l(
    "This framework has amendments of its own, so it cannot amend another."
)
MSG_KIND_REQUIRED = _l("Choose the kind: amendment, addendum, renewal or extension.")
MSG_KIND_WITHOUT_AMENDS = _l("Only an amendment has a kind; say which framework it amends.")
MSG_KEEP_CONCLUDED = _l(
    "This framework has amendments, which must point at a concluded framework: keep it "
    "in force, suspended, expired or terminated."
)
MSG_RESPONSIBLE = _l("Choose an active staff member.")
MSG_NUMBER = _l("Enter a whole number.")


# --- reading and checking --------------------------------------------------------


def _ids(value: Any) -> list[int]:
    ids: list[int] = []
    for item in v.to_list(value):
        item_id = getattr(item, "id", item)
        number = v.to_int(item_id)
        if number is not None and number not in ids:
            ids.append(number)
    return ids


_READERS: dict[str, tuple[Any, Any]] = {
    "ref": (v.text, None),
    "title_en": (v.text, None),
    "title_ar": (v.text, None),
    "instrument": (lambda value: v.to_code(Instrument, value), MSG_INSTRUMENT),
    "partner_ids": (_ids, MSG_PARTNER_UNKNOWN),
    "purposes": (v.text, None),
    "status": (lambda value: v.to_code(FrameworkStatus, value), MSG_STATUS),
    "signed_on": (v.to_date, MSG_DATE),
    "in_force_from": (v.to_date, MSG_DATE),
    "expires_on": (v.to_date, MSG_DATE),
    "terminated_on": (v.to_date, MSG_DATE),
    "next_review_on": (v.to_date, MSG_DATE),
    "amends_id": (v.to_int, MSG_NUMBER),
    "amendment_kind": (lambda value: v.to_code(AmendmentKind, value), MSG_KIND_REQUIRED),
    "confidential": (v.to_bool, MSG_YES_NO),
    "responsible_id": (v.to_int, MSG_RESPONSIBLE),
    "notes": (v.text, None),
}


def _add(errors: dict[str, list[Any]], name: str, message: Any) -> None:
    if name not in errors:
        errors[name] = [message]


def _validate(
    data: Mapping[str, Any], *, framework: Framework | None, actor: Any
) -> dict[str, Any]:
    values, errors = read_fields(data, _READERS)
    for name, limit in MAX_LENGTHS.items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit and name not in errors:
            errors[name] = [_l("This is too long: at most %(max)s characters.", max=limit)]
    if not can_see_confidential(actor) and values.get("confidential"):
        raise PermissionDenied()
    if not can_see_confidential(actor):
        values.pop("confidential", None)
    if framework is not None and "ref" in values and values["ref"] is None:
        values.pop("ref")

    def final(name: str) -> Any:
        if name in values:
            return values[name]
        if framework is None:
            return None
        if name == "partner_ids":
            return [p.id for p in framework.partners]
        return getattr(framework, name)

    if not final("title_en") and not final("title_ar"):
        _add(errors, "title_en", MSG_TITLE)
        _add(errors, "title_ar", MSG_TITLE)
    if final("instrument") is None:
        _add(errors, "instrument", MSG_INSTRUMENT)
    status = final("status")
    if status is None:
        _add(errors, "status", MSG_STATUS)

    # Counterparts: one or more partners the actor can see.
    if "partner_ids" in values or framework is None:
        ids = values.get("partner_ids") or []
        if not ids:
            _add(errors, "partner_ids", MSG_PARTNERS)
        else:
            found = {
                p.id: p
                for p in db.session.execute(select(Partner).where(Partner.id.in_(ids))).scalars()
            }
            if any(
                i not in found or not found[i].can_view(actor) or found[i].is_archived for i in ids
            ):
                _add(errors, "partner_ids", MSG_PARTNER_UNKNOWN)
            else:
                values["partners"] = [found[i] for i in ids]

    # The lifecycle: the rules that keep the figures honest.
    signed_on = final("signed_on")
    in_force_from = final("in_force_from")
    expires_on = final("expires_on")
    terminated_on = final("terminated_on")
    if status in CONCLUDED_STATUSES and signed_on is None:
        _add(errors, "signed_on", MSG_SIGNED)
    if status == FrameworkStatus.TERMINATED and terminated_on is None:
        _add(errors, "terminated_on", MSG_TERMINATED)
    if signed_on and terminated_on and terminated_on < signed_on:
        _add(errors, "terminated_on", MSG_TERMINATED_ORDER)
    if signed_on and expires_on and expires_on < signed_on:
        _add(errors, "expires_on", MSG_EXPIRES_ORDER)
    if signed_on and in_force_from and in_force_from < signed_on:
        _add(errors, "in_force_from", MSG_IN_FORCE_ORDER)
    if in_force_from and expires_on and expires_on < in_force_from:
        _add(errors, "expires_on", MSG_EXPIRES_IN_FORCE_ORDER)

    # Amendments point at a concluded framework and have a kind.
    amends_id = final("amends_id")
    kind = final("amendment_kind")
    if amends_id is not None:
        target = db.session.get(Framework, amends_id)
        if framework is not None and amends_id == framework.id:
            _add(errors, "amends_id", MSG_AMENDS_SELF)
        elif (
            target is None or not target.can_view(actor) or not counting.framework_counts(target.id)
        ):
            _add(errors, "amends_id", MSG_AMENDS)
        elif framework is not None and framework.amendments:
            _add(errors, "amends_id", MSG_AMENDS_HAS_AMENDMENTS)
        if kind is None:
            _add(errors, "amendment_kind", MSG_KIND_REQUIRED)
    elif kind is not None:
        _add(errors, "amendment_kind", MSG_KIND_WITHOUT_AMENDS)
    if (
        framework is not None
        and "status" in values
        and status not in CONCLUDED_STATUSES
        and any(not a.is_archived for a in framework.amendments)
    ):
        _add(errors, "status", MSG_KEEP_CONCLUDED)

    if "responsible_id" in values and values["responsible_id"] is not None:
        user = db.session.get(User, values["responsible_id"])
        if user is None or not user.active:
            _add(errors, "responsible_id", MSG_RESPONSIBLE)

    check_ref(values, errors, Framework, framework.id if framework else None)
    if errors:
        raise ValidationError(errors)
    return values


def _apply(framework: Framework, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in values.items():
        if name == "partner_ids":
            continue
        if name == "partners":
            old = sorted(p.id for p in framework.partners)
            new = sorted(p.id for p in value)
            if old != new:
                changes["partner_ids"] = (old, new)
                framework.partners = list(value)
            continue
        old = getattr(framework, name)
        if old != value:
            changes[name] = (old, value)
            setattr(framework, name, value)
    framework.search_text = search_text(framework.title_en, framework.title_ar, framework.ref)
    return changes


# --- what a change does ------------------------------------------------------------

# Fields the Outcome 3 figures read (domain.md): changing one is shown before saving.
FIGURE_FIELDS = (
    "status",
    "instrument",
    "signed_on",
    "in_force_from",
    "expires_on",
    "terminated_on",
    "amends_id",
    "amendment_kind",
)


def figure_changes(framework: Framework | None, data: Mapping[str, Any], *, show: Any) -> list[Any]:
    """The changes of ``data`` to ``framework`` that the confirmation step shows:
    fields a figure reads, and counterparts removed (with those added).
    ``show(name, value)`` writes a value as the reader reads it."""
    from crm.reports.restatements import list_change, scalar_change

    if framework is None:
        return []
    out = []
    readers = dict(_READERS)
    for name in FIGURE_FIELDS:
        if name not in data:
            continue
        try:
            new = readers[name][0](data[name])
        except v.BadValue:
            continue  # the service reports it
        out.append(
            scalar_change(
                name,
                FRAMEWORK_FIELDS[name],
                getattr(framework, name),
                new,
                lambda value, name=name: show(name, value),
            )
        )
    if "partner_ids" in data:
        out.append(
            list_change(
                "partner_ids",
                FRAMEWORK_FIELDS["partner_ids"],
                [p.id for p in framework.partners],
                _ids(data["partner_ids"]),
                lambda value: show("partner_ids", [value]),
            )
        )
    return out


# --- frameworks ------------------------------------------------------------------


def create_framework(data: Mapping[str, Any], *, actor: Any) -> Framework:
    """A new framework (or, with ``amends_id``, an amendment of one)."""
    if not actor.can(Permission.FRAMEWORKS_EDIT):
        raise PermissionDenied()
    values = _validate(data, framework=None, actor=actor)
    framework = Framework(
        ref=values.pop("ref", None) or next_ref(Framework, REF_PREFIX),
        instrument=values.pop("instrument"),
        status=values.pop("status"),
        confidential=False,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(framework)
    changes = _apply(framework, values)
    db.session.flush()
    changes = {
        "ref": (None, framework.ref),
        "instrument": (None, framework.instrument),
        "status": (None, framework.status),
        **changes,
    }
    record("framework.create", framework, actor=actor, changes=changes)
    if framework.amends_id is not None:
        record(
            "framework.amend",
            object_type="frameworks",
            object_id=framework.amends_id,
            actor=actor,
            details={"amendment_id": framework.id, "kind": framework.amendment_kind},
        )
    return framework


def create_amendment(parent: Framework, data: Mapping[str, Any], *, actor: Any) -> Framework:
    """An amendment, addendum, renewal or extension of ``parent``: same counterparts
    and instrument unless given; never counted as a framework of its own."""
    if not parent.can_edit(actor):
        raise PermissionDenied()
    values = dict(data)
    values["amends_id"] = parent.id
    values.setdefault("partner_ids", [p.id for p in parent.partners])
    values.setdefault("instrument", parent.instrument)
    values.setdefault("confidential", parent.confidential)
    if not can_see_confidential(actor):
        values.pop("confidential", None)
    return create_framework(values, actor=actor)


def update_framework(
    framework: Framework, data: Mapping[str, Any], *, actor: Any, version: Any = None
) -> Framework:
    if not framework.can_edit(actor):
        raise PermissionDenied()
    check_version(framework, version)
    values = _validate(data, framework=framework, actor=actor)
    changes = _apply(framework, values)
    if changes:
        touch_and_flush(framework)
        record("framework.update", framework, actor=actor, changes=changes)
    return framework


def archive_framework(framework: Framework, *, actor: Any, version: Any = None) -> Framework:
    if not framework.can_edit(actor):
        raise PermissionDenied()
    check_version(framework, version)
    if framework.archived_at is None:
        framework.archived_at = utcnow()
        touch_and_flush(framework)
        record("framework.archive", framework, actor=actor)
    return framework


def restore_framework(framework: Framework, *, actor: Any) -> Framework:
    if not (actor.can(Permission.RECORDS_RESTORE) and actor.can(Permission.FRAMEWORKS_EDIT)):
        raise PermissionDenied()
    if framework.archived_at is not None:
        framework.archived_at = None
        touch_and_flush(framework)
        record("framework.restore", framework, actor=actor)
    return framework


def get_framework(framework_id: Any, *, actor: Any) -> Framework:
    """The framework, or NotFound when missing or outside the actor's reach."""
    try:
        framework = db.session.get(Framework, int(framework_id))
    except (TypeError, ValueError):
        framework = None
    if framework is None or not framework.can_view(actor):
        raise NotFound()
    return framework


def visible_counterparts(framework: Framework, *, actor: Any) -> list[Partner]:
    """The counterparts the actor may see (a confidential partner stays hidden)."""
    return [p for p in framework.partners if p.can_view(actor)]


def hidden_counterparts(framework: Framework, *, actor: Any) -> int:
    return len(framework.partners) - len(visible_counterparts(framework, actor=actor))


def framework_query(
    filters: Mapping[str, Any], *, actor: Any, today: date | None = None
) -> Select[Any]:
    """The frameworks matching ``filters`` that ``actor`` may see.

    Filters: ``q``; ``status``, ``instrument``, ``partner_type`` (lists of codes);
    ``signed_year`` (int); ``confidential`` (bool); ``partner`` (a partner id);
    ``responsible`` (a user id); ``missing`` ("ar", "en" or "any");
    ``amendments`` ("include" or "only"; by default amendments are left out, as
    they are not frameworks of their own); ``alert`` ("expiry", "review" or
    "expired_in_force", within ``ALERT_WINDOW_DAYS``); ``ids``; ``archived``.
    """
    stmt = select(Framework)
    if not actor.can(Permission.FRAMEWORKS_VIEW):
        return stmt.where(false())
    if filters.get("archived") and actor.can(Permission.RECORDS_RESTORE):
        stmt = stmt.where(Framework.archived_at.is_not(None))
    else:
        stmt = stmt.where(Framework.archived_at.is_(None))
    if not can_see_confidential(actor):
        stmt = stmt.where(Framework.confidential.is_(False))
    elif filters.get("confidential") is not None:
        stmt = stmt.where(Framework.confidential.is_(bool(filters["confidential"])))
    amendments = filters.get("amendments")
    if amendments == "only":
        stmt = stmt.where(Framework.amends_id.is_not(None))
    elif amendments != "include":
        stmt = stmt.where(Framework.amends_id.is_(None))
    condition = matches(Framework.search_text, filters.get("q"))
    if condition is not None:
        stmt = stmt.where(condition)
    if filters.get("status"):
        stmt = stmt.where(Framework.status.in_(list(filters["status"])))
    if filters.get("instrument"):
        stmt = stmt.where(Framework.instrument.in_(list(filters["instrument"])))
    year = filters.get("signed_year")
    if year:
        stmt = stmt.where(
            Framework.signed_on >= date(year, 1, 1), Framework.signed_on <= date(year, 12, 31)
        )
    if filters.get("partner") is not None:
        # Only through a partner the actor may see: a hidden partner's links are
        # not probed by id.
        partner = db.session.get(Partner, filters["partner"])
        if partner is None or not partner.can_view(actor):
            return stmt.where(false())
        stmt = stmt.where(
            Framework.id.in_(
                select(FrameworkPartner.framework_id).where(
                    FrameworkPartner.partner_id == filters["partner"]
                )
            )
        )
    if filters.get("partner_type"):
        typed = (
            select(FrameworkPartner.framework_id)
            .join(Partner, Partner.id == FrameworkPartner.partner_id)
            .where(Partner.type.in_(list(filters["partner_type"])))
        )
        if not can_see_confidential(actor):
            typed = typed.where(Partner.confidential.is_(False))
        stmt = stmt.where(Framework.id.in_(typed))
    if filters.get("responsible") is not None:
        stmt = stmt.where(Framework.responsible_id == filters["responsible"])
    missing = filters.get("missing")
    if missing == "ar":
        stmt = stmt.where(Framework.title_ar.is_(None))
    elif missing == "en":
        stmt = stmt.where(Framework.title_en.is_(None))
    elif missing == "any":
        stmt = stmt.where(Framework.title_ar.is_(None) | Framework.title_en.is_(None))
    alert = filters.get("alert")
    if alert:
        today = today or clock.today()
        horizon = today + timedelta(days=int(current_app.config["ALERT_WINDOW_DAYS"]))
        stmt = stmt.where(_alert_condition(alert, today, horizon))
    if filters.get("ids") is not None:
        stmt = stmt.where(Framework.id.in_(list(filters["ids"])))
    return stmt


def effective_expiries(frameworks: list[Framework], on: date) -> dict[int, date | None]:
    """{framework id: effective expiry at ``on``} for a page of frameworks, in one
    query (domain.md: extensions and renewals set it)."""
    ids = [f.id for f in frameworks]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Framework.id, counting.effective_expiry(on)).where(Framework.id.in_(ids))
    ).all()
    return {framework_id: v.to_date(day) for framework_id, day in rows}


def frameworks_of_partner(partner: Partner, *, actor: Any) -> list[Framework]:
    stmt = framework_query({"partner": partner.id, "amendments": "include"}, actor=actor)
    return list(
        db.session.execute(
            stmt.order_by(Framework.signed_on.desc(), Framework.id.desc()).limit(200)
        ).scalars()
    )


# --- alerts ----------------------------------------------------------------------

ALERT_KINDS = ("expiry", "review", "expired_in_force")
_EXPIRY_STATUSES = (FrameworkStatus.IN_FORCE, FrameworkStatus.SUSPENDED)
_REVIEW_STATUSES = (
    FrameworkStatus.DRAFT,
    FrameworkStatus.NEGOTIATION,
    FrameworkStatus.IN_FORCE,
    FrameworkStatus.SUSPENDED,
)


def _alert_condition(kind: str, today: date, horizon: date) -> Any:
    """Expiry alerts read the *effective* expiry (domain.md: the latest concluded
    extension or renewal signed by today, else the framework's own date) and are
    raised on the framework itself, never on its extensions."""
    if kind == "expiry":
        expiry = counting.effective_expiry(today)
        return (
            Framework.status.in_(_EXPIRY_STATUSES)
            & Framework.amends_id.is_(None)
            & expiry.between(today, horizon)
        )
    if kind == "review":
        return Framework.status.in_(_REVIEW_STATUSES) & (Framework.next_review_on <= horizon)
    if kind == "expired_in_force":
        expiry = counting.effective_expiry(today)
        return (
            (Framework.status == FrameworkStatus.IN_FORCE)
            & Framework.amends_id.is_(None)
            & (expiry < today)
        )
    return false()


def _alert_dates(kind: str, today: date) -> Any:
    return Framework.next_review_on if kind == "review" else counting.effective_expiry(today)


@dataclass
class Alerts:
    expiry: list[Framework] = field(default_factory=list)
    review: list[Framework] = field(default_factory=list)
    expired_in_force: list[Framework] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    window_days: int = 90
    # (kind, framework id) -> the date the alert is about (effective expiry or review)
    dates: dict[tuple[str, int], date] = field(default_factory=dict)

    def date_of(self, kind: str, framework: Framework) -> date | None:
        return self.dates.get((kind, framework.id))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def framework_alerts(
    *, actor: Any, today: date | None = None, window_days: int | None = None, limit: int = 100
) -> Alerts:
    """Frameworks the actor may see that expire or are due for review within the
    window, and those past their expiry date whose status still says in force."""
    today = today or clock.today()
    window = (
        window_days if window_days is not None else int(current_app.config["ALERT_WINDOW_DAYS"])
    )
    horizon = today + timedelta(days=window)
    base = framework_query({"amendments": "include"}, actor=actor)
    found = Alerts(window_days=window)
    for kind in ALERT_KINDS:
        stmt = base.where(_alert_condition(kind, today, horizon))
        found.counts[kind] = count_rows(stmt)
        when = _alert_dates(kind, today)
        rows = db.session.execute(
            stmt.add_columns(when).order_by(when, Framework.id).limit(limit)
        ).all()
        setattr(found, kind, [row[0] for row in rows])
        for framework, day in rows:
            found.dates[(kind, framework.id)] = v.to_date(day)
    return found


def _alert_title(kind: str, framework: Framework, when: date) -> str:
    if kind == "expiry":
        return _(
            "Framework %(ref)s expires on %(date)s: renew, extend or let it end",
            ref=framework.ref,
            date=format_date(when),
        )
    if kind == "review":
        return _(
            "Framework %(ref)s is due for review on %(date)s",
            ref=framework.ref,
            date=format_date(when),
        )
    return _(
        "Framework %(ref)s expired on %(date)s but its status says in force: update it",
        ref=framework.ref,
        date=format_date(when),
    )


def raise_framework_alerts(
    today: date | None = None, *, window_days: int | None = None
) -> list[FollowUp]:
    """Raise one follow-up per framework and reason for the responsible staff member.

    Idempotent: each follow-up carries an ``auto_key`` naming the framework, the
    reason and the date, so running this again (daily, from cron) adds nothing; a
    new expiry or review date raises a new one.
    """
    today = today or clock.today()
    window = (
        window_days if window_days is not None else int(current_app.config["ALERT_WINDOW_DAYS"])
    )
    horizon = today + timedelta(days=window)
    candidates: list[tuple[str, Framework, date]] = []
    for kind in ALERT_KINDS:
        stmt = (
            select(Framework, _alert_dates(kind, today))
            .where(Framework.archived_at.is_(None), _alert_condition(kind, today, horizon))
            .order_by(Framework.id)
        )
        for framework, when in db.session.execute(stmt).all():
            candidates.append((kind, framework, v.to_date(when)))
    keys = {
        f"framework:{fw.id}:{kind}:{when.isoformat()}": (kind, fw, when)
        for kind, fw, when in candidates
    }
    if not keys:
        return []
    existing = set(
        db.session.execute(
            select(FollowUp.auto_key).where(FollowUp.auto_key.in_(list(keys)))
        ).scalars()
    )
    created = []
    for key, (kind, framework, when) in keys.items():
        if key in existing:
            continue
        assignee = (
            framework.responsible
            if framework.responsible and framework.responsible.active
            else None
        )
        language = assignee.locale if assignee else current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(language):
            title = _alert_title(kind, framework, when)[:300]
        follow_up = FollowUp(
            title=title,
            status=FollowUpStatus.OPEN,
            due_on=today if kind == "expired_in_force" else when,
            assignee_id=assignee.id if assignee else None,
            framework_id=framework.id,
            auto_key=key,
        )
        db.session.add(follow_up)
        db.session.flush()
        record(
            "follow_up.create",
            follow_up,
            actor=None,
            details={"framework_id": framework.id, "reason": kind, "auto": True},
        )
        created.append(follow_up)
    return created


def open_follow_ups(
    *, framework_ids: list[int] | None = None, partner_id: int | None = None, actor: Any
) -> list[FollowUp]:
    if not actor.can(Permission.FOLLOWUPS_VIEW):
        return []
    stmt = select(FollowUp).where(
        FollowUp.status == FollowUpStatus.OPEN, FollowUp.archived_at.is_(None)
    )
    if partner_id is not None:
        stmt = stmt.where(FollowUp.partner_id == partner_id)
    if framework_ids is not None:
        if not framework_ids:
            return []
        stmt = stmt.where(FollowUp.framework_id.in_(framework_ids))
    return list(
        db.session.execute(stmt.order_by(FollowUp.due_on, FollowUp.id).limit(100)).scalars()
    )


# --- documents -------------------------------------------------------------------

ALLOWED_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
    "jpg": "image/jpeg",
}
MSG_FILE_TYPE = _l("Attach a PDF, a Word document (DOCX), or a PNG or JPEG image.")
MSG_FILE_SIZE = _l("The file is larger than %(size)s MB.")
MSG_FILE_EMPTY = _l("Choose a file to attach.")
MSG_FILE_IMAGE = _l("The image cannot be read.")
_UNSAFE_NAME = re.compile(r'[<>:"/\\|?*;]')


def sniff(data: bytes) -> str | None:
    """The file's type from its content (never its name): pdf, docx, png, jpg or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
            return "docx"
    return None


def strip_image_metadata(data: bytes, kind: str) -> bytes:
    """Re-save the pixels only: EXIF (GPS, camera, author), XMP, ICC and text chunks go."""
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                expected = {"png": "PNG", "jpg": "JPEG"}[kind]
                if image.format != expected:
                    raise v.BadValue(kind)
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
                if upright.mode == "P" and upright.getpalette():
                    clean.putpalette(upright.getpalette())
                options: dict[str, Any] = {}
                if kind == "png" and "transparency" in upright.info:
                    options["transparency"] = upright.info["transparency"]
                if kind == "jpg":
                    if clean.mode not in ("L", "RGB", "CMYK"):
                        clean = clean.convert("RGB")
                    options["quality"] = 92
                out = io.BytesIO()
                clean.save(out, format=expected, **options)
                return out.getvalue()
        except (
            OSError,
            ValueError,
            SyntaxError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
        ) as exc:
            raise v.BadValue(kind) from exc


def safe_filename(name: str | None, extension: str) -> str:
    """A file name for the download: no path, no control or direction characters,
    the extension of the type found in the content."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(" " if ch.isspace() else ch for ch in name if not has_control_characters(ch))
    name = _UNSAFE_NAME.sub("_", name)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"\s+", " ", stem).strip(" ._-")[:120].strip()
    return f"{stem or 'document'}.{extension}"


def uploads_folder() -> Path:
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def document_path(document: FrameworkDocument) -> Path:
    return uploads_folder() / document.stored_name


def _read_upload(file_storage: Any, limit: int) -> bytes:
    stream = getattr(file_storage, "stream", file_storage)
    data = stream.read(limit + 1)
    return data if isinstance(data, bytes) else bytes(data)


def add_document(framework: Framework, file_storage: Any, *, actor: Any) -> FrameworkDocument:
    """Attach a signed document after checking its content and size.

    Everything is checked in memory before a byte is written: a refused file leaves
    nothing in the uploads folder. Images lose their metadata (EXIF, GPS).
    """
    if not framework.can_edit(actor):
        raise PermissionDenied()
    max_mb = int(current_app.config["MAX_UPLOAD_MB"])
    limit = max_mb * 1024 * 1024
    data = _read_upload(file_storage, limit) if file_storage is not None else b""
    if not data:
        raise ValidationError({"document": [MSG_FILE_EMPTY]})
    if len(data) > limit:
        raise ValidationError(
            {"document": [_l("The file is larger than %(size)s MB.", size=max_mb)]}
        )
    kind = sniff(data)
    if kind is None:
        raise ValidationError({"document": [MSG_FILE_TYPE]})
    if kind in ("png", "jpg"):
        try:
            data = strip_image_metadata(data, kind)
        except v.BadValue as exc:
            raise ValidationError({"document": [MSG_FILE_IMAGE]}) from exc
    stored_name = secrets.token_hex(32)
    path = uploads_folder() / stored_name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        _remember_new_file(path)
        document = FrameworkDocument(
            framework=framework,
            original_name=safe_filename(getattr(file_storage, "filename", None), kind),
            stored_name=stored_name,
            content_type=ALLOWED_TYPES[kind],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by_id=getattr(actor, "id", None),
        )
        db.session.add(document)
        db.session.flush()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    record(
        "framework.document_add",
        framework,
        actor=actor,
        details={
            "document_id": document.id,
            "sha256": document.sha256,
            "type": kind,
            "size": document.size,
        },
    )
    return document


def get_document(framework: Framework, document_id: Any, *, actor: Any) -> FrameworkDocument:
    if not framework.can_view(actor):
        raise NotFound()
    try:
        document = db.session.get(FrameworkDocument, int(document_id))
    except (TypeError, ValueError):
        document = None
    if document is None or document.framework_id != framework.id or document.removed_at is not None:
        raise NotFound()
    return document


def remove_document(document: FrameworkDocument, *, actor: Any) -> FrameworkDocument:
    """Out of the framework's page; the stored file is kept (nothing is deleted)."""
    if not document.framework.can_edit(actor):
        raise PermissionDenied()
    if document.removed_at is None:
        document.removed_at = utcnow()
        db.session.flush()
        record(
            "framework.document_remove",
            document.framework,
            actor=actor,
            details={"document_id": document.id, "sha256": document.sha256},
        )
    return document


def active_documents(framework: Framework) -> list[FrameworkDocument]:
    return [d for d in framework.documents if d.removed_at is None]


# A file written in a transaction that then rolls back would be an orphan.
def _remember_new_file(path: Path) -> None:
    db.session.info.setdefault("crm_new_files", []).append(str(path))


@event.listens_for(Session, "after_commit")
def _forget_new_files(session: Session) -> None:
    session.info.pop("crm_new_files", None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_new_files(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is not None:
        return
    for name in session.info.pop("crm_new_files", []):
        Path(name).unlink(missing_ok=True)
