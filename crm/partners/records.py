"""What partners and frameworks share: references, version checks, the history of a
record from the audit trail, and the side-by-side rows of a conflict page."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text
from sqlalchemy.orm.exc import StaleDataError

from crm import clock
from crm.audit.models import AuditEntry
from crm.auth.models import User
from crm.db import utcnow
from crm.errors import ConflictError
from crm.extensions import db

# Control and bidirectional formatting characters (U+202A–U+202E, U+2066–U+2069…)
# disguise text; they never belong in a reference or a file name.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def has_control_characters(value: str) -> bool:
    return any(ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def next_ref(model: Any, prefix: str, *, today: date | None = None) -> str:
    """The next free reference such as ``P-2025-0042`` for a record made without one."""
    year = (today or clock.today()).year
    base = f"{prefix}-{year}-"
    if db.session.get_bind().dialect.name == "postgresql":
        # Two requests must not pick the same number (SQLite: BEGIN IMMEDIATE already
        # serialises writers).
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": base})
    count = db.session.execute(
        select(func.count()).select_from(model).where(model.ref.like(f"{base}%"))
    ).scalar_one()
    number = count + 1
    while db.session.execute(select(model.id).where(model.ref == f"{base}{number:04d}")).first():
        number += 1
    return f"{base}{number:04d}"


def check_version(obj: Any, version: Any) -> None:
    """Optimistic locking: ``version`` None skips the check (importer, CLI)."""
    if version is None or version == "":
        return
    try:
        given = int(version)
    except (TypeError, ValueError):
        given = -1
    if given != obj.version:
        raise ConflictError(current=obj)


def touch_and_flush(obj: Any) -> None:
    """Write the row (so its version moves even when only a link changed) and turn a
    concurrent save, caught by the version column, into a conflict."""
    obj.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise ConflictError(current=obj) from exc


# --- history ---------------------------------------------------------------------

ACTION_LABELS: dict[str, Any] = {
    "partner.create": _l("Created"),
    "partner.update": _l("Changed"),
    "partner.archive": _l("Archived"),
    "partner.restore": _l("Restored"),
    "contact.create": _l("Contact person added"),
    "contact.update": _l("Contact person changed"),
    "contact.archive": _l("Contact person removed"),
    "framework.create": _l("Created"),
    "framework.update": _l("Changed"),
    "framework.archive": _l("Archived"),
    "framework.restore": _l("Restored"),
    "framework.amend": _l("Amendment recorded"),
    "framework.document_add": _l("Document attached"),
    "framework.document_remove": _l("Document removed"),
    "follow_up.create": _l("Follow-up raised"),
}


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str | None
    action: str
    label: Any
    fields: list[Any]


def history(
    targets: Sequence[tuple[str, Iterable[int]]],
    field_labels: Mapping[str, Any],
    *,
    limit: int = 50,
) -> list[HistoryEntry]:
    """Audit entries of the given (object_type, ids), newest first: who, when, what
    action and which fields changed, never the values."""
    conditions = []
    for object_type, ids in targets:
        ids = list(ids)
        if ids:
            conditions.append(
                (AuditEntry.object_type == object_type) & (AuditEntry.object_id.in_(ids))
            )
    if not conditions:
        return []
    from sqlalchemy import or_

    rows = db.session.execute(
        select(AuditEntry, User.name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(or_(*conditions))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()
    entries = []
    for entry, actor_name in rows:
        try:
            details = json.loads(entry.details or "{}")
        except ValueError:
            details = {}
        changed = details.get("changes") or {}
        fields = [field_labels.get(name, name) for name in changed if name in field_labels]
        entries.append(
            HistoryEntry(
                at=entry.at,
                actor=actor_name,
                action=entry.action,
                label=ACTION_LABELS.get(entry.action, entry.action),
                fields=fields,
            )
        )
    return entries


# --- conflicts -------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictRow:
    label: Any
    yours: Any
    saved: Any

    @property
    def differs(self) -> bool:
        return self.yours != self.saved


def conflict_rows(
    labels: Mapping[str, Any], yours: Mapping[str, Any], saved: Mapping[str, Any]
) -> list[ConflictRow]:
    """One row per field: the value the user typed and the one saved meanwhile."""
    return [
        ConflictRow(label, yours.get(name), saved.get(name))
        for name, label in labels.items()
        if name in yours or name in saved
    ]
